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

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_base64, encode_base64
from .._keys import HMACKey, secret_bytes
from .._limits import Limits
from ._mac_length import check_mac_length
from ._signed_url import check_configured_url, match_url_hmac, signed_url
from .base import HeaderName, Scheme, Verified, require_header

__all__ = ["Trello"]

_SIGNATURE = HeaderName("X-Trello-Webhook")
_URL = "the callbackURL the Trello webhook was created with"
_OPTION = "Trello(callback_url=...)"
#: HMAC-SHA1: the only algorithm Trello offers.
_ALGORITHM = "sha1"


class Trello(Scheme):
    """Trello webhooks (``X-Trello-Webhook``), HMAC-SHA1 over body + callback URL.

    Args:
        callback_url: the ``callbackURL`` the webhook was created with. When given, it is what
            is verified, whatever URL the request arrived on; when omitted, the request URL is
            used (the adapters build it from a trusted ``public_url``). Either must be an
            absolute http(s) URL in printable ASCII (non-ASCII characters percent-encoded).

    The secret is the application's OAuth secret, as text.
    """

    name = "trello"
    signs_url = True
    signs_timestamp = False

    def __init__(self, *, callback_url: str | None = None) -> None:
        self.callback_url = check_configured_url(callback_url, _OPTION, _URL)

    @override
    def load_key(self, secret: object) -> HMACKey:
        """The application secret as its UTF-8 bytes (HMAC-SHA1: Trello's only algorithm)."""
        return HMACKey(
            secret_bytes(secret, "Trello application secret"), _ALGORITHM, allow_sha1=True
        )

    def _url(self, url: str | None) -> bytes:
        return signed_url(self.callback_url, url, _URL, _OPTION)

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
        check_mac_length(presented, _ALGORITHM, header)
        # The URL follows the body: the MAC covers body + callback URL.
        index, macs = match_url_hmac(
            keys, presented, b"", body + callback, header, "the body and the callback URL"
        )
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
