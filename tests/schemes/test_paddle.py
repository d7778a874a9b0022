"""Paddle: published vectors, paddle-python-sdk as a differential oracle, hostile headers.

Vectors:
- PD-1: PaddleHQ/paddle-python-sdk tests/Unit/Notification/test_Verifier.py (shipped in the
  1.16.1 wheel), three secrets of which the last matches.
- PD-2 / PD-3: the same SDK test ("Standard payload", "Special characters payload"); the
  bodies are PaddleHQ/paddle-php-sdk tests/Unit/Notifications/_fixtures/standard_payload.json
  and special_chars_payload.json, stripped of their trailing newline (the tests call
  .strip(); the signatures cover the bytes without it).
Docs: https://developer.paddle.com/webhooks/signature-verification
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from hookseal.schemes import Paddle
from hookseal.schemes.base import make_replay_key

if sys.version_info >= (3, 11):
    from paddle_billing.Notifications import PaddleSignature
    from paddle_billing.Notifications import Secret as PaddleSecret
    from paddle_billing.Notifications import Verifier as PaddleVerifier

needs_sdk = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="paddle-python-sdk requires Python 3.11+"
)

HEADER = "Paddle-Signature"
SCHEME = Paddle()

PD1_SECRETS = [
    "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_TjIG2BXbm83HPXqNfziwe506sBEdqL/4",
    "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_vB/yIOnTOCWIvpBadM5jzBZPHc7OmdSo",
    "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh",
]
PD1_TS = 1696195954
PD1_H1 = "d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02"
PD1_HEADER = f"ts={PD1_TS};h1=dummy;h1={PD1_H1}"
PD1_BODY = b"hello-world"

PD_SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_GrOWLNef+vmtjJYq4mSnHNzvc8uWoJ1I"
PD2_HEADER = "ts=1710498758;h1=558bf93944dbeb4790c7a8af6cb2ea435c8ca9c8396aafc1a4e37424ac132744"
PD2_BODY = (
    b'{"data":{"id":"ctm_01hs0tqf76sxmp7ba5e4mw1sc8","name":"John Doe","email":'
    b'"blackhole+verification2@paddle.com","locale":"en","status":"active","created_at":'
    b'"2024-03-15T10:32:37.862Z","updated_at":"2024-03-15T10:32:37.862Z","custom_data":null,'
    b'"import_meta":null,"marketing_consent":false},"event_id":"evt_01hs0tqfme2xwb2hvwv87p8y3w"'
    b',"event_type":"customer.created","occurred_at":"2024-03-15T10:32:38.286848Z",'
    b'"notification_id":"ntf_01hs0tqfrhgkyp39x4wyvy7h6n"}'
)
PD3_HEADER = "ts=1710498288;h1=38219b3ba1578184e625c29d201a27cd25bd69e2ec9c3ab87dcb90d87ff73a41"
PD3_BODY = (
    b'{"data":{"id":"ctm_01hs0t94g83hs5jdw282ztqa4z","name":'
    b'"\\u00dc\\u00c4\\u00c5\\u00e5\\u00d6\\u00dc\\u00c4\\u00c5\\u00e5\\u00d6","email":'
    b'"blackhole+verification1@paddle.com","locale":"en","status":"active","created_at":'
    b'"2024-03-15T10:24:48.136Z","updated_at":"2024-03-15T10:24:48.136Z","custom_data":null,'
    b'"import_meta":null,"marketing_consent":false},"event_id":"evt_01hs0t94tjvtv62azjmkbeysz7"'
    b',"event_type":"customer.created","occurred_at":"2024-03-15T10:24:48.466759Z",'
    b'"notification_id":"ntf_01hs0t94ws0ay8keh5t4rq70ht"}'
)


def _verifier(secrets: object = PD_SECRET, **options: object) -> Verifier:
    return Verifier(SCHEME, secrets, **options)  # type: ignore[arg-type]


def _sig(secret: str, ts: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{ts}:".encode() + body, hashlib.sha256).hexdigest()


def test_fixture_bodies_are_the_published_bytes() -> None:
    # sha256 of the stripped fixture files (see the module docstring).
    assert len(PD2_BODY) == 458
    assert hashlib.sha256(PD2_BODY).hexdigest().startswith("68b9f89b")
    assert len(PD3_BODY) == 510
    assert hashlib.sha256(PD3_BODY).hexdigest().startswith("b9becdf5")


# --- published vectors ----------------------------------------------------------------------


@pytest.mark.parametrize(("header", "body"), [(PD2_HEADER, PD2_BODY), (PD3_HEADER, PD3_BODY)])
def test_pd2_pd3_verify(header: str, body: bytes) -> None:
    ts = int(header.split(";")[0][3:])
    verified = _verifier().verify(body, {HEADER: header}, now=ts)
    assert verified.timestamp == ts
    assert verified.body == body
    assert verified.scheme == "paddle"
    assert verified.replay_key == make_replay_key("paddle", bytes.fromhex(header[-64:]))


@pytest.mark.parametrize(("header", "body"), [(PD2_HEADER, PD2_BODY), (PD3_HEADER, PD3_BODY)])
def test_pd2_pd3_with_the_fixture_newline_do_not_verify(header: str, body: bytes) -> None:
    ts = int(header.split(";")[0][3:])
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body + b"\n", {HEADER: header}, now=ts)


def test_pd2_is_what_the_signer_produces() -> None:
    assert Signer(SCHEME, PD_SECRET).sign(PD2_BODY, timestamp=1710498758) == {HEADER: PD2_HEADER}


def test_pd1_rotation_matches_the_third_secret() -> None:
    header = f"ts={PD1_TS};h1={PD1_H1}"
    verified = _verifier(PD1_SECRETS).verify(PD1_BODY, {HEADER: header}, now=PD1_TS)
    assert verified.key_index == 2
    with pytest.raises(SignatureMismatch):
        _verifier(PD1_SECRETS[:2]).verify(PD1_BODY, {HEADER: header}, now=PD1_TS)


def test_pd1_as_published_is_refused_for_its_non_hex_entry() -> None:
    # The SDK test puts a literal "dummy" h1 next to the real one; hookseal decodes every
    # signature strictly, so a non-hex entry makes the header malformed (never accepted).
    with pytest.raises(MalformedHeader):
        _verifier(PD1_SECRETS).verify(PD1_BODY, {HEADER: PD1_HEADER}, now=PD1_TS)


def test_several_h1_entries_any_may_match() -> None:
    junk = "00" * 32
    for header in (f"ts={PD1_TS};h1={junk};h1={PD1_H1}", f"ts={PD1_TS};h1={PD1_H1};h1={junk}"):
        assert _verifier(PD1_SECRETS, nonce_store=None).verify(
            PD1_BODY, {HEADER: header}, now=PD1_TS
        )


# --- the SDK as a differential oracle, both directions --------------------------------------

_text_bodies = st.text(max_size=200)
_secrets = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60
).map(lambda s: "pdl_ntfset_" + s)


class _Request:
    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body


@needs_sdk
@given(body=_text_bodies, secret=_secrets)
def test_hookseal_signs_sdk_verifies(body: str, secret: str) -> None:
    raw = body.encode()
    now = int(time.time())
    headers = Signer(SCHEME, secret).sign(raw, timestamp=now)
    assert PaddleSignature().verify(headers[HEADER], body, PaddleSecret(secret)) is True
    # The SDK's request-level verifier, with its own drift check (5 s) against the real clock;
    # it looks the header up case-sensitively, so this also pins hookseal's spelling.
    assert PaddleVerifier().verify(_Request(headers, raw), PaddleSecret(secret)) is True
    tampered = body + "x"
    assert PaddleSignature().verify(headers[HEADER], tampered, PaddleSecret(secret)) is False


@needs_sdk
@given(body=_text_bodies, secret=_secrets, ts=st.integers(min_value=1, max_value=10**11))
def test_sdk_signs_hookseal_verifies(body: str, secret: str, ts: int) -> None:
    raw = body.encode()
    mac = PaddleSignature.calculate_hmac(secret, f"{ts}:{body}".encode()).hexdigest()
    header = f"ts={ts};h1={mac}"
    assert PaddleSignature().verify(header, body, PaddleSecret(secret)) is True
    verified = _verifier(secret, nonce_store=None).verify(raw, {HEADER: header}, now=ts)
    assert verified.body == raw
    assert verified.timestamp == ts
    with pytest.raises(SignatureMismatch):
        _verifier(secret, nonce_store=None).verify(raw + b"x", {HEADER: header}, now=ts)


@needs_sdk
def test_sdk_and_hookseal_agree_on_the_published_vectors() -> None:
    for header, body in ((PD2_HEADER, PD2_BODY), (PD3_HEADER, PD3_BODY)):
        assert PaddleSignature().verify(header, body.decode(), PaddleSecret(PD_SECRET)) is True
    secrets = [PaddleSecret(s) for s in PD1_SECRETS]
    assert PaddleSignature().verify(PD1_HEADER, "hello-world", secrets) is True


@needs_sdk
def test_sdk_drift_check_is_not_disabled_in_this_environment() -> None:
    # TEST_MODE=1 would silently turn the SDK's drift check off and weaken the oracle.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TEST_MODE", raising=False)
        stale = Signer(SCHEME, PD_SECRET).sign(b"{}", timestamp=int(time.time()) - 60)
        assert PaddleVerifier().verify(_Request(stale, b"{}"), PaddleSecret(PD_SECRET)) is False


# --- tampering and window -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (PD2_BODY[:-1] + b"]", PD2_HEADER),
        (PD2_BODY.replace(b'":', b'": ', 1), PD2_HEADER),
        (PD2_BODY, PD2_HEADER.replace("ts=1710498758", "ts=1710498759")),
        (PD2_BODY, PD2_HEADER[:-1] + ("0" if PD2_HEADER[-1] != "0" else "1")),
        (PD2_BODY, PD2_HEADER[:-2]),
        (PD2_BODY, PD2_HEADER + "00"),
    ],
)
def test_tampering_is_a_mismatch(body: bytes, header: str) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, {HEADER: header}, now=1710498758)


def test_window_both_ways() -> None:
    verifier = _verifier(tolerance=5, nonce_store=None)
    assert verifier.verify(PD2_BODY, {HEADER: PD2_HEADER}, now=1710498758 + 5)
    with pytest.raises(TimestampOutOfTolerance) as old:
        verifier.verify(PD2_BODY, {HEADER: PD2_HEADER}, now=1710498758 + 6)
    assert old.value.reason == "timestamp_too_old"
    with pytest.raises(TimestampOutOfTolerance) as future:
        verifier.verify(PD2_BODY, {HEADER: PD2_HEADER}, now=1710498758 - 6)
    assert future.value.reason == "timestamp_in_future"


def test_exact_replay_is_refused() -> None:
    verifier = _verifier()
    verifier.verify(PD2_BODY, {HEADER: PD2_HEADER}, now=1710498758)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(PD2_BODY, {HEADER: PD2_HEADER}, now=1710498760)


def test_secret_is_used_as_text_and_refused_when_empty() -> None:
    with pytest.raises(ConfigurationError):
        _verifier("")
    with pytest.raises(ConfigurationError):
        _verifier(PD_SECRET + "\n")


# --- hostile headers ------------------------------------------------------------------------

_H = "aa" * 32


def _short_id(value: object) -> str | None:
    return ascii(value)[:40] if isinstance(value, str) else None


@pytest.mark.parametrize(
    ("value", "error", "reason"),
    [
        (None, MissingHeader, "missing_header"),
        ("", MissingHeader, "missing_header"),
        ("   ", MissingHeader, "missing_header"),
        ("ts=1700000000;", MalformedHeader, "malformed_header"),
        ("ts=1700000000", MalformedHeader, "malformed_header"),
        (f"h1={_H}", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;ts=1700000000;h1={_H}", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;ts=1700000001;h1={_H}", MalformedHeader, "malformed_header"),
        (f"ts=1700000000; h1={_H}", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;;h1={_H}", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h1=;h1={_H}", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h1={_H};", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h1={_H[:-1]}", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h1={_H}=", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h1={_H[:-2]}zz", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h1={_H[:-1]}é", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h1={_H}\x00", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h1={_H}\r\n", MalformedHeader, "malformed_header"),
        (f"ts=1700000000;h2={_H}", SignatureMismatch, "no_supported_signature"),
        (f"ts=1700000000;h1={_H}", SignatureMismatch, "signature_mismatch"),
        (f"ts=1700000000;h1={_H[:-2]}", SignatureMismatch, "signature_mismatch"),
        (f"ts=1700000000.5;h1={_H}", MalformedHeader, "malformed_timestamp"),
        (f"ts=-1;h1={_H}", MalformedHeader, "malformed_timestamp"),
        (f"ts=1e9;h1={_H}", MalformedHeader, "malformed_timestamp"),
        (f"ts={'9' * 5000};h1={_H}", MalformedHeader, "header_too_long"),
        ("ts=1700000000" + f";h1={_H}" * 9, MalformedHeader, "too_many_signatures"),
    ],
    ids=_short_id,
)
def test_hostile_headers(value: str | None, error: type[VerificationError], reason: str) -> None:
    headers = {} if value is None else {HEADER: value}
    with pytest.raises(error) as caught:
        _verifier().verify(b"{}", headers, now=1_700_000_000)
    assert caught.value.reason == reason


def test_too_many_signatures_costs_no_mac(monkeypatch: pytest.MonkeyPatch) -> None:
    from hookseal import _keys

    calls = []
    real = _keys.HMACKey.digest_parts

    def counting(self: _keys.HMACKey, prefix: bytes, message: bytes) -> bytes:
        calls.append(1)
        return real(self, prefix, message)

    monkeypatch.setattr(_keys.HMACKey, "digest_parts", counting)
    mac = _sig(PD_SECRET, 1_700_000_000, b"{}")
    header = "ts=1700000000" + f";h1={_H}" * 1000 + f";h1={mac}"
    with pytest.raises(MalformedHeader) as caught:
        _verifier(max_header_bytes=100_000).verify(b"{}", {HEADER: header}, now=1_700_000_000)
    assert caught.value.reason == "too_many_signatures"
    assert calls == []


@pytest.mark.parametrize(
    "lines",
    [
        [(HEADER, "ts=1710498758;h1=" + "00" * 32), (HEADER, PD2_HEADER)],
        [(HEADER, PD2_HEADER), (HEADER, "ts=1710498758;h1=" + "00" * 32)],
    ],
)
def test_duplicated_header_is_refused(lines: list[tuple[str, str]]) -> None:
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(PD2_BODY, Headers(lines), now=1710498758)
    assert caught.value.reason == "duplicate_header"


def test_non_utf8_body() -> None:
    body = b"\xff\xfe\x00binary"
    header = f"ts=1700000000;h1={_sig(PD_SECRET, 1700000000, body)}"
    assert _verifier().verify(body, {HEADER: header}, now=1_700_000_000).body == body
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, {HEADER: f"ts=1700000000;h1={_H}"}, now=1_700_000_000)


@given(st.text(max_size=120))
def test_any_header_text_raises_only_verification_errors(value: str) -> None:
    try:
        _verifier(nonce_store=None).verify(b"{}", {HEADER: value}, now=1_700_000_000)
    except VerificationError:
        return
    raise AssertionError("a random header verified")


def test_a_zero_padded_copy_of_a_genuine_timestamp_is_malformed() -> None:
    """One spelling per number: 'ts=01700000000' is refused before any MAC, not re-read."""
    now = 1_700_000_000
    genuine = Signer(Paddle(), PD_SECRET).sign(b"{}", timestamp=now)
    assert _verifier().verify(b"{}", genuine, now=now).timestamp == now
    padded = genuine[HEADER].replace(f"ts={now};", f"ts=0{now};")
    assert padded != genuine[HEADER]
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(b"{}", {HEADER: padded}, now=now)
    assert caught.value.reason == "malformed_timestamp"
