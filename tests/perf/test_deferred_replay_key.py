"""The replay key computed on demand is the same digest an eager construction would hold."""

from __future__ import annotations

import base64
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import Signer, Verified, Verifier
from hookseal.schemes import GitHub, Slack, StandardWebhooks, Stripe
from hookseal.schemes.base import Scheme, make_replay_key

NOW = 1_700_000_000
TEXT_SECRET = "whsec_text_secret_for_tests"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()


class RecordingStore:
    def __init__(self) -> None:
        self.keys: list[bytes] = []

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        self.keys.append(key)
        return True


def expected_key(scheme: Scheme, body: bytes, headers: dict[str, str], secret: str) -> bytes:
    """The documented material, computed independently of hookseal's HMAC code."""
    raw = secret.encode()
    if isinstance(scheme, StandardWebhooks):
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        material = hmac.digest(base64.b64decode(secret[6:]), signed, "sha256")
    elif isinstance(scheme, Stripe):
        ts = headers["Stripe-Signature"].split(",")[0][2:]
        material = hmac.digest(raw, f"{ts}.".encode() + body, "sha256")
    elif isinstance(scheme, Slack):
        ts = headers["X-Slack-Request-Timestamp"]
        material = hmac.digest(raw, f"v0:{ts}:".encode() + body, "sha256")
    else:
        material = hmac.digest(raw, body, "sha256")
    return make_replay_key(scheme.name, material)


SCHEMES = [
    (StandardWebhooks(), STANDARD_SECRET),
    (Stripe(), TEXT_SECRET),
    (Slack(), TEXT_SECRET),
    (GitHub(), TEXT_SECRET),
]


@pytest.mark.parametrize(("scheme", "secret"), SCHEMES, ids=lambda s: getattr(s, "name", ""))
@given(
    body=st.binary(max_size=500),
    msg_id=st.from_regex(r"msg_[A-Za-z0-9_-]{1,40}", fullmatch=True),
)
def test_the_store_receives_the_digest_of_the_signed_material(
    scheme: Scheme, secret: str, body: bytes, msg_id: str
) -> None:
    headers = Signer(scheme, secret).sign(body, timestamp=NOW, msg_id=msg_id)
    store = RecordingStore()
    verified = Verifier(scheme, [secret], nonce_store=store).verify(body, headers, now=NOW)
    expected = expected_key(scheme, body, headers, secret)
    assert store.keys == [expected]
    assert verified.replay_key == expected
    assert len(verified.replay_key) == 16


def test_without_a_store_the_key_is_still_available_and_stable() -> None:
    body = b"{}"
    headers = Signer(StandardWebhooks(), STANDARD_SECRET).sign(body, timestamp=NOW, msg_id="m1")
    verified = Verifier(StandardWebhooks(), [STANDARD_SECRET], nonce_store=None).verify(
        body, headers, now=NOW
    )
    first = verified.replay_key
    mac = hmac.digest(base64.b64decode(STANDARD_SECRET[6:]), b"m1.1700000000." + body, "sha256")
    assert first == verified.replay_key == make_replay_key("standard-webhooks", mac)


def test_the_public_constructor_takes_a_key_or_material() -> None:
    verified = Verified(b"x", timestamp=1, msg_id="a", key_index=0, scheme="s", replay_key=b"k")
    assert verified.replay_key == b"k"
    assert verified.replay_keys == (b"k",)
    derived = Verified(
        b"x", timestamp=1, msg_id="a", key_index=0, scheme="s", replay_material=[b"b", b"a"]
    )
    assert derived.replay_keys == tuple(sorted(make_replay_key("s", m) for m in (b"a", b"b")))
    assert Verified(b"x", timestamp=1, msg_id="a", key_index=0, scheme="s").replay_keys == ()
