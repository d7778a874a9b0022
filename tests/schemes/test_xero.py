"""Xero: ``x-xero-signature: <base64>``.

Docs: https://developer.xero.com/documentation/guides/webhooks/configuring-your-server/ . No
published vector: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.xero import Xero


class TestXeroContract(BodyHMACContract):
    scheme_class = Xero
    name = "xero"
    header = "x-xero-signature"
    encoding = "base64"
    secret = "xero-webhooks-key"
