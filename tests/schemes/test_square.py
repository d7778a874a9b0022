"""Square: ``x-square-hmacsha256-signature``, base64 HMAC-SHA256 of notification URL + body.

Vectors SQ-1 and SQ-2: the official SDK's tests, square/square-python-sdk
``tests/integration/test_webhooks_helper.py`` (``test_signature_validation_pass`` and
``test_signature_validation_escaped_pass``), with its URL, key, header and body mismatch cases.
Docs: https://developer.squareup.com/docs/webhooks/step3validate
The SDK (``square.utils.webhooks_helper.verify_signature``) is a differential oracle.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest
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
    VerificationError,
    Verifier,
)
from hookseal.schemes.square import Square
from hookseal.stores.memory import MemoryNonceStore


def _sdk(name: str) -> ModuleType:
    """The provider's SDK: skipped locally when absent, a failure under CI=true."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name)


HEADER = "x-square-hmacsha256-signature"
BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":'
    b'"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
KEY = "Ibxx_5AKakO-3qeNVR61Dw"
URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"


def _verifier(secrets: object = KEY, scheme: Square | None = None, **options: object) -> Verifier:
    return Verifier(scheme or Square(), secrets, **options)  # type: ignore[arg-type]


def test_sq1_verifies_with_the_request_url() -> None:
    """square-python-sdk: test_signature_validation_pass."""
    verified = _verifier().verify(BODY, {HEADER: SIGNATURE}, url=URL)
    assert verified.scheme == "square"
    assert verified.timestamp is None


def test_sq1_verifies_with_a_configured_notification_url() -> None:
    scheme = Square(notification_url=URL)
    # Behind a proxy the request arrives on another URL: the configured one is verified.
    verifier = _verifier(scheme=scheme, nonce_store=None)
    assert verifier.verify(BODY, {HEADER: SIGNATURE}, url="http://10.0.0.5/x")
    assert verifier.verify(BODY, {HEADER: SIGNATURE})


def test_sq2_escaped_body() -> None:
    """square-python-sdk: test_signature_validation_escaped_pass."""
    body = b'{"data":{"type":"webhooks","id":">id<"}}'
    headers = {HEADER: "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="}
    assert _verifier("signature-key").verify(body, headers, url="https://webhook.site/webhooks")


def test_sq1_is_what_the_signer_produces() -> None:
    assert Signer(Square(), KEY).sign(BODY, url=URL) == {HEADER: SIGNATURE}


@pytest.mark.parametrize(
    ("secrets", "body", "headers", "url"),
    [
        (KEY, BODY, {HEADER: SIGNATURE}, URL.replace("/679a", "/79a")),  # url mismatch
        ("MCmhFRxGX82xMwg5FsaoQA", BODY, {HEADER: SIGNATURE}, URL),  # invalid key
        (KEY, BODY, {HEADER: "1z2n3DEJJiUPKcPzQo1ftvbxGdw="}, URL),  # 20-byte header
        (KEY, BODY.replace(b"07-13", b"06-13"), {HEADER: SIGNATURE}, URL),  # body mismatch
        (KEY, BODY + b"\n", {HEADER: SIGNATURE}, URL),
        (KEY, BODY, {HEADER: SIGNATURE}, URL + "/"),
        (KEY, BODY, {HEADER: SIGNATURE}, URL.replace("https", "http")),
    ],
    ids=["url", "key", "short-signature", "body", "newline", "slash", "scheme"],
)
def test_sdk_negative_cases_and_more(
    secrets: str, body: bytes, headers: dict[str, str], url: str
) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier(secrets).verify(body, headers, url=url)


def test_url_and_body_boundary_cannot_move() -> None:
    # The same signed bytes split elsewhere (URL shorter, body longer) carry no other meaning:
    # the URL is the one this endpoint knows, so the cut is fixed by the receiver.
    moved_body = URL[-3:].encode() + BODY
    with pytest.raises(SignatureMismatch):
        _verifier(scheme=Square(notification_url=URL)).verify(moved_body, {HEADER: SIGNATURE})


def test_replay_is_refused_by_the_store() -> None:
    verifier = _verifier(nonce_store=MemoryNonceStore())
    verifier.verify(BODY, {HEADER: SIGNATURE}, url=URL)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, {HEADER: SIGNATURE}, url=URL)


def test_rotation_either_key() -> None:
    for secrets in ([KEY, "new-signature-key"], ["new-signature-key", KEY]):
        assert _verifier(secrets, nonce_store=None).verify(BODY, {HEADER: SIGNATURE}, url=URL)


# --- the SDK as an oracle -------------------------------------------------------------------


def test_sdk_agrees_on_the_published_vector() -> None:
    helper = _sdk("square.utils.webhooks_helper")
    assert helper.verify_signature(
        request_body=BODY.decode(),
        signature_header=SIGNATURE,
        signature_key=KEY,
        notification_url=URL,
    )


_keys = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
_paths = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)


@settings(max_examples=40)
@given(body=st.text(min_size=1, max_size=200), key=_keys, path=_paths)
def test_hookseal_signs_sdk_verifies_and_back(body: str, key: str, path: str) -> None:
    helper = _sdk("square.utils.webhooks_helper")
    url = "https://example.com/" + path.replace("#", "")
    raw = body.encode()
    header = Signer(Square(), key).sign(raw, url=url)[HEADER]
    assert helper.verify_signature(
        request_body=body, signature_header=header, signature_key=key, notification_url=url
    )
    assert _verifier(key, nonce_store=None).verify(raw, {HEADER: header}, url=url)
    assert not helper.verify_signature(
        request_body=body + "x", signature_header=header, signature_key=key, notification_url=url
    )


# --- hostile input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error", "reason"),
    [
        (None, MissingHeader, "missing_header"),
        ("", MissingHeader, "missing_header"),
        (SIGNATURE + "!!!", MalformedHeader, "malformed_header"),
        (SIGNATURE.rstrip("="), MalformedHeader, "malformed_header"),
        (SIGNATURE + " ", MalformedHeader, "malformed_header"),
        (SIGNATURE.replace("/", "_"), MalformedHeader, "malformed_header"),
        (SIGNATURE[:-8] + "AAAAAAA=", SignatureMismatch, "signature_mismatch"),
        ("AAAA", SignatureMismatch, "signature_mismatch"),
        ("A" * 5000, MalformedHeader, "header_too_long"),
        (SIGNATURE + "\x00", MalformedHeader, "malformed_header"),
    ],
)
def test_hostile_headers(value: str | None, error: type[VerificationError], reason: str) -> None:
    headers = {} if value is None else {HEADER: value}
    with pytest.raises(error) as caught:
        _verifier().verify(BODY, headers, url=URL)
    assert caught.value.reason == reason


def test_duplicated_header_is_refused() -> None:
    lines = [(HEADER, "A" * 43 + "="), (HEADER, SIGNATURE)]
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, Headers(lines), url=URL)
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize("url", [URL + "/é", URL + "/a b", URL + "/" + "a" * 9000, URL + "\n"])
def test_hostile_request_urls_are_bad_requests(url: str) -> None:
    with pytest.raises(MalformedHeader):
        _verifier().verify(BODY, {HEADER: SIGNATURE}, url=url)


def test_missing_or_relative_url_is_a_caller_bug() -> None:
    with pytest.raises(TypeError):
        _verifier().verify(BODY, {HEADER: SIGNATURE})
    with pytest.raises(ValueError):
        _verifier().verify(BODY, {HEADER: SIGNATURE}, url="/webhooks")


@pytest.mark.parametrize("url", ["/webhooks", "ftp://example.com/x", "https://", 42])
def test_bad_notification_url_is_a_configuration_error(url: object) -> None:
    with pytest.raises(ConfigurationError):
        Square(notification_url=url)  # type: ignore[arg-type]


def test_signs_url_is_declared_and_reprs_hide_the_key() -> None:
    assert Square.signs_url is True
    assert KEY not in repr(_verifier())
    assert repr(Square(notification_url=URL)) == f"Square(notification_url={URL!r})"
