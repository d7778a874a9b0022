"""The unsigned-timestamp guard: refused by default, allowed explicitly with a weaker bound.

A timestamp the signature does not cover protects nothing: whoever replays a captured
delivery simply sends a fresh one. HMACScheme refuses that configuration at construction;
with ``allow_unsigned_timestamp=True`` the replay key falls back to the signature, so the
same body and signature are refused a second time whatever timestamp comes with them.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hookseal import (
    ConfigurationError,
    ReplayedDelivery,
    Signer,
    TimestampOutOfTolerance,
    VerificationEvent,
    Verifier,
)
from hookseal.schemes import HMACScheme
from hookseal.schemes.base import make_replay_key

NOW = 1_700_000_000
SECRET = "guard-secret-0123456789abcdef"
BODY = b'{"job":"nightly-report","run":1}'


@pytest.mark.parametrize(
    "template", ["{body}", "{id}.{body}", "v1:{body}"], ids=["body", "id-body", "literal"]
)
def test_unsigned_timestamp_header_is_refused_with_an_explanation(template: str) -> None:
    options: dict[str, str] = {"template": template, "timestamp_header": "X-Timestamp"}
    if "{id}" in template:
        options["id_header"] = "X-Id"
    with pytest.raises(ConfigurationError) as caught:
        HMACScheme("X-Signature", **options)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "X-Timestamp" in message
    assert "not covered by the template" in message
    assert "protects nothing" in message
    assert "replaying a captured delivery" in message
    assert "allow_unsigned_timestamp=True" in message
    assert "template='{timestamp}.{body}'" in message  # the fix is named


def test_a_signed_timestamp_needs_no_opt_in() -> None:
    scheme = HMACScheme(
        "X-Signature", timestamp_header="X-Timestamp", template="{timestamp}.{body}"
    )
    assert scheme.signs_timestamp is True


def _allowed() -> HMACScheme:
    return HMACScheme("X-Signature", timestamp_header="X-Timestamp", allow_unsigned_timestamp=True)


def test_allowed_explicitly_the_replay_key_is_the_signature() -> None:
    scheme = _allowed()
    assert scheme.signs_timestamp is False
    headers = Signer(scheme, SECRET).sign(BODY, timestamp=NOW)
    mac = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    assert headers["X-Signature"] == mac.hex()  # the body alone is signed
    verified = Verifier(scheme, SECRET).verify(BODY, headers, now=NOW)
    assert verified.timestamp is None  # not signed, so not reported as a verified timestamp
    assert verified.replay_key == make_replay_key("hmac", mac)


def test_same_body_and_signature_with_a_fresh_unsigned_timestamp_is_a_replay() -> None:
    scheme = _allowed()
    events: list[VerificationEvent] = []
    verifier = Verifier(scheme, SECRET, on_event=events.append)
    first = Signer(scheme, SECRET).sign(BODY, timestamp=NOW)
    verifier.verify(BODY, first, now=NOW)
    # The attacker replays the captured delivery an hour later with a fresh timestamp: the
    # window passes (the header is "fresh"), the signature still matches (it never covered
    # the timestamp), and only the signature-based replay key stops it.
    later = NOW + 3600
    replay = dict(first, **{"X-Timestamp": str(later)})
    assert replay["X-Signature"] == first["X-Signature"]
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, replay, now=later)
    assert [e.outcome for e in events] == ["accepted", "rejected"]
    assert events[0].timestamp is None
    assert events[1].reason == "replayed"


def test_the_bound_is_the_store_retention_not_the_window() -> None:
    scheme = _allowed()
    verifier = Verifier(scheme, SECRET, replay_retention=600)
    headers = Signer(scheme, SECRET).sign(BODY, timestamp=NOW)
    verifier.verify(BODY, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, dict(headers, **{"X-Timestamp": str(NOW + 599)}), now=NOW + 599)
    # Past the retention the same captured delivery is accepted again: the weaker guarantee
    # the docs describe (sign the timestamp to bound replays by the window instead).
    again = verifier.verify(BODY, dict(headers, **{"X-Timestamp": str(NOW + 601)}), now=NOW + 601)
    assert again.body == BODY


def test_the_unsigned_timestamp_is_still_checked_against_the_window() -> None:
    scheme = _allowed()
    headers = Signer(scheme, SECRET).sign(BODY, timestamp=NOW - 301)
    with pytest.raises(TimestampOutOfTolerance):
        Verifier(scheme, SECRET).verify(BODY, headers, now=NOW)


def test_a_different_body_is_a_different_delivery() -> None:
    scheme = _allowed()
    verifier = Verifier(scheme, SECRET)
    signer = Signer(scheme, SECRET)
    verifier.verify(BODY, signer.sign(BODY, timestamp=NOW), now=NOW)
    other = BODY.replace(b"1", b"2")
    assert verifier.verify(other, signer.sign(other, timestamp=NOW), now=NOW).body == other
