"""Stripe: stripe-python's fixed inputs, SDK differentials both ways, hostile headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st

from hookseal import (
    ConfigurationError,
    Headers,
    MalformedHeader,
    MissingHeader,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal._headers import HeaderName
from hookseal._keys import HMACKey
from hookseal.schemes import StandardWebhooks, Stripe
from hookseal.schemes.base import make_replay_key

SCHEME = Stripe()

# Fixed inputs of stripe/stripe-python tests/test_webhook.py (DUMMY_WEBHOOK_SECRET and
# DUMMY_WEBHOOK_PAYLOAD). Stripe publishes no secret together with a signature, so the header
# below is derived from those inputs (ST-1 in the team's provider notes) and is re-checked
# against stripe-python itself in test_st1_is_what_stripe_python_computes.
ST_SECRET = "whsec_test_secret"
ST_PAYLOAD = (
    b'{\n  "id": "evt_test_webhook",\n  "object": "event",\n'
    b'  "data": { "object": { "id": "rdr_123", "object": "terminal.reader" } }\n}'
)
ST_TS = 12345
ST_HEADER = "t=12345,v1=07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda"
# The example header of https://docs.stripe.com/webhooks#verify-manually (no secret given:
# format only).
DOCS_HEADER = (
    "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,"
    "v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
)
VALID_HEX = ST_HEADER.split("v1=")[1]


def _verifier(*secrets: object, **kwargs: object) -> Verifier:
    return Verifier(SCHEME, list(secrets), nonce_store=None, **kwargs)  # type: ignore[arg-type]


def _attempt(
    header: object, body: bytes = ST_PAYLOAD, now: int = ST_TS, **kwargs: object
) -> object:
    headers = header if isinstance(header, (dict, Headers)) else {"Stripe-Signature": header}
    try:
        _verifier(ST_SECRET, **kwargs).verify(body, headers, now=now)  # type: ignore[arg-type]
    except VerificationError as exc:
        return type(exc), exc.reason
    return "accepted"


class TestPublished:
    def test_st1_is_what_stripe_python_computes(self) -> None:
        payload = ST_PAYLOAD.decode()
        assert (
            stripe.WebhookSignature.generate_signature_header(payload, ST_SECRET, ST_TS)
            == ST_HEADER
        )
        assert stripe.WebhookSignature.verify_header(payload, ST_HEADER, ST_SECRET)

    def test_st1_verifies(self) -> None:
        verified = _verifier(ST_SECRET).verify(
            ST_PAYLOAD, {"Stripe-Signature": ST_HEADER}, now=ST_TS
        )
        assert verified.timestamp == ST_TS
        assert verified.msg_id is None
        assert verified.scheme == "stripe"
        assert verified.replay_key == make_replay_key("stripe", bytes.fromhex(VALID_HEX))

    def test_st1_signer(self) -> None:
        signed = Signer(SCHEME, ST_SECRET).sign(ST_PAYLOAD, timestamp=ST_TS)
        assert signed == {"Stripe-Signature": ST_HEADER}

    def test_docs_header_shape_parses(self) -> None:
        # Well-formed: it reaches the signature check (and fails it, the secret is unknown).
        assert _attempt(DOCS_HEADER, now=1492774577) == (SignatureMismatch, "signature_mismatch")


class TestSecretForms:
    def test_whsec_is_raw_text_not_base64(self) -> None:
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        stripe_key = SCHEME.load_key(secret)
        sw_key = StandardWebhooks().load_key(secret)
        assert stripe_key.digest(b"m") == hmac.digest(secret.encode(), b"m", "sha256")
        assert sw_key.digest(b"m") == hmac.digest(base64.b64decode(secret[6:]), b"m", "sha256")
        assert stripe_key.digest(b"m") != sw_key.digest(b"m")

    def test_a_standard_webhooks_signature_does_not_verify_as_stripe(self) -> None:
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        mac = hmac.digest(base64.b64decode(secret[6:]), b"12345." + ST_PAYLOAD, hashlib.sha256)
        with pytest.raises(SignatureMismatch):
            _verifier(secret).verify(
                ST_PAYLOAD, {"Stripe-Signature": f"t=12345,v1={mac.hex()}"}, now=ST_TS
            )

    @pytest.mark.parametrize("secret", ["", " whsec_x", "whsec_x\n", "\ufeffwhsec_x", b""])
    def test_bad_secrets_refused(self, secret: object) -> None:
        with pytest.raises(ConfigurationError):
            Verifier(SCHEME, secret, nonce_store=None)

    def test_rotation(self) -> None:
        old, new = "whsec_old", "whsec_new"
        verifier = _verifier(old, new)
        for index, secret in enumerate((old, new)):
            signed = Signer(SCHEME, secret).sign(ST_PAYLOAD, timestamp=ST_TS)
            assert verifier.verify(ST_PAYLOAD, signed, now=ST_TS).key_index == index
        # Stripe sends one v1 per active secret during a rotation.
        both = "t=12345,v1=" + "00" * 32 + ",v1=" + VALID_HEX
        assert (
            _verifier("whsec_other", ST_SECRET)
            .verify(ST_PAYLOAD, {"Stripe-Signature": both}, now=ST_TS)
            .key_index
            == 1
        )


# --- Differential tests against stripe-python -----------------------------------------------

secrets_st = st.from_regex(r"whsec_[A-Za-z0-9]{1,40}", fullmatch=True)
bodies = st.text(max_size=300).map(str.encode)
offsets = st.integers(min_value=-240, max_value=240)


def _stripe_accepts(body: bytes, header: str, secret: str) -> bool:
    try:
        return bool(stripe.WebhookSignature.verify_header(body, header, secret, tolerance=300))
    except stripe.SignatureVerificationError:
        return False


@given(secret=secrets_st, body=bodies, offset=offsets)
def test_stripe_signature_verifies(secret: str, body: bytes, offset: int) -> None:
    now = int(time.time())
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, now + offset)
    verified = _verifier(secret).verify(body, {"stripe-signature": header}, now=now)
    assert verified.timestamp == now + offset
    assert verified.body == body


@given(secret=secrets_st, body=bodies, offset=offsets)
def test_hookseal_signature_accepted_by_stripe(secret: str, body: bytes, offset: int) -> None:
    ts = int(time.time()) + min(offset, 0)  # stripe-python never checks the future side
    header = Signer(SCHEME, secret).sign(body, timestamp=ts)["Stripe-Signature"]
    assert header == stripe.WebhookSignature.generate_signature_header(body.decode(), secret, ts)
    assert _stripe_accepts(body, header, secret)


@given(
    secret=secrets_st,
    other=secrets_st,
    body=bodies,
    offset=offsets,
    tamper=st.sampled_from(["body", "signature", "timestamp", "secret"]),
)
def test_tampered_rejected_by_both(
    secret: str, other: str, body: bytes, offset: int, tamper: str
) -> None:
    now = int(time.time())
    ts = now + min(offset, 0)
    header = Signer(SCHEME, secret).sign(body, timestamp=ts)["Stripe-Signature"]
    verify_secret = secret
    if tamper == "body":
        body += b" "
    elif tamper == "signature":
        mac = bytearray.fromhex(header.split("v1=")[1])
        mac[len(body) % 32] ^= 0x80
        header = f"t={ts},v1={mac.hex()}"
    elif tamper == "timestamp":
        header = header.replace(f"t={ts},", f"t={ts - 1},")
    else:
        verify_secret = other if other != secret else secret + "x"
    assert not _stripe_accepts(body, header, verify_secret)
    with pytest.raises(SignatureMismatch):
        _verifier(verify_secret).verify(body, {"Stripe-Signature": header}, now=now)


def test_future_timestamps_refused_unlike_stripe_python() -> None:
    now = int(time.time())
    header = Signer(SCHEME, ST_SECRET).sign(ST_PAYLOAD, timestamp=now + 3600)["Stripe-Signature"]
    assert _stripe_accepts(ST_PAYLOAD, header, ST_SECRET)  # stripe-python's known gap
    assert _attempt(header, now=now) == (TimestampOutOfTolerance, "timestamp_in_future")


# --- Hostile headers -----------------------------------------------------------------------

MALFORMED = (MalformedHeader, "malformed_header")
MISMATCH = (SignatureMismatch, "signature_mismatch")
UNSUPPORTED = (SignatureMismatch, "no_supported_signature")
BAD_TS = (MalformedHeader, "malformed_timestamp")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", (MissingHeader, "missing_header")),
        ("   ", (MissingHeader, "missing_header")),
        ({}, (MissingHeader, "missing_header")),
        ("t=12345,", MALFORMED),
        ("t=12345", MALFORMED),  # no v1 and nothing else
        ("v1=" + VALID_HEX, MALFORMED),  # no timestamp
        ("t=,v1=" + VALID_HEX, MALFORMED),
        ("t=12345,v1=", MALFORMED),
        ("t=12345,v1", MALFORMED),
        ("t=12345,=" + VALID_HEX, MALFORMED),
        ("t=12345,,v1=" + VALID_HEX, MALFORMED),
        ("t=12345,t=12345,v1=" + VALID_HEX, MALFORMED),
        ("t=12345,v1=" + VALID_HEX + ",t=99999", MALFORMED),
        ("t=12345,v0=" + VALID_HEX, UNSUPPORTED),
        ("t=12345,V1=" + VALID_HEX, UNSUPPORTED),
        ("t=12345, v1=" + VALID_HEX, MALFORMED),  # spaces are refused, as for Paddle and WorkOS
        ("t=12345,v1=" + VALID_HEX + "=junk", MALFORMED),
        ("t=12345,v1=" + VALID_HEX[:-1], MALFORMED),  # odd-length hex
        ("t=12345,v1=" + VALID_HEX[:-2], MISMATCH),  # truncated
        ("t=12345,v1=" + VALID_HEX + "00", MISMATCH),  # extended
        ("t=12345,v1=" + VALID_HEX[:-2] + "zz", MALFORMED),
        ("t=12345,v1=" + VALID_HEX[:30] + " " + VALID_HEX[31:], MALFORMED),
        ("t=12345,v1=" + VALID_HEX + " ", MALFORMED),
        ("t=12345,v1=" + VALID_HEX + "é", MALFORMED),
        ("t=12345,v1=" + VALID_HEX + "\x00", MALFORMED),
        ("t=12345,v1=" + VALID_HEX.upper(), "accepted"),  # same bytes
        ("sha256=" + VALID_HEX, MALFORMED),
        ("t=12345,v1=" + hashlib.sha1(b"x").hexdigest(), MISMATCH),  # SHA-1 length
        ("t=12344,v1=" + VALID_HEX, MISMATCH),  # timestamp moved by 1 s
        ("t=012345,v1=" + VALID_HEX, BAD_TS),  # leading zero: one spelling per number
        ("t=+12345,v1=" + VALID_HEX, BAD_TS),
        ("t= 12345,v1=" + VALID_HEX, MALFORMED),
        ("t=1_2345,v1=" + VALID_HEX, BAD_TS),
        ("t=12345.0,v1=" + VALID_HEX, BAD_TS),
        ("t=1e4,v1=" + VALID_HEX, BAD_TS),
        ("t=nan,v1=" + VALID_HEX, BAD_TS),
        ("t=１２３４５,v1=" + VALID_HEX, MALFORMED),
        ("t=12345,v1=" + "0" * 5000, (MalformedHeader, "header_too_long")),
    ],
)
def test_hostile_headers(header: object, expected: object) -> None:
    assert _attempt(header) == expected


def test_window_both_ways() -> None:
    assert _attempt(ST_HEADER, now=ST_TS + 301) == (TimestampOutOfTolerance, "timestamp_too_old")
    assert _attempt(ST_HEADER, now=ST_TS - 301) == (
        TimestampOutOfTolerance,
        "timestamp_in_future",
    )
    assert _attempt(ST_HEADER, now=ST_TS + 300) == "accepted"


def test_many_entries_refused_before_crypto(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = HMACKey.digest_parts

    def counting(self: HMACKey, prefix: bytes, message: bytes) -> bytes:
        calls.append(1)
        return original(self, prefix, message)

    monkeypatch.setattr(HMACKey, "digest_parts", counting)
    many = "t=12345," + ",".join(["v1=" + "00" * 32] * 1000) + ",v1=" + VALID_HEX
    assert _attempt(many, max_header_bytes=100_000) == (MalformedHeader, "too_many_signatures")
    nine = "t=12345," + ",".join(["v1=" + "00" * 32] * 8) + ",v1=" + VALID_HEX
    assert _attempt(nine, max_header_bytes=100_000) == (MalformedHeader, "too_many_signatures")
    assert calls == []
    eight = "t=12345," + ",".join(["v1=" + "00" * 32] * 7) + ",v1=" + VALID_HEX
    assert _attempt(eight) == "accepted"
    assert calls == [1]


def test_duplicate_header_lines() -> None:
    forged = "t=12345,v1=" + "00" * 32
    for pair in ((ST_HEADER, forged), (forged, ST_HEADER)):
        headers = Headers([("Stripe-Signature", pair[0]), ("stripe-signature", pair[1])])
        assert _attempt(headers) == (MalformedHeader, "duplicate_header")


def test_body_changes_and_reserialisation() -> None:
    import json

    reserialised = json.dumps(json.loads(ST_PAYLOAD)).encode()
    for body in (ST_PAYLOAD + b"\n", ST_PAYLOAD[:-1], reserialised, b"\xff\xfe" + ST_PAYLOAD):
        assert _attempt(ST_HEADER, body=body) == MISMATCH


def test_errors_do_not_leak() -> None:
    with pytest.raises(SignatureMismatch) as info:
        _verifier("whsec_wrong").verify(ST_PAYLOAD, {"Stripe-Signature": ST_HEADER}, now=ST_TS)
    expected = hmac.digest(b"whsec_wrong", b"12345." + ST_PAYLOAD, "sha256").hex()
    text = str(info.value) + repr(info.value)
    for part in ("whsec_wrong", expected, VALID_HEX, "evt_test_webhook"):
        assert part not in text


class _Renamed(Stripe):
    """A deployment whose proxy forwards Stripe's signature under another header name."""

    def __init__(self) -> None:
        super().__init__()
        self._header = HeaderName("X-Forwarded-Stripe-Signature")


@pytest.mark.parametrize("shape", ["dict", "lines"])
def test_a_subclass_renaming_the_header_is_read_the_same_on_every_path(shape: str) -> None:
    """The prepared check once read the module's header name and accepted what check refused."""
    signed = Signer(Stripe(), ST_SECRET).sign(ST_PAYLOAD, timestamp=ST_TS, msg_id="m")
    renamed = {"X-Forwarded-Stripe-Signature": signed["Stripe-Signature"]}
    verifier = Verifier(_Renamed(), [ST_SECRET], nonce_store=None)
    original = signed if shape == "dict" else list(signed.items())
    with pytest.raises(MissingHeader):
        verifier.verify(ST_PAYLOAD, original, now=ST_TS)
    moved = renamed if shape == "dict" else list(renamed.items())
    assert verifier.verify(ST_PAYLOAD, moved, now=ST_TS).timestamp == ST_TS
