"""Recurly: ``recurly-signature: <ms timestamp>,<hex>[,<hex>]``, HMAC-SHA256 of ``ts.body``.

Docs: https://recurly.com/developers/guides/signature-verification.html

The header holds the time the notification was sent, in Unix **milliseconds**, then one or more
hex HMAC-SHA256 signatures (one per active webhook secret key, while a key rotates), all
separated by commas. The signed bytes are the timestamp digits as sent, a dot and the raw body;
the key is the endpoint's *webhook secret key*, used as UTF-8 text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_hex
from .._errors import MalformedHeader
from .._limits import Limits
from ._timestamp import checked_timestamp
from .base import HeaderName, Scheme, Verified, match_hmac, require_header, split_signatures

__all__ = ["Recurly"]

_HEADER = HeaderName("recurly-signature")


class Recurly(Scheme):
    """Recurly webhook notifications (``recurly-signature``).

    The secret is the endpoint's webhook secret key (Integrations → Webhooks), as text; list
    two while you rotate it. Recurly recommends refusing notifications older than 5 minutes,
    the verifier's default window (applied both ways, on whole seconds).
    """

    name = "recurly"
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
        """Parse the header, check the window, then every signature."""
        header = _HEADER.name
        value = require_header(headers, _HEADER, limits)
        raw_ts, comma, rest = value.partition(",")
        if not comma or not rest:
            raise MalformedHeader(
                f"The {header!r} header must be '<timestamp>,<signature>[,<signature>...]'.",
                header=header,
            )
        entries = split_signatures(rest, header, limits, separator=",")
        presented = [decode_hex(entry, header) for entry in entries]
        timestamp = checked_timestamp(raw_ts, header, limits, now, per_second=1000)
        index, macs = match_hmac(keys, presented, f"{raw_ts}.".encode("ascii"), body, header)
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
        """The header Recurly sends (the timestamp in milliseconds)."""
        raw_ts = str(timestamp * 1000)
        mac = key.digest_parts(f"{raw_ts}.".encode("ascii"), body)
        return {_HEADER.name: f"{raw_ts},{mac.hex()}"}

    def __repr__(self) -> str:
        return "Recurly()"
