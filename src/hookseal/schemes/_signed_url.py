"""The URL a URL-signing scheme verifies (Square, Trello, HubSpot): one set of checks.

Such a scheme verifies either the URL configured on it (the one registered with the provider,
checked at construction) or the request URL the adapter passes (built from a trusted
``public_url``). Either must be one absolute ``http(s)`` URL of printable ASCII without
spaces, at most :data:`MAX_URL_LENGTH` characters: a URL has one spelling on the wire
(non-ASCII characters are percent-encoded), so these are the bytes the provider signed.

A request URL's path and query are the client's: a hostile one (too long, non-ASCII, control
characters, spaces) is refused as a bad request before any MAC. A missing or relative one is
the caller's bug (``TypeError`` / ``ValueError``): adapters always pass an absolute URL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .._errors import ConfigurationError, MalformedHeader, SignatureMismatch
from .._keys import HMACKey, hmac_matches

__all__ = [
    "MAX_URL_LENGTH",
    "check_configured_url",
    "check_request_url",
    "match_url_hmac",
    "signed_url",
    "url_mismatch",
]

#: The longest URL accepted (providers' own limits are far shorter).
MAX_URL_LENGTH = 8192
_ABSOLUTE_URL = re.compile(r"(?i:https?)://[^/?#\s]+\S*")


def _clean(url: str) -> bool:
    """Whether ``url`` is printable ASCII without spaces, at most MAX_URL_LENGTH long."""
    return len(url) <= MAX_URL_LENGTH and url.isascii() and url.isprintable() and " " not in url


def check_configured_url(url: object, option: str, what: str) -> str | None:
    """Check the URL configured on a scheme (None: none configured), or ConfigurationError.

    ``option`` names the argument (``"Square(notification_url=...)"``) and ``what`` the URL
    in the provider's words (``"the notification URL registered with Square"``).
    """
    if url is None:
        return None
    if not isinstance(url, str) or not _clean(url) or not _ABSOLUTE_URL.fullmatch(url):
        raise ConfigurationError(
            f"{option} must be {what}: an absolute http(s) URL such as "
            "'https://example.com/webhooks', exactly as registered, in printable ASCII "
            f"(percent-encoded) without spaces, of at most {MAX_URL_LENGTH} characters."
        )
    return url


def check_request_url(url: str | None, what: str, option: str | None = None) -> str:
    """Check the request URL a scheme signs and return it.

    Raises MalformedHeader (400, before any MAC) for a URL that cannot be one a provider
    signed, TypeError when no URL was passed and ValueError for a relative one (caller bugs).
    ``what`` is the URL in the provider's words; ``option``, when the scheme has one, is the
    argument that configures the URL instead (named in the TypeError).
    """
    if not isinstance(url, str):
        instead = f"; or give {option}" if option else ""
        raise TypeError(
            f"This scheme signs {what}: pass url=... (scheme and host included). The framework "
            f"adapters pass the request URL for you{instead}."
        )
    if not _clean(url):
        raise MalformedHeader(
            f"The request URL is not printable ASCII without spaces of at most "
            f"{MAX_URL_LENGTH} characters, so it cannot be {what}.",
            header="url",
        )
    if not _ABSOLUTE_URL.fullmatch(url):
        raise ValueError(f"url must be an absolute http(s) URL: {what}, scheme and host included.")
    return url


def signed_url(configured: str | None, url: str | None, what: str, option: str) -> bytes:
    """The URL bytes to verify: the configured URL when there is one, else the request's.

    The configured URL wins whatever URL the request arrived on (behind a proxy the two
    differ); it was checked at construction by :func:`check_configured_url`.
    """
    if configured is not None:
        return configured.encode("ascii")
    return check_request_url(url, what, option).encode("ascii")


def match_url_hmac(
    keys: Sequence[HMACKey],
    presented: bytes,
    prefix: bytes,
    body: bytes,
    header: str,
    signed: str,
) -> tuple[int, tuple[bytes, ...]]:
    """:func:`~hookseal.schemes.base.hmac_matches` for one signature over a signed URL.

    Raises :func:`url_mismatch` (naming ``signed``, what the MAC covers) when no key matches.
    """
    found = hmac_matches(keys, (presented,), prefix, body)
    if found is None:
        raise url_mismatch(header, signed)
    return found


def url_mismatch(header: str, signed: str) -> SignatureMismatch:
    """The SignatureMismatch of a URL-signing scheme: no key matches ``signed``.

    ``signed`` lists what the signature covers (``"the URL and the body"``).
    """
    return SignatureMismatch(
        f"The {header!r} signature does not match {signed} with any configured secret. Check "
        "the secret, that the URL is exactly the one the sender signed (scheme, host, path "
        "and query; behind a proxy, the adapter's public_url), and that the body reaches the "
        "verifier exactly as sent.",
        header=header,
    )
