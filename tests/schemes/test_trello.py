"""Trello: ``X-Trello-Webhook``, base64 HMAC-SHA1 of ``body + callbackURL``.

Trello publishes the algorithm (a Node.js sample) but no secret/body/signature example, and no
official Python SDK verifies webhooks: these tests are derived from the algorithm as documented
at https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/#webhook-signatures
("derived").
"""

from __future__ import annotations

import base64
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
    VerificationError,
    Verifier,
)
from hookseal.schemes.trello import Trello
from hookseal.stores.memory import MemoryNonceStore

SECRET = "trello-application-oauth-secret"
URL = "https://example.com/trello/callback"
BODY = '{"action":{"type":"updateCard","data":{"card":{"name":"Café"}}}}'.encode()
HEADER = "X-Trello-Webhook"


def _sig(secret: str = SECRET, body: bytes = BODY, url: str = URL) -> str:
    mac = hmac.new(secret.encode(), body + url.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def _verifier(
    secrets: object = SECRET, scheme: Trello | None = None, **options: object
) -> Verifier:
    return Verifier(scheme or Trello(), secrets, **options)  # type: ignore[arg-type]


def test_documented_algorithm_verifies_with_the_request_url() -> None:
    verified = _verifier().verify(BODY, {HEADER: _sig()}, url=URL)
    assert verified.scheme == "trello"
    assert verified.timestamp is None


def test_configured_callback_url_wins_over_the_request_url() -> None:
    verifier = _verifier(scheme=Trello(callback_url=URL), nonce_store=None)
    assert verifier.verify(BODY, {HEADER: _sig()}, url="http://10.0.0.7/internal")
    assert verifier.verify(BODY, {HEADER: _sig()})


def test_signer_round_trip() -> None:
    assert Signer(Trello(), SECRET).sign(BODY, url=URL) == {HEADER: _sig()}


@pytest.mark.parametrize(
    ("body", "value", "url"),
    [
        (BODY + b" ", _sig(), URL),
        (BODY, _sig("another-secret"), URL),
        (BODY, _sig(), URL + "/"),
        (BODY, _sig(), URL.replace("https", "http")),
        (
            BODY,
            base64.b64encode(
                hmac.new(SECRET.encode(), BODY + URL.encode(), "sha256").digest()[:20]
            ).decode(),
            URL,
        ),
    ],
    ids=["body", "secret", "slash", "scheme", "sha256-truncated"],
)
def test_tampering_is_a_mismatch(body: bytes, value: str, url: str) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, {HEADER: value}, url=url)


def test_replay_is_refused_by_the_store() -> None:
    verifier = _verifier(nonce_store=MemoryNonceStore())
    verifier.verify(BODY, {HEADER: _sig()}, url=URL)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, {HEADER: _sig()}, url=URL)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, MissingHeader),
        ("", MissingHeader),
        (_sig() + "!", MalformedHeader),
        (_sig().rstrip("="), MalformedHeader),
        ("AAAA", SignatureMismatch),
        (base64.b64encode(b"\x00" * 32).decode(), SignatureMismatch),
        ("A" * 5000, MalformedHeader),
    ],
)
def test_hostile_headers(value: str | None, error: type[VerificationError]) -> None:
    headers = {} if value is None else {HEADER: value}
    with pytest.raises(error):
        _verifier().verify(BODY, headers, url=URL)


def test_duplicated_header_is_refused() -> None:
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, Headers([(HEADER, _sig()), (HEADER, _sig())]), url=URL)
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize("url", [URL + "/a b", URL + "/" + "a" * 9000, URL + "\n"])
def test_hostile_request_urls_are_bad_requests(url: str) -> None:
    with pytest.raises(MalformedHeader):
        _verifier().verify(BODY, {HEADER: _sig()}, url=url)


def test_missing_url_is_a_caller_bug_and_bad_config_is_refused() -> None:
    with pytest.raises(TypeError):
        _verifier().verify(BODY, {HEADER: _sig()})
    for bad in ("/callback", "ftp://example.com/", 42):
        with pytest.raises(ConfigurationError):
            Trello(callback_url=bad)  # type: ignore[arg-type]


def test_non_ascii_request_url_is_refused_even_with_a_matching_signature() -> None:
    # A URL has one spelling on the wire (non-ASCII percent-encoded): as for Square and
    # HubSpot, a request URL that is not printable ASCII is a bad request, before any MAC.
    url = URL + "/é"
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, {HEADER: _sig(url=url)}, url=url)
    assert caught.value.header == "url"
