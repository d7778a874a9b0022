"""SendGrid Signed Event Webhook: ECDSA P-256 over ``timestamp + body``, base64 DER.

Vector SG-1: the official SDK's own test, sendgrid/sendgrid-python
``test/unit/test_eventwebhook.py`` (public key, signature, timestamp ``1600112502`` and the
payload, ``json.dumps(..., sort_keys=True, separators=(',', ':')) + '\\r\\n'``), with its
"bad key", "bad payload", "bad signature" and "bad timestamp" cases.
Docs: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
The SDK (``sendgrid.EventWebhook``) is also a differential oracle, both directions.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
from types import ModuleType

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
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
from hookseal.schemes.sendgrid import SendGrid
from hookseal.stores.memory import MemoryNonceStore


def _sdk(name: str) -> ModuleType:
    """The provider's SDK: skipped locally when absent, a failure under CI=true."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name)


SIG, TS = "X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"
PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRq"
    "e62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
OTHER_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8"
    "REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA=="
)
SIGNATURE = (
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15Tl"
    "uLtEZtM="
)
BAD_SIGNATURE = (
    "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDW"
    "YNH3j/0="
)
TIMESTAMP = 1600112502
PAYLOAD = (
    json.dumps(
        [
            {
                "email": "hello@world.com",
                "event": "dropped",
                "reason": "Bounced Address",
                "sg_event_id": "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
                "sg_message_id": (
                    "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0"
                ),
                "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
                "timestamp": 1600112492,
            }
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    + "\r\n"
).encode()
HEADERS = {SIG: SIGNATURE, TS: str(TIMESTAMP)}


def _verifier(keys: object = PUBLIC_KEY, **options: object) -> Verifier:
    return Verifier(SendGrid(), keys, **options)  # type: ignore[arg-type]


def _pem(private: ec.EllipticCurvePrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _shown(public: ec.EllipticCurvePublicKey) -> str:
    """The key as SendGrid's dashboard shows it: base64 of the DER SubjectPublicKeyInfo."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


PRIVATE = ec.generate_private_key(ec.SECP256R1())
PRIVATE_PEM = _pem(PRIVATE)
SHOWN = _shown(PRIVATE.public_key())


# --- the published vector -------------------------------------------------------------------


def test_sg1_valid_signature_verifies() -> None:
    """sendgrid-python test_eventwebhook.py, test_verify_valid_signature."""
    verified = _verifier().verify(PAYLOAD, HEADERS, now=TIMESTAMP)
    assert verified.scheme == "sendgrid"
    assert verified.timestamp == TIMESTAMP
    assert verified.body == PAYLOAD


def test_sg1_key_in_pem_form_verifies_too() -> None:
    pem = f"-----BEGIN PUBLIC KEY-----\n{PUBLIC_KEY}\n-----END PUBLIC KEY-----\n"
    assert _verifier(pem).verify(PAYLOAD, HEADERS, now=TIMESTAMP)


@pytest.mark.parametrize(
    ("keys", "body", "headers"),
    [
        (OTHER_KEY, PAYLOAD, HEADERS),  # test_verify_bad_key
        (PUBLIC_KEY, b"payload", HEADERS),  # test_verify_bad_payload
        (PUBLIC_KEY, PAYLOAD, {SIG: BAD_SIGNATURE, TS: str(TIMESTAMP)}),  # bad signature
        (PUBLIC_KEY, PAYLOAD.rstrip(), HEADERS),  # without the trailing CRLF
        (PUBLIC_KEY, PAYLOAD, {SIG: SIGNATURE, TS: str(TIMESTAMP + 1)}),
    ],
    ids=["bad-key", "bad-payload", "bad-signature", "no-crlf", "timestamp+1"],
)
def test_sg1_negative_cases(keys: str, body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier(keys).verify(body, headers, now=TIMESTAMP)


def test_sg1_bad_timestamp_is_malformed() -> None:
    """sendgrid-python test_verify_bad_timestamp: the literal 'timestamp'."""
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(PAYLOAD, {SIG: SIGNATURE, TS: "timestamp"}, now=TIMESTAMP)
    assert caught.value.reason == "malformed_timestamp"


def test_rotation_either_key_and_identity_is_key_order_independent() -> None:
    one = _verifier([OTHER_KEY, PUBLIC_KEY], nonce_store=None).verify(
        PAYLOAD, HEADERS, now=TIMESTAMP
    )
    two = _verifier([PUBLIC_KEY, OTHER_KEY], nonce_store=None).verify(
        PAYLOAD, HEADERS, now=TIMESTAMP
    )
    assert (one.key_index, two.key_index) == (1, 0)
    assert one.replay_keys == two.replay_keys


def test_malleated_signature_is_the_same_delivery() -> None:
    # (r, s) -> (r, n - s) is a second valid ECDSA signature of the same bytes: the replay
    # identity must not change with it.
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature,
        encode_dss_signature,
    )

    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    r, s = decode_dss_signature(base64.b64decode(SIGNATURE))
    twin = base64.b64encode(encode_dss_signature(r, n - s)).decode()
    verifier = _verifier(nonce_store=MemoryNonceStore())
    verifier.verify(PAYLOAD, HEADERS, now=TIMESTAMP)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(PAYLOAD, {SIG: twin, TS: str(TIMESTAMP)}, now=TIMESTAMP + 1)


# --- round trips, the SDK as an oracle ------------------------------------------------------


def test_signer_round_trip() -> None:
    headers = Signer(SendGrid(), PRIVATE_PEM).sign(PAYLOAD, timestamp=TIMESTAMP)
    assert headers[TS] == str(TIMESTAMP)
    assert _verifier(SHOWN).verify(PAYLOAD, headers, now=TIMESTAMP)
    with pytest.raises(SignatureMismatch):
        _verifier(SHOWN).verify(PAYLOAD + b" ", headers, now=TIMESTAMP)


def test_sdk_agrees_on_the_published_vector() -> None:
    sendgrid = _sdk("sendgrid")
    webhook = sendgrid.EventWebhook(PUBLIC_KEY)
    assert webhook.verify_signature(PAYLOAD.decode(), SIGNATURE, str(TIMESTAMP)) is True


@settings(max_examples=25)
@given(body=st.text(max_size=200), ts=st.integers(min_value=1_000_000_000, max_value=10**11))
def test_hookseal_signs_sdk_verifies(body: str, ts: int) -> None:
    sendgrid = _sdk("sendgrid")
    headers = Signer(SendGrid(), PRIVATE_PEM).sign(body.encode(), timestamp=ts)
    webhook = sendgrid.EventWebhook(SHOWN)
    assert webhook.verify_signature(body, headers[SIG], headers[TS]) is True
    assert webhook.verify_signature(body + "x", headers[SIG], headers[TS]) is False


@settings(max_examples=25)
@given(body=st.text(max_size=200), ts=st.integers(min_value=1_000_000_000, max_value=10**11))
def test_sdk_verified_signatures_verify_here(body: str, ts: int) -> None:
    # The SDK only verifies: a signature it accepts must be accepted here, and vice versa.
    sendgrid = _sdk("sendgrid")
    raw = body.encode()
    signature = base64.b64encode(
        PRIVATE.sign(str(ts).encode() + raw, ec.ECDSA(hashes.SHA256()))
    ).decode()
    assert sendgrid.EventWebhook(SHOWN).verify_signature(body, signature, str(ts)) is True
    verified = _verifier(SHOWN, nonce_store=None).verify(raw, {SIG: signature, TS: str(ts)}, now=ts)
    assert verified.body == raw


# --- derived negatives ----------------------------------------------------------------------


def test_window_both_ways() -> None:
    verifier = _verifier(nonce_store=None)
    assert verifier.verify(PAYLOAD, HEADERS, now=TIMESTAMP + 300)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(PAYLOAD, HEADERS, now=TIMESTAMP + 301)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(PAYLOAD, HEADERS, now=TIMESTAMP - 301)


def test_moving_a_digit_between_timestamp_and_body_is_refused() -> None:
    body = b"1" + PAYLOAD  # the same signed bytes as timestamp '1600112502' + '1' + payload
    with pytest.raises(TimestampOutOfTolerance):
        _verifier().verify(body[1:], {SIG: SIGNATURE, TS: "16001125021"}, now=TIMESTAMP)
    with pytest.raises(TimestampOutOfTolerance):
        _verifier().verify(b"2" + PAYLOAD, {SIG: SIGNATURE, TS: "160011250"}, now=TIMESTAMP)


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({SIG: None}, MissingHeader, "missing_header"),
        ({TS: None}, MissingHeader, "missing_header"),
        ({SIG: " "}, MissingHeader, "missing_header"),
        ({SIG: SIGNATURE + "!!!"}, MalformedHeader, "malformed_header"),
        ({SIG: SIGNATURE.rstrip("=")}, MalformedHeader, "malformed_header"),
        ({SIG: SIGNATURE + " "}, MalformedHeader, "malformed_header"),
        ({SIG: SIGNATURE.replace("+", "-")}, MalformedHeader, "malformed_header"),
        ({SIG: "AAAA"}, SignatureMismatch, "signature_mismatch"),
        ({SIG: base64.b64encode(b"\x00" * 100).decode()}, SignatureMismatch, "signature_mismatch"),
        ({SIG: "A" * 5000}, MalformedHeader, "header_too_long"),
        ({TS: "1600112502.0"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "-1"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "0x5f5fc776"}, MalformedHeader, "malformed_timestamp"),
    ],
)
def test_hostile_headers(
    change: dict[str, str | None], error: type[VerificationError], reason: str
) -> None:
    headers = {k: v for k, v in {**HEADERS, **change}.items() if v is not None}
    with pytest.raises(error) as caught:
        _verifier().verify(PAYLOAD, headers, now=TIMESTAMP)
    assert caught.value.reason == reason


@pytest.mark.parametrize("name", [SIG, TS])
def test_duplicated_header_is_refused(name: str) -> None:
    lines = [*HEADERS.items(), (name, HEADERS[name])]
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(PAYLOAD, Headers(lines), now=TIMESTAMP)
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not base64!",
        base64.b64encode(b"\x30\x00").decode(),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        # A P-384 key: the right form, the wrong curve.
        _shown(ec.generate_private_key(ec.SECP384R1()).public_key()),
    ],
)
def test_keys_that_are_not_p256_public_keys_are_configuration_errors(key: str) -> None:
    with pytest.raises(ConfigurationError):
        _verifier(key)


def test_signer_refuses_a_public_key() -> None:
    with pytest.raises(ConfigurationError):
        Signer(SendGrid(), PUBLIC_KEY)


@given(value=st.text(max_size=120))
def test_any_signature_text_raises_only_verification_errors(value: str) -> None:
    try:
        _verifier(nonce_store=None).verify(PAYLOAD, {SIG: value, TS: str(TIMESTAMP)}, now=TIMESTAMP)
    except VerificationError:
        return
    raise AssertionError("a random signature verified")
