"""Clerk, Resend, Replicate, OpenAI and Brex: Standard Webhooks senders, through StandardWebhooks.

Each sender's documented header spelling and ``whsec_`` secret form, verified by the one scheme
(derived from each sender's docs; the specification's own vectors live in
test_standard_webhooks.py), with the ``svix`` SDK as the oracle for the headers it reads.
"""

from __future__ import annotations

import importlib
import os
import time
from types import ModuleType

import pytest

from hookseal import MissingHeader, SignatureMismatch, Signer, Verifier
from hookseal.schemes import StandardWebhooks


def _sdk(name: str) -> ModuleType:
    """The provider's SDK: skipped locally when absent, a failure under CI=true."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name)


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_700_000_000
BODY = b'{"type":"user.created","data":{"id":"user_1"}}'
SENDERS = {
    "clerk": ("svix-id", "svix-timestamp", "svix-signature"),
    "resend": ("svix-id", "svix-timestamp", "svix-signature"),
    "replicate": ("webhook-id", "webhook-timestamp", "webhook-signature"),
    "openai": ("webhook-id", "webhook-timestamp", "webhook-signature"),
    "brex": ("Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"),
}


def _as_sent(sender: str, msg_id: str = "msg_2Lh9KRb0pzN4LePd3XiA4bTMvYX") -> dict[str, str]:
    signed = Signer(StandardWebhooks(), SECRET).sign(BODY, timestamp=NOW, msg_id=msg_id)
    names = SENDERS[sender]
    return {
        names[0]: signed["webhook-id"],
        names[1]: signed["webhook-timestamp"],
        names[2]: signed["webhook-signature"],
    }


@pytest.mark.parametrize("sender", sorted(SENDERS))
def test_each_sender_verifies_with_its_header_spelling(sender: str) -> None:
    verified = Verifier(StandardWebhooks(), [SECRET], nonce_store=None).verify(
        BODY, _as_sent(sender), now=NOW
    )
    assert verified.scheme == "standard-webhooks"
    assert verified.msg_id == "msg_2Lh9KRb0pzN4LePd3XiA4bTMvYX"


@pytest.mark.parametrize("sender", sorted(SENDERS))
def test_each_sender_refuses_a_tampered_body(sender: str) -> None:
    with pytest.raises(SignatureMismatch):
        Verifier(StandardWebhooks(), [SECRET]).verify(BODY + b" ", _as_sent(sender), now=NOW)


def test_svix_sdk_accepts_what_the_svix_senders_send() -> None:
    svix = _sdk("svix.webhooks")
    # The SDK checks the timestamp against the real clock: sign one for now.
    now = int(time.time())
    signed = Signer(StandardWebhooks(), SECRET).sign(BODY, timestamp=now, msg_id="msg_1")
    headers = {"svix-id": "msg_1", "svix-timestamp": str(now)}
    headers["svix-signature"] = signed["webhook-signature"]
    svix.Webhook(SECRET).verify(BODY, headers)  # raises WebhookVerificationError if refused
    tampered = {**headers, "svix-timestamp": str(now + 1)}
    with pytest.raises(svix.WebhookVerificationError):
        svix.Webhook(SECRET).verify(BODY, tampered)
    assert Verifier(StandardWebhooks(), [SECRET], nonce_store=None).verify(BODY, headers)


def test_the_secret_is_base64_decoded_not_used_as_text() -> None:
    # Stripe-style use of the same text as a raw key must not verify (a common mix-up).
    import hashlib
    import hmac

    from hookseal._encoding import encode_base64

    message = f"msg_1.{NOW}.".encode() + BODY
    as_text = encode_base64(hmac.new(SECRET.encode(), message, hashlib.sha256).digest())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(NOW),
        "webhook-signature": "v1," + as_text,
    }
    with pytest.raises(SignatureMismatch):
        Verifier(StandardWebhooks(), [SECRET]).verify(BODY, headers, now=NOW)


def test_a_secret_pasted_without_its_prefix_is_refused_at_construction() -> None:
    from hookseal import ConfigurationError

    with pytest.raises(ConfigurationError):
        Verifier(StandardWebhooks(), [SECRET.removeprefix("whsec_")])


def test_mixed_families_are_not_combined() -> None:
    clerk = _as_sent("clerk")
    replicate = _as_sent("replicate")
    mixed = {"svix-id": clerk["svix-id"], "svix-timestamp": clerk["svix-timestamp"]}
    mixed["webhook-signature"] = replicate["webhook-signature"]
    # webhook-signature selects the webhook-* family, whose id and timestamp are missing.
    with pytest.raises(MissingHeader):
        Verifier(StandardWebhooks(), [SECRET]).verify(BODY, mixed, now=NOW)
