"""Zoom: ``x-zm-signature: v0=<hex>`` over ``v0:<x-zm-request-timestamp>:<body>``.

Zoom publishes no secret/body/signature example and no Python SDK that verifies webhooks, so
these tests are derived from the algorithm as documented at
https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events ("derived").
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import (
    Headers,
    MalformedHeader,
    MissingHeader,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal.schemes.zoom import Zoom

SECRET = "zoom-secret-token"
NOW = 1_700_000_000
BODY = b'{"event":"meeting.started","payload":{"account_id":"abc","object":{"id":"1"}}}'
SIG = "x-zm-signature"
TS = "x-zm-request-timestamp"


def _mac(secret: str, ts: int | str, body: bytes) -> str:
    message = f"v0:{ts}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _headers(ts: int | str = NOW, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    return {SIG: _mac(secret, ts, body), TS: str(ts)}


def _verifier(secrets: object = SECRET, **options: object) -> Verifier:
    return Verifier(Zoom(), secrets, **options)  # type: ignore[arg-type]


def test_documented_algorithm_verifies() -> None:
    verified = _verifier().verify(BODY, _headers(), now=NOW)
    assert verified.scheme == "zoom"
    assert verified.timestamp == NOW
    assert verified.body == BODY


def test_signer_produces_the_documented_headers() -> None:
    assert Signer(Zoom(), SECRET).sign(BODY, timestamp=NOW) == _headers()


@given(body=st.binary(max_size=200))
def test_round_trip_any_body(body: bytes) -> None:
    headers = Signer(Zoom(), SECRET).sign(body, timestamp=NOW)
    assert _verifier(nonce_store=None).verify(body, headers, now=NOW).body == body


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY + b"\n", _headers()),
        (BODY, _headers(secret="another-secret-token")),
        (BODY, {SIG: _mac(SECRET, NOW, BODY), TS: str(NOW + 1)}),
    ],
    ids=["body", "secret", "timestamp"],
)
def test_tampering_is_a_mismatch(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, headers, now=NOW)


def test_window_both_ways() -> None:
    verifier = _verifier(nonce_store=None)
    assert verifier.verify(BODY, _headers(), now=NOW + 300)
    with pytest.raises(TimestampOutOfTolerance) as old:
        verifier.verify(BODY, _headers(), now=NOW + 301)
    assert old.value.reason == "timestamp_too_old"
    with pytest.raises(TimestampOutOfTolerance) as future:
        verifier.verify(BODY, _headers(), now=NOW - 301)
    assert future.value.reason == "timestamp_in_future"


_H = "v0=" + "aa" * 32


@pytest.mark.parametrize(
    ("headers", "error", "reason"),
    [
        ({TS: str(NOW)}, MissingHeader, "missing_header"),
        ({SIG: _H}, MissingHeader, "missing_header"),
        ({SIG: "", TS: str(NOW)}, MissingHeader, "missing_header"),
        ({SIG: "v0=", TS: str(NOW)}, MalformedHeader, "malformed_header"),
        ({SIG: "aa" * 32, TS: str(NOW)}, MalformedHeader, "malformed_header"),
        ({SIG: "v1=" + "aa" * 32, TS: str(NOW)}, MalformedHeader, "malformed_header"),
        ({SIG: _H + "a", TS: str(NOW)}, MalformedHeader, "malformed_header"),
        ({SIG: _H[:-2] + "zz", TS: str(NOW)}, MalformedHeader, "malformed_header"),
        ({SIG: _H + "\x00", TS: str(NOW)}, MalformedHeader, "malformed_header"),
        ({SIG: _H[:-2], TS: str(NOW)}, SignatureMismatch, "signature_mismatch"),
        ({SIG: _H, TS: str(NOW)}, SignatureMismatch, "signature_mismatch"),
        ({SIG: _H, TS: f"{NOW}.5"}, MalformedHeader, "malformed_timestamp"),
        ({SIG: _H, TS: "１７００００００００"}, MalformedHeader, "malformed_header"),
        ({SIG: _H, TS: "-1"}, MalformedHeader, "malformed_timestamp"),
        ({SIG: _H, TS: "9" * 5000}, MalformedHeader, "header_too_long"),
        ({SIG: ",".join([_H] * 9), TS: str(NOW)}, MalformedHeader, "too_many_signatures"),
    ],
)
def test_hostile_headers(
    headers: dict[str, str], error: type[VerificationError], reason: str
) -> None:
    with pytest.raises(error) as caught:
        _verifier().verify(BODY, headers, now=NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize("name", [SIG, TS])
def test_duplicated_header_is_refused(name: str) -> None:
    good = _headers()
    lines = [(SIG, good[SIG]), (TS, good[TS]), (name, good[name])]
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, Headers(lines), now=NOW)
    assert caught.value.reason == "duplicate_header"


def test_rejection_does_not_echo_the_expected_mac() -> None:
    with pytest.raises(SignatureMismatch) as caught:
        _verifier().verify(BODY, {SIG: _H, TS: str(NOW)}, now=NOW)
    assert _mac(SECRET, NOW, BODY)[3:] not in str(caught.value)
    assert repr(Zoom()) == "Zoom()"
