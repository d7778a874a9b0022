"""Linear: ``Linear-Signature: <hex HMAC-SHA256 of the body>`` + the body's ``webhookTimestamp``.

Linear publishes no fixed secret/body/signature triple: its SDK's tests
(packages/sdk/src/_tests/LinearWebhooks.test.ts in github.com/linear/linear) sign the body
below with the secret ``"SECRET"`` at run time, using ``Date.now()`` as ``webhookTimestamp``.
The vector here is that fixture with the timestamp frozen and the MAC computed independently
with :mod:`hmac` from the documented algorithm (https://linear.app/developers/webhooks):
"derived". The SDK is TypeScript (no Python SDK exists), so there is no differential test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import types
from typing import Any
from unittest import mock

import pytest

import hookseal
from hookseal import (
    ConfigurationError,
    Headers,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    Verifier,
)
from hookseal.schemes import linear as linear_module
from hookseal.schemes.base import make_replay_key
from hookseal.schemes.linear import Linear
from hookseal.stores.memory import MemoryNonceStore

SECRET = "SECRET"
OTHER = "lin_wh_rotated_out_secret"
NOW_MS = 1_700_000_000_125  # .125 s: exact as a float clock reading
NOW = NOW_MS / 1000
SIG = "Linear-Signature"


def sdk_fixture(timestamp: Any = NOW_MS, **changes: Any) -> bytes:
    """The SDK test's request body as ``JSON.stringify`` writes it (compact, in order)."""
    document: dict[str, Any] = {
        "action": "create",
        "data": {
            "id": "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9",
            "createdAt": "2020-01-23T12:53:18.084Z",
            "updatedAt": "2020-01-23T12:53:18.084Z",
            "archivedAt": None,
            "body": "Indeed, I think this is definitely an improvement over the previous version.",
            "edited": False,
            "issueId": "539068e2-ae88-4d09-bd75-22eb4a59612f",
            "userId": "aacdca22-6266-4c0a-ab3c-8fa70a26765c",
        },
        "type": "Comment",
        "url": "https://linear.app/issue/LIN-1778/foo-bar#comment-77217de3-fb52-4dad-bb9a-b356beb93de8",
        "createdAt": "2020-01-23T12:53:18.084Z",
        "webhookTimestamp": timestamp,
    }
    document.update(changes)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


BODY = sdk_fixture()


def mac(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verifier(*secrets: str, **options: Any) -> Verifier:
    options.setdefault("nonce_store", None)
    options.setdefault("clock", lambda: NOW)
    return Verifier(Linear(), list(secrets or [SECRET]), **options)


# -- accepted --------------------------------------------------------------------------------


def test_sdk_fixture_vector() -> None:
    assert BODY.startswith(b'{"action":"create","data":{"id":"2174add1-')
    signature = mac(BODY)
    assert len(signature) == 64
    verified = verifier().verify(
        BODY, {SIG: signature, "Linear-Delivery": "5f3c6a0e-1d2b-4c3a-9e8f-0a1b2c3d4e5f"}
    )
    assert verified.scheme == "linear"
    assert verified.body == BODY
    assert verified.timestamp == NOW_MS // 1000
    assert verified.msg_id == "5f3c6a0e-1d2b-4c3a-9e8f-0a1b2c3d4e5f"
    assert verified.key_index == 0


def test_signer_round_trip() -> None:
    headers = Signer(Linear(), SECRET).sign(BODY, msg_id="delivery-1")
    assert headers == {SIG: mac(BODY), "Linear-Delivery": "delivery-1"}
    assert verifier().verify(BODY, headers).msg_id == "delivery-1"


def test_delivery_header_is_optional_and_unsigned() -> None:
    assert verifier().verify(BODY, {SIG: mac(BODY)}).msg_id is None
    for delivery in ("a", "b"):  # any value: it is not signed
        assert verifier().verify(BODY, {SIG: mac(BODY), "Linear-Delivery": delivery})


def test_header_name_is_case_insensitive() -> None:
    verifier().verify(BODY, {"linear-signature": mac(BODY)})
    verifier().verify(BODY, Headers([("LINEAR-SIGNATURE", mac(BODY))]))


def test_rotation_any_configured_secret() -> None:
    assert verifier(OTHER, SECRET).verify(BODY, {SIG: mac(BODY)}).key_index == 1


def test_body_with_non_ascii_text_and_members_after_the_timestamp() -> None:
    body = sdk_fixture(extra={"note": "café ✓", "nested": [[[]]]})
    verifier().verify(body, {SIG: mac(body)})


# -- refused: signature ----------------------------------------------------------------------


def test_tampered_body() -> None:
    reserialised = json.dumps(json.loads(BODY)).encode()
    assert reserialised != BODY
    flipped = BODY[:20] + bytes([BODY[20] ^ 1]) + BODY[21:]
    for body in (flipped, BODY + b"\n", reserialised, b""):
        with pytest.raises(SignatureMismatch):
            verifier().verify(body, {SIG: mac(BODY)})


def test_wrong_secret_and_other_algorithm() -> None:
    with pytest.raises(SignatureMismatch):
        verifier().verify(BODY, {SIG: mac(BODY, "another")})
    sha512 = hmac.new(SECRET.encode(), BODY, hashlib.sha512).hexdigest()
    for value in (sha512, sha512[:64], hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()):
        with pytest.raises(SignatureMismatch):
            verifier().verify(BODY, {SIG: value})


@pytest.mark.parametrize("headers", [{}, {SIG: ""}, {SIG: "  "}, {"Linear-Timestamp": "1"}])
def test_missing_signature(headers: dict[str, str]) -> None:
    with pytest.raises(MissingHeader):
        verifier().verify(BODY, headers)


@pytest.mark.parametrize("valid_first", [True, False])
def test_duplicate_signature_header(valid_first: bool) -> None:
    lines = [(SIG, mac(BODY)), (SIG, mac(BODY, "forged"))]
    with pytest.raises(MalformedHeader) as info:
        verifier().verify(BODY, Headers(lines if valid_first else lines[::-1]))
    assert info.value.reason == "duplicate_header"


def test_malformed_signature_values() -> None:
    good = mac(BODY)
    for value in (
        good + "0" * 100_000,
        good + "!",
        good[:-1],
        good[:10] + " " + good[10:],
        good + "," + good,
        "sha256=" + good,
        good[:10] + "\x00" + good[10:],
        "é",
    ):
        with pytest.raises(MalformedHeader):
            verifier().verify(BODY, {SIG: value})


def test_truncated_and_extended_macs() -> None:
    raw = bytes.fromhex(mac(BODY))
    for presented in (raw[:-1], raw[:1], raw + b"\0"):
        with pytest.raises(SignatureMismatch):
            verifier().verify(BODY, {SIG: presented.hex()})


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"webhookTimestamp":1}', BODY[:-1]])
def test_the_signature_is_checked_before_the_body_is_parsed(body: bytes) -> None:
    """A forged delivery is a SignatureMismatch whatever its body: nothing unauthenticated is
    parsed, so a forger learns nothing about the timestamp rules."""
    with mock.patch.object(linear_module, "parse_message") as parse:
        with pytest.raises(SignatureMismatch):
            verifier().verify(body, {SIG: mac(body, "forged")})
        parse.assert_not_called()


def test_empty_secret_is_a_configuration_error() -> None:
    for bad in ("", b"", " padded "):
        with pytest.raises(ConfigurationError):
            Verifier(Linear(), [bad])


# -- refused: the signed timestamp -----------------------------------------------------------


def test_window_in_milliseconds() -> None:
    v = verifier(tolerance=60)
    for offset in (-60_000, 60_000, 0):
        body = sdk_fixture(NOW_MS + offset)
        v.verify(body, {SIG: mac(body)})
    for offset, reason in ((-60_001, "timestamp_too_old"), (60_001, "timestamp_in_future")):
        body = sdk_fixture(NOW_MS + offset)
        with pytest.raises(TimestampOutOfTolerance) as info:
            v.verify(body, {SIG: mac(body)})
        assert info.value.reason == reason
        assert info.value.header == "webhookTimestamp"


@pytest.mark.parametrize(
    "timestamp",
    [NOW_MS - 301_000, NOW_MS + 301_000, NOW_MS + 86_400_000, NOW_MS + 100 * 31_536_000_000, 1],
)
def test_stale_or_future_genuine_body_is_refused(timestamp: int) -> None:
    body = sdk_fixture(timestamp)
    with pytest.raises(TimestampOutOfTolerance):
        verifier().verify(body, {SIG: mac(body)})


def test_unsigned_timestamp_header_is_never_used() -> None:
    """The SDK reads ``Linear-Timestamp`` when the body has no timestamp; it is not signed, so
    a fresh one cannot refresh a captured stale body, nor stand in for a missing field."""
    stale = sdk_fixture(NOW_MS - 600_000)
    fresh = str(NOW_MS)
    with pytest.raises(TimestampOutOfTolerance):
        verifier().verify(stale, {SIG: mac(stale), "Linear-Timestamp": fresh})
    document = json.loads(BODY)
    del document["webhookTimestamp"]
    missing = json.dumps(document).encode()
    with pytest.raises(MalformedHeader) as info:
        verifier().verify(missing, {SIG: mac(missing), "Linear-Timestamp": fresh})
    assert info.value.reason == "malformed_timestamp"


@pytest.mark.parametrize(
    "timestamp",
    [None, str(NOW_MS), float(NOW_MS), True, -NOW_MS, 0, 10**15, 10**300, [NOW_MS], {}],
)
def test_malformed_signed_timestamp(timestamp: Any) -> None:
    body = sdk_fixture(timestamp)
    with pytest.raises(MalformedHeader) as info:
        verifier().verify(body, {SIG: mac(body)})
    assert info.value.reason == "malformed_timestamp"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"webhookTimestamp"',
        b"\xff\xfe{}",
        b'{"webhookTimestamp": NaN}',
        b'{"webhookTimestamp":' + b"1" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        # Two members of one name: JavaScript and Python keep the last, a bug elsewhere the
        # first; refused rather than guessed.
        b'{"webhookTimestamp":1,"webhookTimestamp":' + str(NOW_MS).encode() + b"}",
    ],
)
def test_authenticated_body_that_is_not_a_linear_object(body: bytes) -> None:
    with pytest.raises(MalformedHeader) as info:
        verifier().verify(body, {SIG: mac(body)})
    assert info.value.reason == "malformed_body"


def test_rejections_leave_no_other_keys_mac_in_any_frame() -> None:
    """A genuine but stale delivery during a rotation: the verifier computed the other key's
    MAC of the body (a valid signature the sender never sent); no hookseal frame of the
    rejection's traceback may hold it, or an error tracker would record it."""
    stale = sdk_fixture(NOW_MS - 600_000)
    expected_other = hmac.new(OTHER.encode(), stale, hashlib.sha256).digest()
    forbidden = {expected_other, expected_other.hex(), OTHER, OTHER.encode()}
    for body in (stale, sdk_fixture(None), sdk_fixture(0)):
        expected_other = hmac.new(OTHER.encode(), body, hashlib.sha256).digest()
        forbidden |= {expected_other, expected_other.hex()}
        with pytest.raises((TimestampOutOfTolerance, MalformedHeader)) as info:
            verifier(OTHER, SECRET).verify(body, {SIG: mac(body)})
        frames = _hookseal_frames(info.value)
        assert frames
        for frame in frames:
            for name, value in frame.f_locals.items():
                for item in _flatten(value):
                    assert item not in forbidden, f"{frame.f_code.co_name}:{name}"


def _hookseal_frames(exc: BaseException) -> list[types.FrameType]:
    root = hookseal.__file__.rsplit("/", 1)[0]
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(root):
            frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _flatten(value: object, depth: int = 0) -> list[object]:
    found = [value]
    if depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            found.extend(_flatten(item, depth + 1))
    return [item for item in found if isinstance(item, (str, bytes))]


# -- replay and leaks ------------------------------------------------------------------------


def test_replay_identity_and_retention() -> None:
    store = MemoryNonceStore()
    v = verifier(nonce_store=store)
    first = v.verify(BODY, {SIG: mac(BODY), "Linear-Delivery": "d-1"})
    assert first.replay_key == make_replay_key("linear", bytes.fromhex(mac(BODY)))
    with pytest.raises(ReplayedDelivery):
        v.verify(BODY, {SIG: mac(BODY), "Linear-Delivery": "a-fresh-unsigned-id"})
    # A worker with another key set (a rolling deploy) sharing the store refuses it too.
    with pytest.raises(ReplayedDelivery):
        verifier(OTHER, SECRET, nonce_store=store).verify(BODY, {SIG: mac(BODY)})
    # Linear re-sends a retry with a new webhookTimestamp: a new body, accepted.
    retry = sdk_fixture(NOW_MS + 5_000)
    v.verify(retry, {SIG: mac(retry)})
    # The record lives as long as the window could still accept the delivery.
    later = verifier(nonce_store=store, clock=lambda: NOW + 300)
    with pytest.raises(ReplayedDelivery):
        later.verify(BODY, {SIG: mac(BODY)})


def test_nothing_secret_leaks() -> None:
    forged = mac(BODY, "forged")
    for body, headers in ((BODY, {SIG: forged}), (sdk_fixture(1), {SIG: mac(sdk_fixture(1))})):
        with pytest.raises(hookseal.VerificationError) as info:
            verifier(SECRET, OTHER).verify(body, headers)
        text = str(info.value) + repr(info.value)
        for leak in (mac(BODY), mac(BODY, OTHER), SECRET, OTHER, "2174add1", "Indeed"):
            assert leak not in text
    assert SECRET not in repr(verifier())
    assert repr(Linear()) == "Linear()"


def test_options_are_read_only_once_used() -> None:
    scheme = Linear()
    Verifier(scheme, [SECRET])
    with pytest.raises(AttributeError):
        scheme.signs_timestamp = False
