"""What the metric sinks record: one table of label values, shared by Prometheus and OpenTelemetry.

Every label value comes from a bounded set, so no client can create new time series: the
scheme's name (configured by the application), the outcome, the rejection reason (a closed
set; anything else becomes ``"other"``) and the HTTP status (three digits, or ``"other"``).
Never a message id, an address, a header value or a URL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .._errors import REASONS as _ERROR_REASONS
from .._errors import ConfigurationError
from .._events import VerificationEvent

__all__ = [
    "DURATION_BUCKETS",
    "NO_REASON",
    "OTHER",
    "REASONS",
    "check_buckets",
    "duration_of",
    "outcome_label",
    "reason_label",
    "status_label",
]

#: Every reason code a :class:`~hookseal.VerificationError` raised by hookseal can carry
#: (see the errors page). A reason outside this set (a custom scheme's own) is counted as
#: :data:`OTHER`, so the label can never take more values than these.
REASONS: frozenset[str] = _ERROR_REASONS

#: The reason label of an accepted delivery.
NO_REASON = "none"
#: The label value for anything outside its closed set.
OTHER = "other"

#: Histogram bucket upper bounds, in seconds: an HMAC check takes microseconds, an Ed25519
#: check or a local Redis round trip about a millisecond, a slow replay store up to its timeout.
DURATION_BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


def outcome_label(event: VerificationEvent) -> str:
    """``"accepted"`` or ``"rejected"``."""
    return "accepted" if event.outcome == "accepted" else "rejected"


def reason_label(event: VerificationEvent) -> str:
    """The rejection's reason from the closed set, :data:`NO_REASON` when accepted."""
    if event.outcome == "accepted":
        return NO_REASON
    reason = event.reason
    return reason if reason in REASONS else OTHER


def status_label(event: VerificationEvent) -> str:
    """The HTTP status as three digits (100-599), else :data:`OTHER`."""
    status = event.status_code
    if type(status) is int and 100 <= status <= 599:
        return str(status)
    return OTHER


def duration_of(event: VerificationEvent) -> float:
    """The verification's duration in seconds (never negative, never NaN)."""
    duration = event.duration
    if not isinstance(duration, (int, float)) or not math.isfinite(duration) or duration < 0:
        return 0.0
    return float(duration)


def check_buckets(buckets: object) -> tuple[float, ...]:
    """Validate histogram bucket bounds: finite, positive, strictly increasing, at least one."""
    problem = "must be a non-empty sequence of finite, positive, strictly increasing seconds"
    if isinstance(buckets, (str, bytes)) or not isinstance(buckets, Sequence) or not buckets:
        raise ConfigurationError(f"buckets {problem} (default DURATION_BUCKETS).")
    bounds: list[float] = []
    for bound in buckets:
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or not math.isfinite(bound)
            or bound <= 0
            or (bounds and bound <= bounds[-1])
        ):
            raise ConfigurationError(
                f"buckets {problem}; {bound!r} is not (default DURATION_BUCKETS)."
            )
        bounds.append(float(bound))
    return tuple(bounds)
