"""Checkout.com: ``Cko-Signature: <hex>``.

Docs: https://www.checkout.com/docs/developer-resources/webhooks/manage-webhooks . No
published vector: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.checkout import CheckoutCom


class TestCheckoutComContract(BodyHMACContract):
    scheme_class = CheckoutCom
    name = "checkout-com"
    header = "Cko-Signature"
    secret = "checkout-secret-key"
