"""HubSpot v3 (HMAC-SHA256 of method + URI + body + ms timestamp) and the legacy v2.

Vectors, from the official SDK's tests, HubSpot/hubspot-api-python
``tests/spec/utils/test_signature.py`` (secret ``yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy``):
- HS3-1: ``test_get_signature__v3`` (POST, timestamp 15000000 ms);
- HS2-1: ``test_get_signature__v2`` (POST with body);
- HS2-2: ``test_is_valid__v2_get_method`` (GET, empty body), also the example on
  https://developers.hubspot.com/docs/faq/v2-request-validation
Docs: https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests
The SDK (``hubspot.utils.signature.Signature``) is a differential oracle, both directions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import os
import struct
import time
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookseal import (
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
from hookseal.schemes.hubspot import HubSpot, HubSpotV2
from hookseal.stores.memory import MemoryNonceStore


def _sdk(name: str) -> ModuleType:
    """The provider's SDK: skipped locally when absent, a failure under CI=true."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name)


SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
BODY = b"{'example_field':'example_value'}"
URL = "https://www.example.com/webhook_uri"
V3, TS = "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp"
V2, VERSION = "X-HubSpot-Signature", "X-HubSpot-Signature-Version"
HS3_1 = {V3: "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", TS: "15000000"}
HS2_1 = {V2: "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383", VERSION: "v2"}
HS2_2 = {V2: "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", VERSION: "v2"}


def _v3(secrets: object = SECRET, **options: object) -> Verifier:
    return Verifier(HubSpot(), secrets, **options)  # type: ignore[arg-type]


def _v2(secrets: object = SECRET, **options: object) -> Verifier:
    return Verifier(HubSpotV2(), secrets, **options)  # type: ignore[arg-type]


# --- v3 -------------------------------------------------------------------------------------


def test_hs3_1_published_vector() -> None:
    """hubspot-api-python test_get_signature__v3 (a 1970 timestamp: the clock is frozen)."""
    verified = _v3().verify(BODY, HS3_1, url=URL, method="POST", now=15000)
    assert verified.scheme == "hubspot"
    assert verified.timestamp == 15000


def test_hs3_1_is_what_the_signer_produces_and_method_defaults_to_post() -> None:
    assert Signer(HubSpot(), SECRET).sign(BODY, timestamp=15000, url=URL) == HS3_1
    assert _v3(nonce_store=None).verify(BODY, HS3_1, url=URL, now=15000)


@pytest.mark.parametrize(
    ("body", "headers", "url", "method"),
    [
        (BODY + b" ", HS3_1, URL, "POST"),
        (BODY, HS3_1, URL + "?x=1", "POST"),
        (BODY, HS3_1, URL.replace("https", "http"), "POST"),
        (BODY, HS3_1, URL, "PUT"),
        (BODY, {**HS3_1, TS: "15000001"}, URL, "POST"),
    ],
    ids=["body", "query", "scheme", "method", "timestamp"],
)
def test_v3_tampering_is_a_mismatch(
    body: bytes, headers: dict[str, str], url: str, method: str
) -> None:
    with pytest.raises(SignatureMismatch):
        _v3().verify(body, headers, url=url, method=method, now=15000)


def test_v3_wrong_secret() -> None:
    with pytest.raises(SignatureMismatch):
        _v3("zzzzzzzz-zzzz").verify(BODY, HS3_1, url=URL, now=15000)


def test_v3_window_in_milliseconds_both_ways() -> None:
    now = 1_700_000_000
    headers = Signer(HubSpot(), SECRET).sign(BODY, timestamp=now, url=URL)
    assert headers[TS] == str(now * 1000)
    verifier = _v3(nonce_store=None)
    assert verifier.verify(BODY, headers, url=URL, now=now + 300)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(BODY, headers, url=URL, now=now + 301)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(BODY, headers, url=URL, now=now - 301)


@pytest.mark.parametrize(
    ("millis", "now", "reason"),
    [
        (1_700_000_300_000, 1_700_000_000, None),
        (1_700_000_300_001, 1_700_000_000, "timestamp_in_future"),
        (1_699_999_700_700, 1_700_000_000.5, None),  # 299.8 s old
        (1_699_999_700_200, 1_700_000_000.5, "timestamp_too_old"),  # 300.3 s old
    ],
)
def test_v3_window_is_exact_in_milliseconds(millis: int, now: float, reason: str | None) -> None:
    # The window is checked in the unit sent: rounding the milliseconds down to seconds first
    # let up to 999 ms more into the future and refused genuine deliveries at its old edge.
    line = b"POST" + URL.encode() + BODY + str(millis).encode()
    mac = hmac.new(SECRET.encode(), line, hashlib.sha256).digest()
    headers = {V3: base64.b64encode(mac).decode(), TS: str(millis)}
    verifier = _v3(nonce_store=None)
    if reason is None:
        assert verifier.verify(BODY, headers, url=URL, now=now).timestamp == millis // 1000
        return
    with pytest.raises(TimestampOutOfTolerance) as caught:
        verifier.verify(BODY, headers, url=URL, now=now)
    assert caught.value.reason == reason


def test_v3_digit_moved_between_body_and_timestamp_is_refused() -> None:
    now = 1_700_000_000
    body = b'{"a":1}'
    headers = Signer(HubSpot(), SECRET).sign(body, timestamp=now, url=URL)
    moved = {**headers, TS: headers[TS][1:]}  # '1' moved to the end of the body
    with pytest.raises(TimestampOutOfTolerance):
        _v3().verify(body + b"1", moved, url=URL, now=now)


def test_v3_replay_is_refused() -> None:
    now = 1_700_000_000
    headers = Signer(HubSpot(), SECRET).sign(BODY, timestamp=now, url=URL)
    verifier = _v3(nonce_store=MemoryNonceStore())
    verifier.verify(BODY, headers, url=URL, now=now)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, headers, url=URL, now=now + 1)


_S = "A" * 43 + "="


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({V3: None}, MissingHeader, "missing_header"),
        ({TS: None}, MissingHeader, "missing_header"),
        ({V3: HS3_1[V3] + "!"}, MalformedHeader, "malformed_header"),
        ({V3: HS3_1[V3].rstrip("=")}, MalformedHeader, "malformed_header"),
        ({V3: "AAAA"}, SignatureMismatch, "signature_mismatch"),
        ({V3: _S}, SignatureMismatch, "signature_mismatch"),
        ({V3: "A" * 5000}, MalformedHeader, "header_too_long"),
        ({TS: "15000000.0"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "1" * 16}, MalformedHeader, "malformed_timestamp"),
        ({TS: "-15000000"}, MalformedHeader, "malformed_timestamp"),
    ],
)
def test_v3_hostile_headers(
    change: dict[str, str | None], error: type[VerificationError], reason: str
) -> None:
    headers = {k: v for k, v in {**HS3_1, **change}.items() if v is not None}
    with pytest.raises(error) as caught:
        _v3().verify(BODY, headers, url=URL, now=15000)
    assert caught.value.reason == reason


@pytest.mark.parametrize("name", [V3, TS])
def test_v3_duplicated_header_is_refused(name: str) -> None:
    with pytest.raises(MalformedHeader) as caught:
        _v3().verify(BODY, Headers([*HS3_1.items(), (name, HS3_1[name])]), url=URL, now=15000)
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize(
    ("url", "method"),
    [
        (URL + "/é", "POST"),
        (URL + "/a b", "POST"),
        (URL + "/" + "a" * 9000, "POST"),
        (URL, "post"),
        (URL, "BREW"),
    ],
)
def test_v3_hostile_url_or_method_is_a_bad_request(url: str, method: str) -> None:
    with pytest.raises(MalformedHeader):
        _v3().verify(BODY, HS3_1, url=url, method=method, now=15000)


def test_v3_missing_or_relative_url_is_a_caller_bug() -> None:
    with pytest.raises(TypeError):
        _v3().verify(BODY, HS3_1, now=15000)
    with pytest.raises(ValueError):
        _v3().verify(BODY, HS3_1, url="/webhook_uri", now=15000)


def test_v3_sdk_agrees_on_the_vector() -> None:
    signature = _sdk("hubspot.utils.signature").Signature
    assert (
        signature.get_signature(SECRET, BODY.decode(), "v3", URL, "POST", "15000000") == HS3_1[V3]
    )


_secrets = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
_paths = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)


@settings(max_examples=40)
@given(body=st.text(max_size=200), secret=_secrets, path=_paths)
def test_v3_hookseal_and_sdk_agree_both_ways(body: str, secret: str, path: str) -> None:
    signature = _sdk("hubspot.utils.signature").Signature
    url = "https://example.com/" + path
    now = int(time.time())
    raw = body.encode()
    headers = Signer(HubSpot(), secret).sign(raw, timestamp=now, url=url)
    assert signature.is_valid(
        headers[V3], secret, body, url, "POST", signature_version="v3", timestamp=headers[TS]
    )
    theirs = signature.get_signature(secret, body, "v3", url, "POST", str(now * 1000))
    verified = _v3(secret, nonce_store=None).verify(
        raw, {V3: theirs, TS: str(now * 1000)}, url=url, now=now
    )
    assert verified.body == raw


# --- v2 -------------------------------------------------------------------------------------


def test_hs2_1_published_vector() -> None:
    """hubspot-api-python test_get_signature__v2."""
    verified = _v2().verify(BODY, HS2_1, url=URL, method="POST")
    assert verified.scheme == "hubspot-v2"
    assert verified.timestamp is None


def test_hs2_2_get_example_from_the_docs() -> None:
    """HubSpot's v2 page and hubspot-api-python test_is_valid__v2_get_method."""
    assert _v2().verify(b"", HS2_2, url=URL, method="GET")
    assert Signer(HubSpotV2(), SECRET).sign(b"", url=URL, method="GET") == HS2_2


def test_v2_version_header_other_than_v2_is_refused() -> None:
    with pytest.raises(SignatureMismatch) as caught:
        _v2().verify(BODY, {**HS2_1, VERSION: "v1"}, url=URL)
    assert caught.value.reason == "no_supported_signature"
    assert _v2(nonce_store=None).verify(BODY, {V2: HS2_1[V2]}, url=URL)  # version optional


def _sha256_padding(message_length: int) -> bytes:
    zeros = (55 - message_length) % 64
    return b"\x80" + b"\x00" * zeros + struct.pack(">Q", message_length * 8)


def test_v2_length_extension_forgery_is_refused() -> None:
    # A genuine signature, extended to cover body + padding + suffix without the secret.
    # (The forged digest's value does not matter: any body holding the padding is refused.)
    prefix_length = len(SECRET) + len("POST") + len(URL) + len(BODY)
    forged_body = BODY + _sha256_padding(prefix_length) + b',"admin":true}'
    assert b"\x00" in forged_body
    genuine_mac = hashlib.sha256(SECRET.encode() + b"POST" + URL.encode() + forged_body)
    headers = {V2: genuine_mac.hexdigest(), VERSION: "v2"}
    # Even the true digest of the extended message is refused: the NUL marks the extension.
    with pytest.raises(SignatureMismatch):
        _v2().verify(forged_body, headers, url=URL)


@pytest.mark.parametrize(
    ("body", "headers", "url", "method"),
    [
        (BODY + b" ", HS2_1, URL, "POST"),
        (BODY, HS2_1, URL + "/", "POST"),
        (BODY, HS2_1, URL, "GET"),
        (BODY, {V2: HS2_1[V2][:-2]}, URL, "POST"),
        (BODY, {V2: "00" * 32}, URL, "POST"),
    ],
)
def test_v2_tampering_is_a_mismatch(
    body: bytes, headers: dict[str, str], url: str, method: str
) -> None:
    with pytest.raises(SignatureMismatch):
        _v2().verify(body, headers, url=url, method=method)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, MissingHeader),
        ("", MissingHeader),
        ("zz" * 32, MalformedHeader),
        (HS2_1[V2] + "0", MalformedHeader),
        ("0" * 5000, MalformedHeader),
    ],
)
def test_v2_hostile_headers(value: str | None, error: type[VerificationError]) -> None:
    headers = {} if value is None else {V2: value}
    with pytest.raises(error):
        _v2().verify(BODY, headers, url=URL)


def test_v2_replay_is_refused_and_duplicates_too() -> None:
    verifier = _v2(nonce_store=MemoryNonceStore())
    verifier.verify(BODY, HS2_1, url=URL)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, HS2_1, url=URL)
    with pytest.raises(MalformedHeader):
        _v2().verify(BODY, Headers([(V2, HS2_1[V2]), (V2, HS2_1[V2])]), url=URL)


@settings(max_examples=40)
@given(body=st.text(max_size=200).filter(lambda b: "\x00" not in b), secret=_secrets)
def test_v2_hookseal_and_sdk_agree_both_ways(body: str, secret: str) -> None:
    signature = _sdk("hubspot.utils.signature").Signature
    raw = body.encode()
    headers = Signer(HubSpotV2(), secret).sign(raw, url=URL)
    assert signature.is_valid(headers[V2], secret, body, URL, "POST", signature_version="v2")
    theirs = signature.get_signature(secret, body, "v2", URL, "POST")
    assert _v2(secret, nonce_store=None).verify(raw, {V2: theirs}, url=URL).body == raw
