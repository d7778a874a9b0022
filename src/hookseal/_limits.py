"""The per-verifier limits and the timestamp window shared by every scheme."""

from __future__ import annotations

import math
from fractions import Fraction

from ._errors import ConfigurationError, MalformedHeader, TimestampOutOfTolerance

__all__ = ["Limits"]

# The largest tolerance: beyond it the window arithmetic on float clocks loses exactness and,
# far beyond, overflows. (Tests of old published vectors use windows of decades.)
_MAX_TOLERANCE = 2**53 - 1
#: The earliest signed timestamp accepted whatever the tolerance (2001-09-09T01:46:40Z): a
#: sender's clock is never earlier, and 0, 1 or a negative value is a forged or broken field.
#: Only a clock that itself reads earlier (a test's frozen clock replaying a provider's old
#: published example) lowers it, to 1: a non-positive timestamp is never accepted.
EARLIEST_TIMESTAMP = 1_000_000_000
#: The body limit when neither the caller nor the scheme sets one (``max_body_bytes=None``).
GENERIC_MAX_BODY_BYTES = 1024 * 1024


def earliest_timestamp(now: float) -> int:
    """The earliest timestamp accepted at ``now`` whatever the tolerance (see above)."""
    return EARLIEST_TIMESTAMP if now >= EARLIEST_TIMESTAMP else 1


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")
    return value


def _window_bound(name: str, value: object, default: int) -> int:
    """``max_age`` / ``max_future``: None means ``default`` (the tolerance); else 0 or more."""
    if value is None:
        return default
    if isinstance(value, float) and math.isfinite(value) and value % 1 == 0:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"{name} must be a whole number of seconds, 0 or more (None: the tolerance), got "
            f"{value!r}."
        )
    if value > _MAX_TOLERANCE:
        raise ConfigurationError(
            f"{name} must be at most {_MAX_TOLERANCE} seconds (2**53 - 1), so that the window "
            "arithmetic stays exact; a window that wide bounds nothing anyway."
        )
    return value


def _read_only() -> AttributeError:
    return AttributeError(
        "Limits are read-only: the verifier prepared its checks from these limits. Build a "
        "new Verifier with the limits you need."
    )


def _out_of_window(timestamp: int, error: TimestampOutOfTolerance) -> TimestampOutOfTolerance:
    error.timestamp = timestamp
    return error


class Limits:
    """Limits and tolerance a scheme applies while checking one delivery.

    Args:
        tolerance: seconds a signed timestamp may lie in the past or in the future: the
            default of both ``max_age`` and ``max_future``.
        max_age: seconds a signed timestamp may lie in the past (None: ``tolerance``).
        max_future: seconds a signed timestamp may lie in the future, the clock skew allowed
            (None: ``tolerance``; 0 refuses any timestamp ahead of this server's clock).
        max_body_bytes: the largest body accepted (None: :data:`GENERIC_MAX_BODY_BYTES`, 1 MiB).
        max_header_bytes: the longest header value accepted.
        max_signatures: the most signatures accepted in one header (each costs a MAC).
        max_id_length: the longest message id accepted.
    """

    __slots__ = (
        "max_age",
        "max_body_bytes",
        "max_future",
        "max_header_bytes",
        "max_id_length",
        "max_signatures",
        "tolerance",
    )

    tolerance: int
    max_age: int
    max_future: int
    max_body_bytes: int
    max_header_bytes: int
    max_signatures: int
    max_id_length: int

    def __init__(
        self,
        *,
        tolerance: int = 300,
        max_body_bytes: int | None = GENERIC_MAX_BODY_BYTES,
        max_header_bytes: int = 4096,
        max_signatures: int = 8,
        max_id_length: int = 256,
        max_age: int | None = None,
        max_future: int | None = None,
    ) -> None:
        if isinstance(tolerance, float) and math.isfinite(tolerance) and tolerance % 1 == 0:
            tolerance = int(tolerance)
        tolerance = _positive_int("tolerance", tolerance)
        if tolerance > _MAX_TOLERANCE:
            raise ConfigurationError(
                f"tolerance must be at most {_MAX_TOLERANCE} seconds (2**53 - 1), so that "
                "the window arithmetic stays exact; a window that wide bounds nothing anyway."
            )
        # Fixed once built: a verifier prepares its checks from these values.
        _set = object.__setattr__
        _set(self, "tolerance", tolerance)
        _set(self, "max_age", _window_bound("max_age", max_age, tolerance))
        _set(self, "max_future", _window_bound("max_future", max_future, tolerance))
        if max_body_bytes is None:
            max_body_bytes = GENERIC_MAX_BODY_BYTES
        _set(self, "max_body_bytes", _positive_int("max_body_bytes", max_body_bytes))
        _set(self, "max_header_bytes", _positive_int("max_header_bytes", max_header_bytes))
        _set(self, "max_signatures", _positive_int("max_signatures", max_signatures))
        _set(self, "max_id_length", _positive_int("max_id_length", max_id_length))

    def __setattr__(self, name: str, value: object) -> None:
        raise _read_only()

    def __delattr__(self, name: str) -> None:
        raise _read_only()

    def __copy__(self) -> Limits:
        return self  # read-only: a copy would be the same

    def __deepcopy__(self, memo: object) -> Limits:
        return self

    def in_window(self, timestamp: int, now: float) -> bool:
        """Whether :meth:`check_window` accepts ``timestamp`` at ``now`` (a NaN clock: False)."""
        return (
            timestamp >= (EARLIEST_TIMESTAMP if now >= EARLIEST_TIMESTAMP else 1)
            and now - self.max_age <= timestamp <= now + self.max_future
        )

    def check_signatures(self, count: int, header: str) -> None:
        """Raise MalformedHeader when ``header`` carries more than ``max_signatures`` signatures.

        Called with the count (or an upper bound of it, such as the separators plus one)
        before anything is decoded: each signature costs a MAC or a public-key operation.
        """
        if count > self.max_signatures:
            raise MalformedHeader(
                f"The {header!r} header carries more than {self.max_signatures} signatures "
                "(max_signatures).",
                reason="too_many_signatures",
                header=header,
            )

    def check_window(self, timestamp: int, now: float, header: str, *, per_second: int = 1) -> None:
        """Raise TimestampOutOfTolerance unless ``now - max_age <= timestamp <= now + max_future``.

        ``timestamp`` counts ``1 / per_second`` seconds (``per_second=1000`` for milliseconds);
        the comparison is exact in that unit. Whatever the window, a timestamp before
        :data:`EARLIEST_TIMESTAMP` (2001) is refused as ``timestamp_too_old``: no sender's
        clock is that early. A clock reading that is not a finite number refuses everything.
        """
        seconds = timestamp // per_second
        if seconds < earliest_timestamp(now):
            raise _out_of_window(
                seconds,
                TimestampOutOfTolerance(
                    f"The {header!r} timestamp is before 2001-09-09, which no sender's clock "
                    "sends: the field is forged or broken. Check that the sender signs Unix "
                    "seconds.",
                    reason="timestamp_too_old",
                    header=header,
                ),
            )
        if per_second == 1:
            at: float | Fraction = now
        elif math.isfinite(now):
            at = Fraction(now) * per_second  # exact: a float converts to a fraction exactly
        else:
            at = math.nan
        max_age = self.max_age
        max_future = self.max_future
        # Written as 'not >=' so that a NaN clock fails closed instead of passing.
        if not timestamp >= at - max_age * per_second:
            raise _out_of_window(
                seconds,
                TimestampOutOfTolerance(
                    f"The {header!r} timestamp is {float(at - timestamp) / per_second:.0f} s "
                    f"old; the limit is {max_age} s (max_age, by default the tolerance). Stale "
                    "deliveries are refused to bound replays: check this server's clock, or "
                    "whether the delivery was held in a queue.",
                    reason="timestamp_too_old",
                    header=header,
                ),
            )
        if not timestamp <= at + max_future * per_second:
            raise _out_of_window(
                seconds,
                TimestampOutOfTolerance(
                    f"The {header!r} timestamp is {float(timestamp - at) / per_second:.0f} s "
                    f"in the future; the limit is {max_future} s (max_future, by default the "
                    "tolerance). Check this server's clock (NTP).",
                    reason="timestamp_in_future",
                    header=header,
                ),
            )

    def __repr__(self) -> str:
        # max_age and max_future are shown when they differ from the tolerance they default to.
        window = "".join(
            f", {name}={value}"
            for name, value in (("max_age", self.max_age), ("max_future", self.max_future))
            if value != self.tolerance
        )
        return (
            f"Limits(tolerance={self.tolerance}{window}, max_body_bytes={self.max_body_bytes}, "
            f"max_header_bytes={self.max_header_bytes}, max_signatures={self.max_signatures}, "
            f"max_id_length={self.max_id_length})"
        )
