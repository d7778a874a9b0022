"""LINE Messaging API: ``x-line-signature: <base64>``; line-bot-sdk as an oracle.

Docs: https://developers.line.biz/en/docs/messaging-api/receiving-messages/#verify-signature .
No published vector: derived, and compared with linebot.v3.webhook.SignatureValidator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from body_hmac_contract import JSON_TEXT, SECRETS, BodyHMACContract, sdk
from hypothesis import given

from hookseal import SignatureMismatch, Signer, Verifier
from hookseal.schemes.line import Line


class TestLineContract(BodyHMACContract):
    scheme_class = Line
    name = "line"
    header = "x-line-signature"
    encoding = "base64"
    secret = "line-channel-secret"


# -- line-bot-sdk as an oracle: SignatureValidator, both directions -------------------------

HEADER = "x-line-signature"


@given(secret=SECRETS, body=JSON_TEXT)
def test_sdk_and_hookseal_agree_both_directions(secret: str, body: str) -> None:
    webhook = sdk("linebot.v3.webhook")
    validator = webhook.SignatureValidator(secret)
    raw = body.encode("utf-8")
    signature = Signer(Line(), secret=secret).sign(raw)["x-line-signature"]
    assert validator.validate(body, signature) is True
    # The SDK's validator is the documented computation; what it accepts, hookseal accepts.
    documented = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    assert validator.validate(body, documented) is True
    Verifier(Line(), [secret], nonce_store=None).verify(raw, {HEADER: documented})
    other = Signer(Line(), secret=secret + "x").sign(raw)["x-line-signature"]
    assert validator.validate(body, other) is False
    with pytest.raises(SignatureMismatch):
        Verifier(Line(), [secret], nonce_store=None).verify(raw, {HEADER: other})
