"""Intuit QuickBooks Online: ``intuit-signature: <base64>``.

Docs:
https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/managing-webhooks-notifications
No published vector: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.intuit import QuickBooks


class TestQuickBooksContract(BodyHMACContract):
    scheme_class = QuickBooks
    name = "quickbooks"
    header = "intuit-signature"
    encoding = "base64"
    secret = "intuit-verifier-token"
