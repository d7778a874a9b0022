"""Square: ``x-square-hmacsha256-signature``, base64 HMAC-SHA256 of the notification URL + body.

Docs: https://developer.squareup.com/docs/webhooks/step3validate
Reference implementation: ``square.utils.webhooks_helper.verify_signature`` (squareup on PyPI).

Square signs the subscription's *notification URL*, exactly as registered in the Developer
Console, followed directly by the raw body, keyed with the subscription's *signature key*
(used as UTF-8 text). No timestamp is signed: a captured delivery stays valid for ever, and
replays are refused only for as long as the nonce store remembers them
(``Verifier(replay_retention=...)``, default one day). Square's legacy
``x-square-signature`` (HMAC-SHA1) header is not accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_base64, encode_base64
from .._headers import HeaderName
from .._keys import HMACKey, secret_bytes
from .._limits import Limits
from ._mac_length import check_mac_length
from ._signed_url import check_configured_url, match_url_hmac, signed_url
from .base import Scheme, Verified, require_header

__all__ = ["Square"]

_SIGNATURE = HeaderName("x-square-hmacsha256-signature")
_URL = "the notification URL registered with Square"
_OPTION = "Square(notification_url=...)"


class Square(Scheme):
    """Square webhook subscriptions (``x-square-hmacsha256-signature``).

    Args:
        notification_url: the subscription's notification URL exactly as registered with
            Square. When given, it is what is verified, whatever URL the request arrived on
            (behind a proxy the two differ); when omitted, the request URL is used, which the
            adapters build from a trusted ``public_url``.

    The secret is the subscription's *signature key*, as text; list two while you rotate it.
    """

    name = "square"
    signs_url = True
    signs_timestamp = False

    def __init__(self, *, notification_url: str | None = None) -> None:
        self.notification_url = check_configured_url(notification_url, _OPTION, _URL)

    @override
    def load_key(self, secret: object) -> HMACKey:
        """The signature key as Square uses it: its UTF-8 bytes."""
        return HMACKey(secret_bytes(secret, "Square signature key"))

    def _url(self, url: str | None) -> bytes:
        return signed_url(self.notification_url, url, _URL, _OPTION)

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
        """Check the signature header against the notification URL and the body."""
        signed_url = self._url(url)
        header = _SIGNATURE.name
        presented = decode_base64(require_header(headers, _SIGNATURE, limits), header)
        check_mac_length(presented, "sha256", header)
        index, macs = match_url_hmac(
            keys, presented, signed_url, body, header, "the notification URL and the body"
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
        """The signature header Square sends for ``url`` (or the configured URL)."""
        mac = key.digest_parts(self._url(url), body)
        return {_SIGNATURE.name: encode_base64(mac)}

    def __repr__(self) -> str:
        if self.notification_url is None:
            return "Square()"
        return f"Square(notification_url={self.notification_url!r})"
