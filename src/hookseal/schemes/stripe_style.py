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

from .._encoding import decode_hex, parse_timestamp
from .._errors import MalformedHeader, SignatureMismatch
from .._headers import HeaderName
from .._limits import Limits
from .base import Scheme, Verified, match_hmac, require_header

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
    exactly as the dashboard shows it. Entries other than ``t`` and ``v1`` (a future ``v2``)
    are ignored, as the providers' own samples do; a header with no ``v1`` entry is refused
    with the reason ``no_supported_signature``.
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
        header = self._header.name
        value = require_header(headers, self._header, limits)
        if self.comma_space:
            value = value.replace(", ", ",")
        raw_ts, presented = self._parse(value, header, limits)
        timestamp = parse_timestamp(raw_ts, header, max_digits=15) // self.timestamp_unit
        limits.check_window(timestamp, now, header)
        index, macs = match_hmac(keys, presented, f"{raw_ts}.".encode("ascii"), body, header)
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=None,
            key_index=index,
            scheme=self.name,
            replay_material=macs,
        )

    def _parse(self, value: str, header: str, limits: Limits) -> tuple[str, list[bytes]]:
        """The timestamp text and the decoded ``v1`` signatures, every count bounded first."""
        separator = self.group_separator
        entries_total = value.count(",") + (value.count(separator) if separator else 0)
        if entries_total > limits.max_signatures:
            raise MalformedHeader(
                f"The {header!r} header carries more than {limits.max_signatures} signatures "
                "(max_signatures).",
                reason="too_many_signatures",
                header=header,
            )
        groups = value.split(separator) if separator else [value]
        raw_ts: str | None = None
        presented: list[bytes] = []
        for group in groups:
            group_ts: str | None = None
            for entry in group.split(","):
                key, _sep, item = entry.partition("=")
                if not key or not item:
                    raise MalformedHeader(
                        f"Each entry of the {header!r} header must be 'name=value' (e.g. "
                        "'t=1700000000,v1=<hex>'), with no spaces or empty entries.",
                        header=header,
                    )
                if key == "t":
                    if group_ts is not None:
                        raise MalformedHeader(
                            f"The {header!r} header holds more than one 't=' timestamp.",
                            header=header,
                        )
                    group_ts = item
                elif key == "v1":
                    presented.append(self._decode(item, header))
            if group_ts is None:
                raise MalformedHeader(
                    f"The {header!r} header has no 't=' timestamp.", header=header
                )
            if raw_ts is None:
                raw_ts = group_ts
            elif group_ts != raw_ts:
                # One delivery has one timestamp: groups that disagree leave it undefined.
                raise MalformedHeader(
                    f"The signature groups of the {header!r} header carry different timestamps.",
                    header=header,
                )
        assert raw_ts is not None  # at least one group, each with a timestamp
        if not presented:
            raise SignatureMismatch(
                f"The {header!r} header holds no v1 signature (only other versions, which this "
                "verifier does not accept).",
                reason="no_supported_signature",
                header=header,
            )
        return raw_ts, presented

    def _decode(self, value: str, header: str) -> bytes:
        if self.signature_encoding == "hex":
            return decode_hex(value, header)
        return _decode_base64url(value, header)

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
        mac = key.digest_parts(f"{raw_ts}.".encode("ascii"), body)
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
