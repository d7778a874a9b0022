"""Razorpay: ``X-Razorpay-Signature: <hex>``; the razorpay SDK as an oracle.

Docs: https://razorpay.com/docs/webhooks/validate-test/ . No published vector: derived, and
compared with razorpay's ``Utility.verify_webhook_signature`` (it verifies; it does not sign).
"""

from __future__ import annotations

import pytest
from body_hmac_contract import JSON_TEXT, SECRETS, BodyHMACContract, sdk
from hypothesis import given

from hookseal import SignatureMismatch, Signer, Verifier
from hookseal.schemes.razorpay import Razorpay


class TestRazorpayContract(BodyHMACContract):
    scheme_class = Razorpay
    name = "razorpay"
    header = "X-Razorpay-Signature"
    id_header = "x-razorpay-event-id"
    secret = "razorpay-webhook-secret"


# -- razorpay SDK as an oracle (it verifies, it does not sign) -----------------------------


@given(secret=SECRETS, body=JSON_TEXT)
def test_hookseal_signs_sdk_verifies(secret: str, body: str) -> None:
    razorpay = sdk("razorpay")
    utility = razorpay.Utility(razorpay.Client(auth=("key_id", "key_secret")))
    raw = body.encode("utf-8")
    signature = Signer(Razorpay(), secret=secret).sign(raw)["X-Razorpay-Signature"]
    assert utility.verify_webhook_signature(body, signature, secret) is True
    Verifier(Razorpay(), [secret], nonce_store=None).verify(
        raw, {"X-Razorpay-Signature": signature}
    )
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    with pytest.raises(razorpay.errors.SignatureVerificationError):
        utility.verify_webhook_signature(body, forged, secret)
    with pytest.raises(SignatureMismatch):
        Verifier(Razorpay(), [secret], nonce_store=None).verify(
            raw, {"X-Razorpay-Signature": forged}
        )
