"""WorkOS: ``WorkOS-Signature: t=<milliseconds>, v1=<hex>``, HMAC-SHA256 over ``t.body``.

Docs: https://workos.com/docs/events/data-syncing/webhooks (validating webhooks by hand).
Reference: ``workos/workos-python`` ``workos/webhooks/_verification.py``.

The timestamp is in **milliseconds** and is signed exactly as sent (``"<t>." + body``). The
timestamp window (``max_age`` / ``max_future``) is applied to it exactly, with integer
arithmetic on milliseconds; :attr:`Verified.timestamp` is in Unix **seconds** (rounded
down) like every other scheme.
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

__all__ = ["WorkOS"]

_HEADER = HeaderName("WorkOS-Signature")
_NAME = "workos"
_FORMAT = KeyedHeaderFormat(
    separator=",",
    timestamp_key="t",
    signature_key="v1",
    example="t=1700000000000, v1=<hex>",
    per_second=1000,
    # WorkOS separates entries with ", ": one space after a comma is allowed.
    space_after_separator=True,
)


class WorkOS(Scheme):
    """WorkOS webhooks, signed with the endpoint's webhook secret.

    Secrets: the webhook secret exactly as the WorkOS dashboard shows it (used as text; list
    old and new while rotating).

    ``WorkOS-Signature`` holds comma-separated ``name=value`` entries (WorkOS writes
    ``", "`` between them): exactly one ``t`` and one or more ``v1``. The number of entries is
    bounded by ``max_signatures`` before any MAC is computed; a repeated ``t`` or a malformed
    entry is refused; other names are ignored. WorkOS's SDK allows 180 s of clock difference
    by default; hookseal applies the verifier's window: ``max_age`` back and ``max_future``
    ahead, both ``tolerance`` (default 300 s) unless set.
    """

    name = _NAME
    #: WorkOS documents no size for webhook bodies; each carries one event, so the generic
    #: 1 MiB fits (docs/providers/workos.md).
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
        """Parse and bound the header, check the millisecond window, then the HMACs."""
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
        """The ``WorkOS-Signature`` header; ``timestamp`` is Unix seconds (sent as ms)."""
        raw_ts = str(timestamp * 1000)
        mac = key.digest_parts(_FORMAT.signed_prefix(raw_ts), body)
        return {_HEADER.name: f"t={raw_ts}, v1={mac.hex()}"}
