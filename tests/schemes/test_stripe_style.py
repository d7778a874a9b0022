"""Calendly, Mux and Persona: ``t=<ts>,v1=<hex>`` over ``<ts>.<body>``.

Vectors:
- MUX-1: Mux's own Elixir library, ``Mux.Webhooks.TestUtils.generate_signature`` doctest
  (https://hexdocs.pm/mux/Mux.Webhooks.TestUtils.html): secret ``SuperSecret123``, payload
  ``payload``, header ``t=1591664030,v1=e43496b6...``.
- Calendly and Persona publish no secret/body/signature example and no Python SDK that
  verifies: their tests are derived from the algorithm as documented
  (https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures,
  https://docs.withpersona.com/docs/webhooks-best-practices).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

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
from hookseal.schemes.base import make_replay_key
from hookseal.schemes.stripe_style import Calendly, Mux, Persona, Sanity

SCHEMES = [Calendly, Mux, Persona]
HEADERS = {
    Calendly: "Calendly-Webhook-Signature",
    Mux: "Mux-Signature",
    Persona: "Persona-Signature",
}
SECRET = "signing-key-from-the-dashboard"
NOW = 1_700_000_000
BODY = b'{"event":"invitee.created","payload":{"name":"A\xc3\xa9"}}'


def _mac(secret: str, ts: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


def _verifier(cls: type, secrets: object = SECRET, **options: object) -> Verifier:
    return Verifier(cls(), secrets, **options)  # type: ignore[arg-type]


# --- published vector -----------------------------------------------------------------------


MUX1_HEADER = "t=1591664030,v1=e43496b6aae982c4c2fd6f8e92935f1d90216f1f64d56024e72390acfb988272"


def test_mux1_published_vector_verifies() -> None:
    """https://hexdocs.pm/mux/Mux.Webhooks.TestUtils.html (generate_signature doctest)."""
    verified = _verifier(Mux, "SuperSecret123").verify(
        b"payload", {"Mux-Signature": MUX1_HEADER}, now=1591664030
    )
    assert verified.timestamp == 1591664030
    assert verified.scheme == "mux"
    assert verified.replay_key == make_replay_key("mux", bytes.fromhex(MUX1_HEADER[-64:]))


def test_mux1_is_what_the_signer_produces() -> None:
    signed = Signer(Mux(), "SuperSecret123").sign(b"payload", timestamp=1591664030)
    assert signed == {"Mux-Signature": MUX1_HEADER}


def test_mux1_other_secret_or_body_is_a_mismatch() -> None:
    with pytest.raises(SignatureMismatch):
        _verifier(Mux, "SuperSecret124").verify(
            b"payload", {"Mux-Signature": MUX1_HEADER}, now=1591664030
        )
    with pytest.raises(SignatureMismatch):
        _verifier(Mux, "SuperSecret123").verify(
            b"payload\n", {"Mux-Signature": MUX1_HEADER}, now=1591664030
        )


# --- round trips and the documented algorithm (derived) -------------------------------------


@pytest.mark.parametrize("cls", SCHEMES)
def test_signer_round_trip_matches_the_documented_algorithm(cls: type) -> None:
    headers = Signer(cls(), SECRET).sign(BODY, timestamp=NOW)
    assert headers == {HEADERS[cls]: f"t={NOW},v1={_mac(SECRET, NOW, BODY)}"}
    verified = _verifier(cls).verify(BODY, headers, now=NOW)
    assert verified.body == BODY
    assert verified.scheme == cls.name
    assert verified.msg_id is None


@pytest.mark.parametrize("cls", SCHEMES)
@given(body=st.binary(max_size=200), secret=st.text(min_size=1, max_size=40))
def test_documented_algorithm_verifies_any_body(cls: type, body: bytes, secret: str) -> None:
    try:
        verifier = _verifier(cls, secret, nonce_store=None)
    except ConfigurationError:
        return  # whitespace or non-NFC secrets are refused at construction
    header = f"t={NOW},v1={_mac(secret, NOW, body)}"
    assert verifier.verify(body, {HEADERS[cls]: header}, now=NOW).body == body


@pytest.mark.parametrize("cls", SCHEMES)
def test_several_v1_entries_any_may_match(cls: type) -> None:
    good = _mac(SECRET, NOW, BODY)
    junk = "00" * 32
    for value in (f"t={NOW},v1={junk},v1={good}", f"t={NOW},v1={good},v1={junk}"):
        assert _verifier(cls, nonce_store=None).verify(BODY, {HEADERS[cls]: value}, now=NOW)


@pytest.mark.parametrize("cls", SCHEMES)
def test_rotation_matches_the_newest_key_and_identity_ignores_order(cls: type) -> None:
    header = {HEADERS[cls]: f"t={NOW},v1={_mac('new-key', NOW, BODY)}"}
    one = _verifier(cls, ["old-key", "new-key"], nonce_store=None).verify(BODY, header, now=NOW)
    two = _verifier(cls, ["new-key", "old-key"], nonce_store=None).verify(BODY, header, now=NOW)
    assert one.key_index == 1
    assert two.key_index == 0
    assert one.replay_keys == two.replay_keys


def test_persona_rotation_groups_are_space_separated() -> None:
    old, new = _mac("old-key", NOW, BODY), _mac("new-key", NOW, BODY)
    header = {"Persona-Signature": f"t={NOW},v1={old} t={NOW},v1={new}"}
    for secrets in (["old-key"], ["new-key"]):
        assert _verifier(Persona, secrets, nonce_store=None).verify(BODY, header, now=NOW)


def test_persona_groups_with_different_timestamps_are_malformed() -> None:
    mac = _mac(SECRET, NOW, BODY)
    header = {"Persona-Signature": f"t={NOW},v1={mac} t={NOW + 1},v1={mac}"}
    with pytest.raises(MalformedHeader):
        _verifier(Persona).verify(BODY, header, now=NOW)


@pytest.mark.parametrize("cls", [Calendly, Mux])
def test_only_persona_accepts_space_separated_groups(cls: type) -> None:
    mac = _mac(SECRET, NOW, BODY)
    header = {HEADERS[cls]: f"t={NOW},v1={mac} t={NOW},v1={mac}"}
    with pytest.raises(MalformedHeader):
        _verifier(cls).verify(BODY, header, now=NOW)


# --- derived negatives ----------------------------------------------------------------------


@pytest.mark.parametrize("cls", SCHEMES)
@pytest.mark.parametrize(
    ("body", "ts_shift", "secret"),
    [
        (BODY + b"\n", 0, SECRET),
        (BODY.replace(b":", b": ", 1), 0, SECRET),
        (BODY, 1, SECRET),
        (BODY, 0, "another-signing-key"),
    ],
)
def test_tampering_is_a_mismatch(cls: type, body: bytes, ts_shift: int, secret: str) -> None:
    header = f"t={NOW + ts_shift},v1={_mac(secret, NOW, BODY)}"
    with pytest.raises(SignatureMismatch) as caught:
        _verifier(cls).verify(body, {HEADERS[cls]: header}, now=NOW)
    assert caught.value.reason == "signature_mismatch"


@pytest.mark.parametrize("cls", SCHEMES)
def test_window_both_ways(cls: type) -> None:
    headers = Signer(cls(), SECRET).sign(BODY, timestamp=NOW)
    verifier = _verifier(cls, tolerance=180, nonce_store=None)
    assert verifier.verify(BODY, headers, now=NOW + 180)
    with pytest.raises(TimestampOutOfTolerance) as old:
        verifier.verify(BODY, headers, now=NOW + 181)
    assert old.value.reason == "timestamp_too_old"
    with pytest.raises(TimestampOutOfTolerance) as future:
        verifier.verify(BODY, headers, now=NOW - 181)
    assert future.value.reason == "timestamp_in_future"


@pytest.mark.parametrize("cls", SCHEMES)
def test_stale_window_is_checked_before_the_signature(cls: type) -> None:
    # A forged signature on a stale timestamp is refused for its age (no MAC needed).
    header = f"t={NOW - 10_000},v1={'00' * 32}"
    with pytest.raises(TimestampOutOfTolerance):
        _verifier(cls).verify(BODY, {HEADERS[cls]: header}, now=NOW)


@pytest.mark.parametrize("cls", SCHEMES)
def test_exact_replay_is_refused(cls: type) -> None:
    from hookseal.replay import MemoryNonceStore

    verifier = _verifier(cls, nonce_store=MemoryNonceStore())
    headers = Signer(cls(), SECRET).sign(BODY, timestamp=NOW)
    verifier.verify(BODY, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, headers, now=NOW + 2)


_H = "aa" * 32


def _short_id(value: object) -> str | None:
    return ascii(value)[:40] if isinstance(value, str) else None


@pytest.mark.parametrize("cls", SCHEMES)
@pytest.mark.parametrize(
    ("value", "error", "reason"),
    [
        (None, MissingHeader, "missing_header"),
        ("", MissingHeader, "missing_header"),
        ("   ", MissingHeader, "missing_header"),
        (f"t={NOW},", MalformedHeader, "malformed_header"),
        # No signature at all, and a space after a comma, are malformed, as for Stripe's own
        # header (the same parser): only other versions make no_supported_signature.
        (f"t={NOW}", MalformedHeader, "malformed_header"),
        (f"t={NOW}, v1={_H}", MalformedHeader, "malformed_header"),
        (f"v1={_H}", MalformedHeader, "malformed_header"),
        (f"t={NOW},t={NOW},v1={_H}", MalformedHeader, "malformed_header"),
        (f"t={NOW},,v1={_H}", MalformedHeader, "malformed_header"),
        (f"t={NOW},v1=", MalformedHeader, "malformed_header"),
        (f"t={NOW},v1={_H[:-1]}", MalformedHeader, "malformed_header"),
        (f"t={NOW},v1={_H}==", MalformedHeader, "malformed_header"),
        (f"t={NOW},v1={_H[:-2]}zz", MalformedHeader, "malformed_header"),
        (f"t={NOW},v1={_H[:-1]}é", MalformedHeader, "malformed_header"),
        (f"t={NOW},v1={_H}\x00", MalformedHeader, "malformed_header"),
        (f"t={NOW},v1={_H}\r\n", MalformedHeader, "malformed_header"),
        (f"t={NOW},v0={_H}", SignatureMismatch, "no_supported_signature"),
        (f"t={NOW},v1={_H}", SignatureMismatch, "signature_mismatch"),
        (f"t={NOW},v1={_H[:-2]}", SignatureMismatch, "signature_mismatch"),
        (f"t={NOW}.5,v1={_H}", MalformedHeader, "malformed_timestamp"),
        (f"t=-1,v1={_H}", MalformedHeader, "malformed_timestamp"),
        (f"t=1e9,v1={_H}", MalformedHeader, "malformed_timestamp"),
        (f"t=0x65,v1={_H}", MalformedHeader, "malformed_timestamp"),
        ("t=１７００００００００,v1=" + _H, MalformedHeader, "malformed_header"),
        (f"t={'9' * 5000},v1={_H}", MalformedHeader, "header_too_long"),
        (f"t={NOW}" + f",v1={_H}" * 9, MalformedHeader, "too_many_signatures"),
    ],
    ids=_short_id,
)
def test_hostile_headers(
    cls: type, value: str | None, error: type[VerificationError], reason: str
) -> None:
    headers = {} if value is None else {HEADERS[cls]: value}
    with pytest.raises(error) as caught:
        _verifier(cls).verify(BODY, headers, now=NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize("cls", SCHEMES)
def test_too_many_signatures_costs_no_mac(cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
    from hookseal import _keys

    calls = []
    real = _keys.HMACKey.digest_parts

    def counting(self: _keys.HMACKey, prefix: bytes, message: bytes) -> bytes:
        calls.append(1)
        return real(self, prefix, message)

    monkeypatch.setattr(_keys.HMACKey, "digest_parts", counting)
    header = f"t={NOW}" + f",v1={_H}" * 1000 + f",v1={_mac(SECRET, NOW, BODY)}"
    with pytest.raises(MalformedHeader) as caught:
        _verifier(cls, max_header_bytes=100_000).verify(BODY, {HEADERS[cls]: header}, now=NOW)
    assert caught.value.reason == "too_many_signatures"
    assert calls == []


@pytest.mark.parametrize("cls", SCHEMES)
@pytest.mark.parametrize("forged_first", [True, False])
def test_duplicated_header_is_refused(cls: type, forged_first: bool) -> None:
    name = HEADERS[cls]
    good = Signer(cls(), SECRET).sign(BODY, timestamp=NOW)[name]
    forged = f"t={NOW},v1={'00' * 32}"
    lines = [(name, forged), (name, good)] if forged_first else [(name, good), (name, forged)]
    with pytest.raises(MalformedHeader) as caught:
        _verifier(cls).verify(BODY, Headers(lines), now=NOW)
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize("cls", SCHEMES)
def test_non_utf8_body(cls: type) -> None:
    body = b"\xff\xfe\x00binary"
    header = {HEADERS[cls]: f"t={NOW},v1={_mac(SECRET, NOW, body)}"}
    assert _verifier(cls).verify(body, header, now=NOW).body == body
    with pytest.raises(SignatureMismatch):
        _verifier(cls).verify(body, {HEADERS[cls]: f"t={NOW},v1={_H}"}, now=NOW)


@pytest.mark.parametrize("cls", SCHEMES)
def test_secret_copy_paste_accidents_are_configuration_errors(cls: type) -> None:
    for bad in ("", "   ", SECRET + "\n"):
        with pytest.raises(ConfigurationError):
            _verifier(cls, bad)


@pytest.mark.parametrize("cls", SCHEMES)
def test_rejections_do_not_echo_the_expected_mac(cls: type) -> None:
    expected = _mac(SECRET, NOW, BODY)
    header = {HEADERS[cls]: f"t={NOW},v1={'00' * 32}"}
    with pytest.raises(SignatureMismatch) as caught:
        _verifier(cls).verify(BODY, header, now=NOW)
    assert expected not in str(caught.value)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(_verifier(cls))


@pytest.mark.parametrize("cls", SCHEMES)
@given(value=st.text(max_size=120))
def test_any_header_text_raises_only_verification_errors(cls: type, value: str) -> None:
    try:
        _verifier(cls, nonce_store=None).verify(BODY, {HEADERS[cls]: value}, now=NOW)
    except VerificationError:
        return
    raise AssertionError("a random header verified")


# --- Sanity: milliseconds and unpadded base64url ---------------------------------------------
#
# Vectors SAN-1 and SAN-2: Sanity's reference implementation, sanity-io/webhook-toolkit
# test/signature.test.ts ("returns true on valid signatures", secret "test"; "encodes
# signatures", secret "try-me"), with its timestamp, hash, payload and version negatives.

SAN1_BODY = b'{"_id":"resume"}'
SAN1 = "t=1633519811129,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0"
SAN2_BODY = b'{"title":"GROQ-Hooks are neat"}'
SAN2 = "t=1633518820676,v1=e7C9h2sfbFfc4V7TEz7PSOp4IoNzl0UdVsBV-1wgdeA"
SANITY = "sanity-webhook-signature"


def test_san1_published_vector_verifies() -> None:
    verified = _verifier(Sanity, "test").verify(SAN1_BODY, {SANITY: SAN1}, now=1633519811)
    assert verified.scheme == "sanity"
    assert verified.timestamp == 1633519811


def test_san2_is_what_the_signer_produces_at_a_whole_second() -> None:
    # The signer writes whole seconds as milliseconds; the published vector has a fraction.
    assert _verifier(Sanity, "try-me").verify(SAN2_BODY, {SANITY: SAN2}, now=1633518820)
    signed = Signer(Sanity(), "try-me").sign(SAN2_BODY, timestamp=1633518820)
    assert signed[SANITY].startswith("t=1633518820000,v1=")
    assert _verifier(Sanity, "try-me").verify(SAN2_BODY, signed, now=1633518820)


def test_san1_comma_space_is_accepted_as_sanitys_library_does() -> None:
    value = SAN1.replace(",", ", ")
    assert _verifier(Sanity, "test").verify(SAN1_BODY, {SANITY: value}, now=1633519811)


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (SAN1_BODY, SAN1.replace("1633519811129", "1633519811128")),
        (SAN1_BODY, SAN1[:-1] + "1"),
        (b'{"_id":"structure"}', SAN1),
    ],
    ids=["timestamp", "hash", "payload"],
)
def test_san1_negatives(body: bytes, value: str) -> None:
    with pytest.raises((SignatureMismatch, MalformedHeader)):
        _verifier(Sanity, "test").verify(body, {SANITY: value}, now=1633519811)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (SAN1.replace("v1=", "v5="), SignatureMismatch),
        (SAN1 + "=", MalformedHeader),  # padding
        (SAN1.replace("tLa4", "tLa+"), MalformedHeader),  # standard alphabet
        (SAN1[:-1] + "4", SignatureMismatch),  # another canonical final character
        (SAN1[:-1] + "1", MalformedHeader),  # non-zero trailing bits: not canonical
        (SAN1[:-1], MalformedHeader),  # 42 characters: bits left over
    ],
)
def test_sanity_base64url_is_strict(value: str, error: type[VerificationError]) -> None:
    with pytest.raises(error):
        _verifier(Sanity, "test").verify(SAN1_BODY, {SANITY: value}, now=1633519811)


def test_sanity_window_is_in_milliseconds() -> None:
    verifier = _verifier(Sanity, "test", nonce_store=None)
    assert verifier.verify(SAN1_BODY, {SANITY: SAN1}, now=1633519811 + 300)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(SAN1_BODY, {SANITY: SAN1}, now=1633519811 + 301)
    seconds = _mac("test", 1633519811, SAN1_BODY)  # a seconds timestamp is 1970 here
    with pytest.raises((TimestampOutOfTolerance, MalformedHeader)):
        verifier.verify(SAN1_BODY, {SANITY: f"t=1633519811,v1={seconds}"}, now=1633519811)


def _sanity_header(secret: str, millis: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{millis}.".encode() + body, hashlib.sha256).digest()
    return f"t={millis},v1=" + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("offset_ms", "reason"),
    [(300_000, None), (300_001, "timestamp_in_future"), (-300_000, None)],
)
def test_sanity_window_is_exact_in_milliseconds(offset_ms: int, reason: str | None) -> None:
    # 1 ms past now + max_future is refused: the window is checked in the unit sent, not
    # after rounding the milliseconds down to seconds (which let up to 999 ms more through).
    now = 1_700_000_000
    value = _sanity_header("test", now * 1000 + offset_ms, SAN1_BODY)
    verifier = _verifier(Sanity, "test", nonce_store=None)
    if reason is None:
        assert verifier.verify(SAN1_BODY, {SANITY: value}, now=now)
        return
    with pytest.raises(TimestampOutOfTolerance) as caught:
        verifier.verify(SAN1_BODY, {SANITY: value}, now=now)
    assert caught.value.reason == reason


@pytest.mark.parametrize("cls", SCHEMES)
def test_seconds_timestamps_have_at_most_twelve_digits(cls: type) -> None:
    # As for Stripe, Paddle and every seconds timestamp: 13 digits is malformed, not "future".
    raw = "1" * 13
    value = f"t={raw},v1={_mac(SECRET, raw, BODY)}"
    with pytest.raises(MalformedHeader) as caught:
        _verifier(cls).verify(BODY, {HEADERS[cls]: value}, now=NOW)
    assert caught.value.reason == "malformed_timestamp"
