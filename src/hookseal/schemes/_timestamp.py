"""A signed Unix timestamp from a header: parsed strictly, checked against the window exactly.

Senders write seconds (Stripe, Paddle...) or milliseconds (HubSpot, Recurly, WorkOS,
Sanity). Either way the window is checked in the unit sent, exactly: a millisecond timestamp
one millisecond past ``now + max_future`` is refused, where rounding it down to seconds first
would let up to 999 ms more through. :attr:`Verified.timestamp` is then whole seconds, rounded
down, whatever the unit.
"""

from __future__ import annotations

from .._encoding import parse_timestamp
from .._limits import Limits

__all__ = ["checked_timestamp"]

#: Digits of a Unix time in seconds: 12 reach the year 33658.
_SECOND_DIGITS = 12


def checked_timestamp(
    raw: str, header: str, limits: Limits, now: float, *, per_second: int = 1
) -> int:
    """Whole Unix seconds of ``raw``, a Unix time in ``1 / per_second`` s inside the window.

    ``raw`` must be ASCII digits without sign or leading zero (at most 12 for seconds, 15
    for milliseconds): MalformedHeader ``malformed_timestamp`` otherwise. Outside the
    verifier's window: TimestampOutOfTolerance.
    """
    value = parse_timestamp(raw, header, _SECOND_DIGITS + len(str(per_second)) - 1)
    limits.check_window(value, now, header, per_second=per_second)
    return value // per_second
