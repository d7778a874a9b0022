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

import re
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_base64, encode_base64
from .._errors import ConfigurationError, MalformedHeader, SignatureMismatch
from .._headers import HeaderName
from .._keys import HMACKey, secret_bytes
from .._limits import Limits
from .base import Scheme, Verified, match_hmac, require_header

__all__ = ["Square"]

_SIGNATURE = HeaderName("x-square-hmacsha256-signature")
_ABSOLUTE_URL = re.compile(r"(?i:https?)://[^/?#\s]+[^\s]*")
#: The longest notification URL accepted (Square's own limit on the URL is far shorter).
MAX_URL_LENGTH = 8192
_HMAC_SHA256_SIZE = 32


def _check_url(url: object, what: str) -> str:
    if not isinstance(url, str):
        raise TypeError(
            f"Square signs the notification URL: pass {what} (the URL registered for the "
            "webhook subscription, scheme and host included). The framework adapters pass "
            "the request URL for you; or give Square(notification_url=...)."
        )
    if len(url) > MAX_URL_LENGTH or not url.isascii() or not _ABSOLUTE_URL.fullmatch(url):
        raise ValueError(
            f"{what} must be the absolute http(s) URL registered with Square (e.g. "
            "'https://example.com/square/webhooks'), printable ASCII without spaces."
        )
    return url


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
        if notification_url is not None:
            try:
                _check_url(notification_url, "notification_url")
            except (TypeError, ValueError) as error:
                raise ConfigurationError(str(error)) from None
        self.notification_url = notification_url

    @override
    def load_key(self, secret: object) -> HMACKey:
        """The signature key as Square uses it: its UTF-8 bytes."""
        return HMACKey(secret_bytes(secret, "Square signature key"))

    def _url(self, url: str | None) -> bytes:
        if self.notification_url is not None:
            return self.notification_url.encode("ascii")
        if isinstance(url, str) and (
            len(url) > MAX_URL_LENGTH or not url.isascii() or not url.isprintable() or " " in url
        ):
            # The request's own URL (its path and query are the client's): refused as a bad
            # request, before any MAC.
            raise MalformedHeader(
                f"The request URL is not printable ASCII of at most {MAX_URL_LENGTH} "
                "characters, so it cannot be the notification URL registered with Square.",
                header="url",
            )
        return _check_url(url, "url=...").encode("ascii")

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
        if len(presented) != _HMAC_SHA256_SIZE:
            raise SignatureMismatch(
                f"The {header!r} signature is {len(presented)} bytes long; an HMAC-SHA256 is "
                f"{_HMAC_SHA256_SIZE}.",
                header=header,
            )
        index, macs = match_hmac(keys, (presented,), signed_url, body, header)
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
