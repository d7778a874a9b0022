"""The URL checks the URL-signing schemes share (Square, Trello, HubSpot): one behaviour.

Each of these schemes used to carry its own copy of the checks, and the copies had drifted
(Trello took non-ASCII and control characters, HubSpot took a URL without a host and raised
ValueError for a non-string). They now share ``hookseal.schemes._signed_url``; these tests
run the same inputs through every scheme.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hookseal import ConfigurationError, MalformedHeader, SignatureMismatch, Signer, Verifier
from hookseal.schemes.base import Scheme
from hookseal.schemes.hubspot import HubSpot, HubSpotV2
from hookseal.schemes.square import Square
from hookseal.schemes.trello import Trello

SECRET = "url-signing-secret"
NOW = 1_700_000_000
BODY = b'{"event":"x"}'
URL = "https://hooks.example.com/webhooks?a=1"

SCHEMES: list[Callable[[], Scheme]] = [Square, Trello, HubSpot, HubSpotV2]


def _verify(factory: Callable[[], Scheme], url: object) -> None:
    headers = Signer(factory(), SECRET).sign(BODY, timestamp=NOW, url=URL)
    verifier = Verifier(factory(), SECRET, nonce_store=None)
    verifier.verify(BODY, headers, url=url, now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("factory", SCHEMES)
def test_the_signed_url_verifies(factory: Callable[[], Scheme]) -> None:
    _verify(factory, URL)


@pytest.mark.parametrize("factory", SCHEMES)
@pytest.mark.parametrize(
    "url",
    [
        URL + "/é",
        URL + "/a b",
        URL + "\n",
        URL + "\x00",
        URL + "\x7f",
        URL + "\u2003",
        URL + "/" + "a" * 9000,
    ],
    ids=["non-ascii", "space", "newline", "nul", "del", "em-space", "too-long"],
)
def test_hostile_request_urls_are_bad_requests_before_any_mac(
    factory: Callable[[], Scheme], url: str
) -> None:
    with pytest.raises(MalformedHeader) as caught:
        _verify(factory, url)
    assert caught.value.reason == "malformed_header"
    assert caught.value.header == "url"


@pytest.mark.parametrize("factory", SCHEMES)
@pytest.mark.parametrize(
    ("url", "error"),
    [
        (None, TypeError),
        (42, TypeError),
        ("/webhooks", ValueError),
        ("https://", ValueError),
        ("ftp://hooks.example.com/webhooks", ValueError),
    ],
)
def test_missing_or_relative_request_url_is_a_caller_bug(
    factory: Callable[[], Scheme], url: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        _verify(factory, url)


@pytest.mark.parametrize("factory", SCHEMES)
def test_another_url_is_a_mismatch_that_names_the_url(factory: Callable[[], Scheme]) -> None:
    with pytest.raises(SignatureMismatch) as caught:
        _verify(factory, URL + "&b=2")
    assert "URL" in str(caught.value)


CONFIGURED: list[Callable[[object], Scheme]] = [
    lambda url: Square(notification_url=url),  # type: ignore[arg-type]
    lambda url: Trello(callback_url=url),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("configure", CONFIGURED, ids=["square", "trello"])
@pytest.mark.parametrize(
    "url",
    [
        "/webhooks",
        "https://",
        "ftp://example.com/x",
        "https://example.com/é",
        "https://example.com/\x00",
        "https://example.com/\x7f",
        "https://example.com/a b",
        "https://example.com/" + "a" * 9000,
        42,
    ],
    ids=["relative", "no-host", "ftp", "non-ascii", "nul", "del", "space", "too-long", "int"],
)
def test_bad_configured_url_is_a_configuration_error(
    configure: Callable[[object], Scheme], url: object
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        configure(url)
    assert "http(s)" in str(caught.value)


@pytest.mark.parametrize("configure", CONFIGURED, ids=["square", "trello"])
def test_configured_url_wins_over_the_request_url(configure: Callable[[object], Scheme]) -> None:
    headers = Signer(configure(URL), SECRET).sign(BODY, timestamp=NOW, url=None)
    verifier = Verifier(configure(URL), SECRET, nonce_store=None)
    # Behind a proxy the request arrives on another URL, even one that is no URL at all.
    assert verifier.verify(BODY, headers, url="http://10.0.0.7/internal é", now=NOW)
