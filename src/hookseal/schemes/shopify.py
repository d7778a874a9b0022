"""Shopify: ``X-Shopify-Hmac-Sha256``, base64 HMAC-SHA256 of the raw body.

Docs: https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook
and, for Events deliveries, https://shopify.dev/docs/apps/build/events/verify-deliveries

Shopify signs the body alone with the app's client secret (or, for webhooks created in the
store admin, the secret shown there). ``X-Shopify-Webhook-Id`` is exposed as
:attr:`Verified.msg_id` for the handler's idempotency but is not signed, and neither is
``X-Shopify-Triggered-At``, which is therefore ignored: replay decisions use the matched MAC,
remembered for ``Verifier(replay_retention=...)``.

Shopify's Events deliveries spell the same headers without the ``X-`` prefix
(``Shopify-Hmac-Sha256``, ``Shopify-Webhook-Id``), as Shopify's own ``@shopify/shopify-api``
reads them. Either spelling is accepted, and exactly one of them: a delivery carrying both is
refused (``duplicate_header``), since Shopify never sends both and two candidate values would
let a relay choose which one is checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._encoding import decode_base64, encode_base64
from .._errors import MalformedHeader, MissingHeader, VerificationError
from .._headers import HeaderName, read_header
from .._limits import Limits
from .base import Scheme, check_message_id, match_hmac

__all__ = ["Shopify"]

_SIGNATURE_HEADER = HeaderName("X-Shopify-Hmac-Sha256")
_ID_HEADER = HeaderName("X-Shopify-Webhook-Id")
# The spellings of Shopify's Events deliveries (no "X-" prefix).
_EVENTS_SIGNATURE_HEADER = HeaderName("Shopify-Hmac-Sha256")
_EVENTS_ID_HEADER = HeaderName("Shopify-Webhook-Id")


def _read_one_of(
    headers: Mapping[str, str], classic: HeaderName, events: HeaderName, limits: Limits
) -> tuple[str, HeaderName] | None:
    """The value of whichever spelling was sent, and its name; None when neither was.

    Raises MalformedHeader (``duplicate_header``) when both were sent.
    """
    value = read_header(headers, classic, limits.max_header_bytes)
    other = read_header(headers, events, limits.max_header_bytes)
    if value is not None and other is not None:
        raise MalformedHeader(
            f"Both {classic.name!r} and {events.name!r} were sent; Shopify sends exactly one "
            "of them (the second for Events deliveries). Check that no proxy adds a copy.",
            reason="duplicate_header",
            header=events.name,
        )
    if value is not None:
        return value, classic
    if other is not None:
        return other, events
    return None


class Shopify(Scheme):
    """Shopify webhooks, signed with the app's client secret (its UTF-8 bytes).

    Shopify signs no timestamp, so the replay bound is the nonce store's retention
    (``Verifier(replay_retention=...)``, default one day).
    """

    name = "shopify"
    #: Shopify documents no cap for HTTPS deliveries; its staff report bodies "upwards of a
    #: megabyte" for large orders. 5 MiB leaves headroom (docs/providers/shopify.md).
    default_max_body_bytes = 5 * 1024 * 1024
    signs_timestamp = False
    id_header = _ID_HEADER

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
        """Check the base64 HMAC-SHA256 in ``X-Shopify-Hmac-Sha256`` against the body.

        Events deliveries' ``Shopify-Hmac-Sha256`` and ``Shopify-Webhook-Id`` are read the same
        way; one spelling of each header, never both.
        """
        found = _read_one_of(headers, _SIGNATURE_HEADER, _EVENTS_SIGNATURE_HEADER, limits)
        if found is None:
            raise MissingHeader(
                f"The {_SIGNATURE_HEADER.name!r} header (or {_EVENTS_SIGNATURE_HEADER.name!r} "
                "for Events deliveries) is missing or empty. Check that the sender signs "
                "deliveries to this endpoint and that no proxy strips the header.",
                header=_SIGNATURE_HEADER.name,
            )
        value, signature_header = found
        header = signature_header.name
        presented = decode_base64(value, header)
        id_found = _read_one_of(headers, _ID_HEADER, _EVENTS_ID_HEADER, limits)
        msg_id = None
        if id_found is not None:
            msg_id, id_header = id_found
            check_message_id(msg_id, id_header.name, limits)
        index, macs = match_hmac(keys, [presented], b"", body, header)
        return Verified(
            body,
            timestamp=None,
            msg_id=msg_id,
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
        """Return ``X-Shopify-Hmac-Sha256`` and ``X-Shopify-Webhook-Id``."""
        return {
            _SIGNATURE_HEADER.name: encode_base64(key.digest(body)),
            _ID_HEADER.name: msg_id,
        }

    @override
    def message_id_for_log(self, headers: Mapping[str, str], limits: Limits) -> str | None:
        """The webhook id as sent in either spelling, for logs only (unverified, may be None)."""
        try:
            found = _read_one_of(headers, _ID_HEADER, _EVENTS_ID_HEADER, limits)
        except VerificationError:
            return None
        return None if found is None else found[0]

    @override
    def new_message_id(self) -> str:
        """A random UUID, the form Shopify's webhook ids take."""
        return str(uuid.uuid4())
