"""A strict parser for the RFC 3339 timestamps some senders sign (Twitch, Box, Zendesk).

One anchored regular expression without nested repetition (linear in its input), ASCII digits
only, explicit ``Z`` or ``±hh:mm`` offset, at most nine fractional digits; the date and time
are then range-checked. The result is whole Unix seconds (the fraction is dropped, so the
window check compares integers as for every other scheme).
"""

from __future__ import annotations

import calendar
import re

from .._errors import MalformedHeader

__all__ = ["parse_rfc3339"]

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.[0-9]{1,9})?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
_MAX_LENGTH = 35


def parse_rfc3339(value: str, header: str) -> int:
    """Unix seconds of an RFC 3339 date-time, or MalformedHeader ``malformed_timestamp``."""
    match = _RFC3339.fullmatch(value) if len(value) <= _MAX_LENGTH else None
    if match is not None:
        year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
        if (
            year >= 1970
            and 1 <= month <= 12
            and 1 <= day <= calendar.monthrange(year, month)[1]
            and hour <= 23
            and minute <= 59
            and second <= 59
        ):
            seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
            if match[7]:
                return seconds
            off_hours, off_minutes = int(match[9]), int(match[10])
            if off_hours <= 23 and off_minutes <= 59:
                offset = off_hours * 3600 + off_minutes * 60
                return seconds - offset if match[8] == "+" else seconds + offset
    raise MalformedHeader(
        f"The {header!r} header is not an RFC 3339 timestamp such as "
        "'2024-01-31T12:00:00.123456789Z' (ASCII digits, 'T', seconds, an optional fraction "
        "of up to 9 digits, and 'Z' or a '+hh:mm' offset).",
        reason="malformed_timestamp",
        header=header,
    )
