"""Paddle Billing: ``Paddle-Signature: ts=<seconds>;h1=<hex>``, HMAC-SHA256 over ``ts:body``.

Docs: https://developer.paddle.com/webhooks/signature-verification. Reference:
``PaddleHQ/paddle-python-sdk`` ``paddle_billing/Notifications/PaddleSignature.py``.

The key is the notification destination's secret (``pdl_ntfset_...``) used as text, exactly
as shown: nothing is stripped or decoded. Several ``h1`` entries may be sent (Paddle rotates
secrets that way); any one matching any configured secret is enough.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._headers import HeaderName
from .._limits import Limits
from ._keyed_header import KeyedHeaderFormat
from .base import Scheme

__all__ = ["Paddle"]

_HEADER = HeaderName("Paddle-Signature")
_NAME = "paddle"
_FORMAT = KeyedHeaderFormat(
    separator=";",
    timestamp_key="ts",
    signature_key="h1",
    example="ts=1700000000;h1=<hex>",
    joiner=":",
)


class Paddle(Scheme):
    """Paddle Billing webhooks (notifications), signed with the destination's secret key.

    Secrets: the ``pdl_ntfset_...`` secret key exactly as Paddle shows it; list old and new
    while rotating.

    ``Paddle-Signature`` is a ``;``-separated list: exactly one ``ts`` (Unix seconds) and one
    or more ``h1`` (hex HMAC-SHA256 of ``ts + ":" + body``). The number of entries is bounded
    by ``max_signatures`` before any MAC is computed; a repeated ``ts``, an empty or
    malformed entry, or spaces are refused. Entries with other names are ignored (a future
    signature version), and a header holding no ``h1`` is refused as
    ``no_supported_signature``. Paddle's SDK allows 5 seconds of clock difference by default;
    hookseal applies the verifier's ``tolerance`` (default 300 s) both ways.
    """

    name = _NAME
    #: Paddle documents no size for notifications; each carries one entity, so the generic
    #: 1 MiB fits (docs/providers/paddle.md).
    default_max_body_bytes = 1024 * 1024
    signs_timestamp = True

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
        """Parse and bound the header, check the timestamp window, then the HMACs."""
        timestamp, index, macs = _FORMAT.check(_HEADER, body, headers, keys, limits, now)
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=None,
            key_index=index,
            scheme=_NAME,
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
        """The ``Paddle-Signature`` header (``ts=...;h1=...``)."""
        mac = key.digest_parts(_FORMAT.signed_prefix(str(timestamp)), body)
        return {_HEADER.name: f"ts={timestamp};h1={mac.hex()}"}
