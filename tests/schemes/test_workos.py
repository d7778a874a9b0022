"""WorkOS: the published vector, the workos SDK as a differential oracle, the ms window.

WO-1: workos/workos-python tests/test_webhooks.py (legacy SDK test; its values still verify
with workos 10.8.0's workos.webhooks._verification.verify_header). The SDK ships no signing
helper for webhooks, so deliveries "from the SDK side" are built the way its own tests do
(tests/test_webhook_verification.py, f"t={ts_ms}, v1={hex}") and checked by the SDK first.
Docs: https://workos.com/docs/events/data-syncing/webhooks
"""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from workos.webhooks._verification import verify_header as sdk_verify_header

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
from hookseal.schemes import WorkOS
from hookseal.schemes.base import make_replay_key

HEADER = "WorkOS-Signature"
SCHEME = WorkOS()

WO1_SECRET = "1lyKDzhJjuCkIscIWqkSe4YsQ"
WO1_TS_MS = 1632409405772
WO1_SIG = "67612f0e74f008b436a13b00266f90ef5c13f9cbcf6262206f5f4a539ff61702"
WO1_HEADER = f"t={WO1_TS_MS}, v1={WO1_SIG}"
WO1_BODY = (
    b'{"id":"wh_01FG9JXJ9C9S052FX59JVG4EG1","data":{"id":"conn_01EHWNC0FCBHZ3BJ7EGKYXK0E6",'
    b'"name":"Foo Corp\'s Connection","state":"active","object":"connection","domains":[{"id":'
    b'"conn_domain_01EHWNFTAFCF3CQAE5A9Q0P1YB","domain":"foo-corp.com","object":'
    b'"connection_domain"}],"connection_type":"OktaSAML","organization_id":'
    b'"org_01EHWNCE74X7JSDV0X3SZ3KJNY"},"event":"connection.activated"}'
)
WO1_NOW = WO1_TS_MS / 1000


def _verifier(secrets: object = WO1_SECRET, **options: object) -> Verifier:
    return Verifier(SCHEME, secrets, **options)  # type: ignore[arg-type]


def _sdk_style_header(secret: str, ts_ms: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{ts_ms}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts_ms}, v1={mac}"


def _sdk_accepts(body: bytes, header: str, secret: str, tolerance: int) -> bool:
    try:
        sdk_verify_header(
            event_body=body, event_signature=header, secret=secret, tolerance=tolerance
        )
    except ValueError:
        return False
    return True


# --- the published vector -------------------------------------------------------------------


def test_wo1_body_is_the_published_bytes() -> None:
    assert len(WO1_BODY) == 380
    assert hashlib.sha256(WO1_BODY).hexdigest().startswith("e8a3d662")


def test_wo1_verifies_and_reports_seconds() -> None:
    verified = _verifier().verify(WO1_BODY, {HEADER: WO1_HEADER}, now=WO1_NOW)
    assert verified.body == WO1_BODY
    assert verified.timestamp == 1632409405  # Unix seconds, rounded down
    assert verified.scheme == "workos"
    assert verified.msg_id is None
    assert verified.replay_key == make_replay_key("workos", bytes.fromhex(WO1_SIG))


def test_wo1_is_accepted_by_the_sdk_too() -> None:
    assert _sdk_accepts(WO1_BODY, WO1_HEADER, WO1_SECRET, tolerance=99999999999999)


def test_wo1_header_without_timestamp_is_refused() -> None:
    # The same SDK test's mock_header_no_timestamp.
    with pytest.raises(MalformedHeader):
        _verifier().verify(WO1_BODY, {HEADER: f"v1={WO1_SIG}"}, now=WO1_NOW)


# --- the SDK as a differential oracle, both directions --------------------------------------

_secrets = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=50)
_bodies = st.text(max_size=200).map(str.encode)
_ts_ms = st.integers(min_value=10**12, max_value=4 * 10**12)


@given(body=_bodies, secret=_secrets)
def test_hookseal_signs_sdk_verifies(body: bytes, secret: str) -> None:
    now = int(time.time())
    headers = Signer(SCHEME, secret).sign(body, timestamp=now)
    assert headers[HEADER].startswith(f"t={now * 1000}, v1=")
    assert _sdk_accepts(body, headers[HEADER], secret, tolerance=180)
    assert not _sdk_accepts(body + b"x", headers[HEADER], secret, tolerance=180)
    assert not _sdk_accepts(body, headers[HEADER], secret + "x", tolerance=180)


@given(body=_bodies, secret=_secrets, ts_ms=_ts_ms)
def test_sdk_accepted_deliveries_verify_with_hookseal(body: bytes, secret: str, ts_ms: int) -> None:
    header = _sdk_style_header(secret, ts_ms, body)
    assert _sdk_accepts(body, header, secret, tolerance=99999999999999)
    verifier = _verifier(secret, nonce_store=None)
    verified = verifier.verify(body, {HEADER: header}, now=ts_ms / 1000)
    assert verified.timestamp == ts_ms // 1000
    with pytest.raises(SignatureMismatch):
        verifier.verify(body + b"x", {HEADER: header}, now=ts_ms / 1000)


@given(body=_bodies, offset=st.integers(min_value=-400, max_value=400))
def test_window_verdict_agrees_with_the_sdk_away_from_the_edge(body: bytes, offset: int) -> None:
    # Both use a symmetric window; compare away from the boundary second (the SDK reads the
    # real clock, so the verdicts are compared one second inside and outside the edge).
    if abs(abs(offset) - 180) <= 1:
        offset += 3
    now = time.time()
    ts_ms = int((now + offset) * 1000)
    header = _sdk_style_header(WO1_SECRET, ts_ms, body)
    sdk = _sdk_accepts(body, header, WO1_SECRET, tolerance=180)
    try:
        _verifier(tolerance=180, nonce_store=None).verify(body, {HEADER: header}, now=now)
        ours = True
    except TimestampOutOfTolerance:
        ours = False
    assert ours == sdk == (abs(offset) < 180)


# --- the millisecond window, exactly --------------------------------------------------------


def test_window_edges_to_the_millisecond() -> None:
    now = 1_700_000_000.25  # exactly representable: now_ms = 1_700_000_000_250
    verifier = _verifier(tolerance=300, nonce_store=None)
    body = b"{}"
    for ts_ms, ok in [
        (1_699_999_700_250, True),  # exactly tolerance old
        (1_699_999_700_249, False),  # one ms more
        (1_700_000_300_250, True),  # exactly tolerance ahead
        (1_700_000_300_251, False),
    ]:
        headers = {HEADER: _sdk_style_header(WO1_SECRET, ts_ms, body)}
        if ok:
            assert verifier.verify(body, headers, now=now).timestamp == ts_ms // 1000
        else:
            with pytest.raises(TimestampOutOfTolerance) as caught:
                verifier.verify(body, headers, now=now)
            expected = "timestamp_too_old" if ts_ms < now * 1000 else "timestamp_in_future"
            assert caught.value.reason == expected
            assert caught.value.timestamp == ts_ms // 1000


def test_replay_is_refused_until_the_window_closes() -> None:
    ts_ms = 1_700_000_000_999
    headers = {HEADER: _sdk_style_header(WO1_SECRET, ts_ms, b"{}")}
    verifier = _verifier(tolerance=300)
    verifier.verify(b"{}", headers, now=1_700_000_000)
    # Still inside the window 300.5 s after the second of ts (ts is 0.999 s into it): the
    # entry must still be live, although floor(ts) + tolerance has passed.
    with pytest.raises(ReplayedDelivery):
        verifier.verify(b"{}", headers, now=1_700_000_300.5)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(b"{}", headers, now=1_700_000_301)


@pytest.mark.parametrize("now", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_clock_fails_closed(now: float) -> None:
    with pytest.raises(TimestampOutOfTolerance):
        _verifier().verify(WO1_BODY, {HEADER: WO1_HEADER}, now=now)


# --- tampering, rotation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (WO1_BODY.replace(b"active", b"inactiv"), WO1_HEADER),
        (WO1_BODY + b"\n", WO1_HEADER),
        (WO1_BODY, WO1_HEADER.replace(str(WO1_TS_MS), str(WO1_TS_MS + 1))),
        (WO1_BODY, WO1_HEADER.replace(str(WO1_TS_MS), str(WO1_TS_MS // 1000 * 1000))),
        (WO1_BODY, WO1_HEADER[:-2]),
        (WO1_BODY, WO1_HEADER + "00"),
        (WO1_BODY, f"t={WO1_TS_MS}, v1={'00' * 32}"),
    ],
)
def test_tampering_is_a_mismatch(body: bytes, header: str) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, {HEADER: header}, now=WO1_NOW)


def test_rotation_and_several_v1_entries() -> None:
    verified = _verifier(["old-secret", WO1_SECRET]).verify(
        WO1_BODY, {HEADER: WO1_HEADER}, now=WO1_NOW
    )
    assert verified.key_index == 1
    both = f"t={WO1_TS_MS}, v1={'00' * 32}, v1={WO1_SIG}"
    assert _verifier(nonce_store=None).verify(WO1_BODY, {HEADER: both}, now=WO1_NOW)
    no_space = f"t={WO1_TS_MS},v1={WO1_SIG}"
    assert _verifier(nonce_store=None).verify(WO1_BODY, {HEADER: no_space}, now=WO1_NOW)
    reordered = f"v1={WO1_SIG}, t={WO1_TS_MS}"
    assert _verifier(nonce_store=None).verify(WO1_BODY, {HEADER: reordered}, now=WO1_NOW)


def test_bad_secrets_are_refused() -> None:
    for secret in ("", " x", "x\n", 5):
        with pytest.raises(ConfigurationError):
            _verifier(secret)


# --- hostile headers ------------------------------------------------------------------------

_T = f"t={WO1_TS_MS}"
_V = f"v1={WO1_SIG}"


def _short_id(value: object) -> str | None:
    return ascii(value)[:40] if isinstance(value, str) else None


@pytest.mark.parametrize(
    ("value", "error", "reason"),
    [
        (None, MissingHeader, "missing_header"),
        ("", MissingHeader, "missing_header"),
        ("  ", MissingHeader, "missing_header"),
        (f"{_T},", MalformedHeader, "malformed_header"),
        (f"{_T}, ", MalformedHeader, "malformed_header"),
        (_T, MalformedHeader, "malformed_header"),
        (f"{_T}, {_T}, {_V}", MalformedHeader, "malformed_header"),
        (f"{_T},  {_V}", MalformedHeader, "malformed_header"),
        (f" {_T}, {_V}", MalformedHeader, "malformed_header"),
        (f"{_T}, v1=", MalformedHeader, "malformed_header"),
        (f"{_T}, {_V[:-1]}", MalformedHeader, "malformed_header"),
        (f"{_T}, {_V[:-1]}g", MalformedHeader, "malformed_header"),
        (f"{_T}, {_V}=", MalformedHeader, "malformed_header"),
        (f"{_T}, {_V[:-1]}é", MalformedHeader, "malformed_header"),
        (f"{_T}, {_V}\x00", MalformedHeader, "malformed_header"),
        (f"{_T}, {_V}\r\n", MalformedHeader, "malformed_header"),
        (f"{_T}, v0={WO1_SIG}", SignatureMismatch, "no_supported_signature"),
        (f"x={WO1_TS_MS}, zz={WO1_SIG}", MalformedHeader, "malformed_header"),
        (f"t=1632409405.772, {_V}", MalformedHeader, "malformed_timestamp"),
        (f"t=-1, {_V}", MalformedHeader, "malformed_timestamp"),
        (f"t={'9' * 16}, {_V}", MalformedHeader, "malformed_timestamp"),
        (f"t={'9' * 5000}, {_V}", MalformedHeader, "header_too_long"),
        (f"{_T}" + f", {_V}" * 9, MalformedHeader, "too_many_signatures"),
    ],
    ids=_short_id,
)
def test_hostile_headers(value: str | None, error: type[VerificationError], reason: str) -> None:
    headers = {} if value is None else {HEADER: value}
    with pytest.raises(error) as caught:
        _verifier().verify(WO1_BODY, headers, now=WO1_NOW)
    assert caught.value.reason == reason


def test_duplicated_header_is_refused() -> None:
    lines = [(HEADER, f"t={WO1_TS_MS}, v1={'00' * 32}"), (HEADER, WO1_HEADER)]
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(WO1_BODY, Headers(lines), now=WO1_NOW)
    assert caught.value.reason == "duplicate_header"


@given(st.text(max_size=120))
def test_any_header_text_raises_only_verification_errors(value: str) -> None:
    try:
        _verifier(nonce_store=None).verify(WO1_BODY, {HEADER: value}, now=WO1_NOW)
    except VerificationError:
        return
    raise AssertionError("a random header verified")


def test_a_zero_padded_copy_of_a_genuine_timestamp_is_malformed() -> None:
    """One spelling per number: 't=01700000000000' is refused before any MAC, not re-read."""
    now = 1_700_000_000
    genuine = Signer(WorkOS(), WO1_SECRET).sign(b"{}", timestamp=now)
    assert _verifier().verify(b"{}", genuine, now=now).timestamp == now
    padded = genuine[HEADER].replace(f"t={now}000,", f"t=0{now}000,")
    assert padded != genuine[HEADER]
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(b"{}", {HEADER: padded}, now=now)
    assert caught.value.reason == "malformed_timestamp"
