"""Paystack: ``x-paystack-signature: <hex>`` (HMAC-SHA512).

Docs: https://paystack.com/docs/payments/webhooks/#verify-event-origin . No published vector
and no official Python SDK: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.paystack import Paystack


class TestPaystackContract(BodyHMACContract):
    scheme_class = Paystack
    name = "paystack"
    header = "x-paystack-signature"
    algorithm = "sha512"
    secret = "sk_test_paystack_secret"
