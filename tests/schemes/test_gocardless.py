"""GoCardless: ``Webhook-Signature: <hex>``; gocardless-pro as an oracle.

Docs: https://developer.gocardless.com/getting-started/staying-up-to-date-with-webhooks . No
published vector used here: derived, and compared with gocardless_pro.webhooks.parse.
"""

from __future__ import annotations

import json

import pytest
from body_hmac_contract import SECRETS, BodyHMACContract, sdk
from hypothesis import given
from hypothesis import strategies as st

from hookseal import SignatureMismatch, Signer, Verifier
from hookseal.schemes.gocardless import GoCardless


class TestGoCardlessContract(BodyHMACContract):
    scheme_class = GoCardless
    name = "gocardless"
    header = "Webhook-Signature"
    secret = "gocardless-endpoint-secret"


# -- gocardless-pro as an oracle (it verifies; its signing half is the documented HMAC) -----

HEADER = "Webhook-Signature"


@given(secret=SECRETS, note=st.text(max_size=64))
def test_hookseal_signs_sdk_verifies(secret: str, note: str) -> None:
    webhooks = sdk("gocardless_pro.webhooks")
    errors = sdk("gocardless_pro.errors")
    raw = json.dumps(
        {"events": [{"id": "EV123", "action": "created", "details": {"note": note}}]},
        ensure_ascii=False,
    ).encode("utf-8")
    signature = Signer(GoCardless(), secret=secret).sign(raw)[HEADER]
    events = webhooks.parse(raw, secret, signature)
    assert [event.id for event in events] == ["EV123"]
    Verifier(GoCardless(), [secret], nonce_store=None).verify(raw, {HEADER: signature})
    tampered = raw.replace(b"EV123", b"EV124")
    with pytest.raises(errors.InvalidSignatureError):
        webhooks.parse(tampered, secret, signature)
    with pytest.raises(SignatureMismatch):
        Verifier(GoCardless(), [secret], nonce_store=None).verify(tampered, {HEADER: signature})
