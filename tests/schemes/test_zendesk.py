"""Zendesk: base64 HMAC-SHA256 of ``<RFC 3339 timestamp><body>``.

Zendesk publishes its test-delivery secret (``dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==``)
but no body/signature example, and no Python SDK that verifies webhooks: these tests are
derived from the algorithm as documented at
https://developer.zendesk.com/documentation/webhooks/verifying/ ("derived").
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac

import pytest

from hookseal import (
    ConfigurationError,
    Headers,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal.schemes.zendesk import TEST_SECRET, Zendesk
from hookseal.stores.memory import MemoryNonceStore

SECRET = "webhook-signing-secret"
RAW_TS = "2021-10-06T22:21:36Z"
NOW = calendar.timegm((2021, 10, 6, 22, 21, 36, 0, 0, 0))
BODY = b'{"ticket":{"id":35436,"subject":"Help"}}'
SIG, TS = "X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp"


def _headers(secret: str = SECRET, raw_ts: str = RAW_TS, body: bytes = BODY) -> dict[str, str]:
    mac = hmac.new(secret.encode(), raw_ts.encode() + body, hashlib.sha256).digest()
    return {SIG: base64.b64encode(mac).decode(), TS: raw_ts}


def _verifier(secrets: object = SECRET, **options: object) -> Verifier:
    return Verifier(Zendesk(), secrets, **options)  # type: ignore[arg-type]


def test_documented_algorithm_verifies() -> None:
    verified = _verifier().verify(BODY, _headers(), now=NOW)
    assert verified.scheme == "zendesk"
    assert verified.timestamp == NOW


def test_signer_round_trip() -> None:
    assert Signer(Zendesk(), SECRET).sign(BODY, timestamp=NOW) == _headers()


def test_the_published_test_secret_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigurationError):
        _verifier(TEST_SECRET)
    allowed = Verifier(Zendesk(allow_test_secret=True), TEST_SECRET, nonce_store=None)
    assert allowed.verify(BODY, _headers(TEST_SECRET), now=NOW)


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY + b"\n", _headers()),
        (BODY, _headers("another-secret")),
        (BODY, {**_headers(), TS: "2021-10-06T22:21:37Z"}),
        (BODY, {**_headers(), TS: "2021-10-06T22:21:36+00:00"}),  # same time, other text
    ],
    ids=["body", "secret", "timestamp", "spelling"],
)
def test_tampering_is_a_mismatch(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, headers, now=NOW)


def test_unix_seconds_are_read_too() -> None:
    verified = _verifier(nonce_store=None).verify(BODY, _headers(raw_ts=str(NOW)), now=NOW)
    assert verified.timestamp == NOW
    # A digit moved from the body into the timestamp: tenfold, refused by the window.
    moved = {**_headers(raw_ts=str(NOW), body=b"7" + BODY), TS: str(NOW) + "7"}
    with pytest.raises(TimestampOutOfTolerance):
        _verifier().verify(BODY, moved, now=NOW)


def test_boundary_between_timestamp_and_body_cannot_move() -> None:
    moved = {**_headers(), TS: RAW_TS[:-1]}  # 'Z' moved into the body
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(b"Z" + BODY, moved, now=NOW)
    assert caught.value.reason == "malformed_timestamp"


def test_window_both_ways() -> None:
    verifier = _verifier(nonce_store=None)
    assert verifier.verify(BODY, _headers(), now=NOW + 300)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(BODY, _headers(), now=NOW + 301)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(BODY, _headers(), now=NOW - 301)


def test_exact_replay_is_refused() -> None:
    verifier = _verifier(nonce_store=MemoryNonceStore())
    verifier.verify(BODY, _headers(), now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, _headers(), now=NOW + 1)


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({SIG: None}, MissingHeader, "missing_header"),
        ({TS: None}, MissingHeader, "missing_header"),
        ({SIG: "!!!"}, MalformedHeader, "malformed_header"),
        ({SIG: _headers()[SIG].rstrip("=")}, MalformedHeader, "malformed_header"),
        ({SIG: "AAAA"}, SignatureMismatch, "signature_mismatch"),
        ({SIG: "A" * 5000}, MalformedHeader, "header_too_long"),
        ({TS: "01633558896"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "1633558896.5"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2021-10-06 22:21:36Z"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2021-13-06T22:21:36Z"}, MalformedHeader, "malformed_timestamp"),
    ],
)
def test_hostile_headers(
    change: dict[str, str | None], error: type[VerificationError], reason: str
) -> None:
    headers = {k: v for k, v in {**_headers(), **change}.items() if v is not None}
    with pytest.raises(error) as caught:
        _verifier().verify(BODY, headers, now=NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize("name", [SIG, TS])
def test_duplicated_header_is_refused(name: str) -> None:
    good = _headers()
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, Headers([*good.items(), (name, good[name])]), now=NOW)
    assert caught.value.reason == "duplicate_header"
