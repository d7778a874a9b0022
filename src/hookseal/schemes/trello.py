"""Trello: ``X-Trello-Webhook``, base64 HMAC-SHA1 of the raw body followed by the callback URL.

Docs: https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/#webhook-signatures

Trello signs the body and then the ``callbackURL`` the webhook was created with, keyed with the
application's **secret** (the OAuth secret shown with the API key at
https://trello.com/power-ups/admin), used as UTF-8 text. HMAC-SHA1 is the only algorithm Trello
offers, so this scheme uses it by design (HMAC-SHA1 has no known practical forgery; SHA-1's
collision weakness does not apply to HMAC), as the Twilio scheme does.

No timestamp is signed: a captured delivery verifies for ever at the same URL; replays are
refused only while the nonce store remembers them (``Verifier(replay_retention=...)``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_base64, encode_base64
from .._errors import ConfigurationError, MalformedHeader, SignatureMismatch
from .._keys import HMACKey, secret_bytes
from .._limits import Limits
from .base import HeaderName, Scheme, Verified, hmac_matches, hmac_mismatch, require_header

__all__ = ["Trello"]

_SIGNATURE = HeaderName("X-Trello-Webhook")
_ABSOLUTE_URL = re.compile(r"(?i:https?)://[^/?#\s]+\S*")
#: The longest callback URL accepted.
MAX_URL_LENGTH = 8192
_SHA1_SIZE = 20


def _checked_url(url: object, what: str) -> str:
    if not isinstance(url, str):
        raise TypeError(
            f"Trello signs the callback URL: pass {what} (the callbackURL the webhook was "
            "created with). The framework adapters pass the request URL for you; or give "
            "Trello(callback_url=...)."
        )
    if not _ABSOLUTE_URL.fullmatch(url):
        raise ValueError(f"{what} must be the absolute http(s) callbackURL given to Trello.")
    return url


class Trello(Scheme):
    """Trello webhooks (``X-Trello-Webhook``), HMAC-SHA1 over body + callback URL.

    Args:
        callback_url: the ``callbackURL`` the webhook was created with. When given, it is what
            is verified, whatever URL the request arrived on; when omitted, the request URL is
            used (the adapters build it from a trusted ``public_url``).

    The secret is the application's OAuth secret, as text.
    """

    name = "trello"
    signs_url = True
    signs_timestamp = False

    def __init__(self, *, callback_url: str | None = None) -> None:
        if callback_url is not None:
            try:
                _checked_url(callback_url, "callback_url")
            except (TypeError, ValueError) as error:
                raise ConfigurationError(str(error)) from None
            if len(callback_url) > MAX_URL_LENGTH:
                raise ConfigurationError(f"callback_url is longer than {MAX_URL_LENGTH}.")
        self.callback_url = callback_url

    @override
    def load_key(self, secret: object) -> HMACKey:
        """The application secret as its UTF-8 bytes (HMAC-SHA1: Trello's only algorithm)."""
        return HMACKey(secret_bytes(secret, "Trello application secret"), "sha1", allow_sha1=True)

    def _url(self, url: str | None) -> bytes:
        if self.callback_url is not None:
            return self.callback_url.encode("utf-8")
        if isinstance(url, str) and (
            len(url) > MAX_URL_LENGTH or not url.isprintable() or " " in url
        ):
            raise MalformedHeader(
                f"The request URL is not printable text of at most {MAX_URL_LENGTH} "
                "characters, so it cannot be the callbackURL registered with Trello.",
                header="url",
            )
        return _checked_url(url, "url=...").encode("utf-8")

    @override
    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        """Check the signature header against the body and the callback URL."""
        callback = self._url(url)
        header = _SIGNATURE.name
        presented = decode_base64(require_header(headers, _SIGNATURE, limits), header)
        if len(presented) != _SHA1_SIZE:
            raise SignatureMismatch(
                f"The {header!r} signature is {len(presented)} bytes long; an HMAC-SHA1 is "
                f"{_SHA1_SIZE}.",
                header=header,
            )
        # The URL follows the body: the MAC covers body + callback URL.
        found = hmac_matches(keys, (presented,), b"", body + callback)
        if found is None:
            raise hmac_mismatch(header)
        index, macs = found
        return Verified(
            body,
            timestamp=None,
            msg_id=None,
            key_index=index,
            scheme=self.name,
            replay_material=macs,
        )

    @override
    def sign(
        self,
        key: Any,
        body: bytes,
        *,
        timestamp: int,
        msg_id: str,
        url: str | None,
        method: str,
    ) -> dict[str, str]:
        """The header Trello sends for ``url`` (or the configured callback URL)."""
        return {_SIGNATURE.name: encode_base64(key.digest(body + self._url(url)))}

    def __repr__(self) -> str:
        if self.callback_url is None:
            return "Trello()"
        return f"Trello(callback_url={self.callback_url!r})"
