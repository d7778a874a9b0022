"""Senders that sign the way Stripe does: ``t=<ts>,v1=<hex>``, HMAC-SHA256 over ``t.body``.

Calendly, Mux, Persona and Sanity each send one header holding a Unix timestamp and one or more
``v1`` signatures; the signed bytes are the timestamp's digits as sent, a dot, and the raw body.
Each differs from Stripe (:class:`~hookseal.schemes.Stripe`) only in the header name, in how a
secret rotation shows in the header, in the window it recommends and (Sanity) in writing the
timestamp in milliseconds and the signature in unpadded base64url.

Docs:

- Calendly: https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures
- Mux: https://www.mux.com/docs/core/verify-webhook-signatures
- Persona: https://docs.withpersona.com/docs/webhooks-best-practices
- Sanity: https://www.sanity.io/docs/webhooks and https://github.com/sanity-io/webhook-toolkit
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from typing_extensions import override

from .._encoding import decode_hex
from .._errors import MalformedHeader
from .._headers import HeaderName
from .._limits import Limits
from ._keyed_header import KeyedHeaderFormat
from .base import Scheme, Verified

__all__ = ["Calendly", "Mux", "Persona", "Sanity"]

_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def _decode_base64url(value: str, header: str) -> bytes:
    """Strict unpadded base64url: the alphabet only, no padding, canonical trailing bits."""
    if not _BASE64URL.fullmatch(value) or len(value) % 4 == 1:
        raise MalformedHeader(
            f"The signature in the {header!r} header is not unpadded base64url.", header=header
        )
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != value:
        raise MalformedHeader(
            f"The signature in the {header!r} header is not canonical base64url.", header=header
        )
    return raw


class _TimestampedV1(Scheme):
    """``t=<ts>,v1=<hex>[,v1=<hex>...]`` in one header, HMAC-SHA256 over ``<ts>.<body>``.

    Subclasses set ``name``, ``header`` and, for senders that repeat the whole ``t=...,v1=...``
    group once per active secret, ``group_separator``. The secret is used as its UTF-8 bytes,
    exactly as the dashboard shows it. The header is parsed as Stripe's is (see
    :func:`~hookseal.schemes._keyed_header.parse_keyed_signatures`): entries other than ``t``
    and ``v1`` (a future ``v2``) are ignored, as the providers' own samples do, and a header
    holding only those is refused with the reason ``no_supported_signature``; a header with
    no signature at all, an empty entry or a space is malformed.
    """

    name: ClassVar[str] = "timestamped-v1"
    #: The header carrying the timestamp and signature(s).
    header: ClassVar[str] = "Signature"
    #: The separator between whole ``t=...,v1=...`` groups (Persona's rotation), or None.
    group_separator: ClassVar[str | None] = None
    #: How signatures are written: ``"hex"`` or ``"base64url"`` (unpadded, Sanity).
    signature_encoding: ClassVar[str] = "hex"
    #: Whether ``", "`` is read as ``","`` (Sanity's own library allows it).
    comma_space: ClassVar[bool] = False
    #: How many ``t`` units make a second: 1 (Unix seconds) or 1000 (milliseconds, Sanity).
    timestamp_unit: ClassVar[int] = 1
    signs_timestamp = True

    def __init__(self) -> None:
        self._header = HeaderName(self.header)
        self._format = KeyedHeaderFormat(
            separator=",",
            timestamp_key="t",
            signature_key="v1",
            example="t=1700000000,v1=<signature>",
            per_second=self.timestamp_unit,
            space_after_separator=self.comma_space,
            group_separator=self.group_separator,
            decode=decode_hex if self.signature_encoding == "hex" else _decode_base64url,
        )

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
        """Parse the header, check the timestamp window, then every ``v1`` signature."""
        timestamp, index, macs = self._format.check(self._header, body, headers, keys, limits, now)
        return Verified(
            body,
            timestamp=timestamp,
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
        """The header the sender would send: ``t=<timestamp>,v1=<hex>``."""
        raw_ts = str(timestamp * self.timestamp_unit)
        mac = key.digest_parts(self._format.signed_prefix(raw_ts), body)
        if self.signature_encoding == "hex":
            encoded = mac.hex()
        else:
            encoded = base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
        return {self._header.name: f"t={raw_ts},v1={encoded}"}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Calendly(_TimestampedV1):
    """Calendly webhook subscriptions: ``Calendly-Webhook-Signature: t=<ts>,v1=<hex>``.

    The secret is the subscription's *webhook signing key*: the ``signing_key`` you chose when
    creating the subscription with a personal access token, or the key Calendly generated for
    your OAuth application; used as UTF-8 text. Calendly's sample code allows 3 minutes:
    ``Verifier(Calendly(), [key], tolerance=180)``.

    Docs: https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures
    """

    name = "calendly"
    header = "Calendly-Webhook-Signature"


class Mux(_TimestampedV1):
    """Mux webhooks: ``Mux-Signature: t=<ts>,v1=<hex>``.

    The secret is the webhook's *signing secret* (Settings → Webhooks, one per endpoint),
    used as UTF-8 text. Mux's own libraries allow 5 minutes, the verifier's default.

    Docs: https://www.mux.com/docs/core/verify-webhook-signatures
    """

    name = "mux"
    header = "Mux-Signature"


class Persona(_TimestampedV1):
    """Persona webhooks: ``Persona-Signature: t=<ts>,v1=<hex>``.

    While a webhook secret rotates, Persona sends one ``t=...,v1=...`` group per secret,
    separated by a space; any one may match. The groups must carry the same timestamp. The
    secret is the webhook's secret (Dashboard → Webhooks), used as UTF-8 text exactly as
    shown.

    Docs: https://docs.withpersona.com/docs/webhooks-best-practices
    """

    name = "persona"
    header = "Persona-Signature"
    group_separator = " "


class Sanity(_TimestampedV1):
    """Sanity GROQ-powered webhooks: ``sanity-webhook-signature: t=<ms>,v1=<base64url>``.

    The timestamp is in **milliseconds**; the signature is the unpadded base64url HMAC-SHA256
    of ``<t>.<body>``. The secret is the one you typed when creating the webhook (API →
    Webhooks → Secret), as text. Sanity's library checks no age; the verifier applies its
    window (default 300 s, both ways).

    Docs: https://www.sanity.io/docs/webhooks (Secret) and the reference implementation,
    ``@sanity/webhook`` (https://github.com/sanity-io/webhook-toolkit).
    """

    name = "sanity"
    header = "sanity-webhook-signature"
    signature_encoding = "base64url"
    timestamp_unit = 1000
    comma_space = True
