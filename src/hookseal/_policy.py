"""The per-verifier limits and the timestamp window shared by every scheme."""

from __future__ import annotations

import math

from ._errors import ConfigurationError, TimestampOutOfTolerance

__all__ = ["Policy"]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")
    return value


def _out_of_window(timestamp: int, error: TimestampOutOfTolerance) -> TimestampOutOfTolerance:
    error.timestamp = timestamp
    return error


class Policy:
    """Limits and tolerance a scheme applies while checking one delivery.

    Args:
        tolerance: seconds a signed timestamp may lie in the past or in the future.
        max_body_bytes: the largest body accepted.
        max_header_bytes: the longest header value accepted.
        max_signatures: the most signatures accepted in one header (each costs a MAC).
        max_id_length: the longest message id accepted.
    """

    __slots__ = (
        "max_body_bytes",
        "max_header_bytes",
        "max_id_length",
        "max_signatures",
        "tolerance",
    )

    def __init__(
        self,
        *,
        tolerance: int = 300,
        max_body_bytes: int = 1024 * 1024,
        max_header_bytes: int = 4096,
        max_signatures: int = 8,
        max_id_length: int = 256,
    ) -> None:
        if isinstance(tolerance, float) and math.isfinite(tolerance) and tolerance % 1 == 0:
            tolerance = int(tolerance)
        self.tolerance = _positive_int("tolerance", tolerance)
        self.max_body_bytes = _positive_int("max_body_bytes", max_body_bytes)
        self.max_header_bytes = _positive_int("max_header_bytes", max_header_bytes)
        self.max_signatures = _positive_int("max_signatures", max_signatures)
        self.max_id_length = _positive_int("max_id_length", max_id_length)

    def check_window(self, timestamp: int, now: float, header: str) -> None:
        """Raise TimestampOutOfTolerance unless ``timestamp`` is within ``now ± tolerance``."""
        tolerance = self.tolerance
        # Written as 'not >=' so that a NaN clock fails closed instead of passing.
        if not timestamp >= now - tolerance:
            raise _out_of_window(
                timestamp,
                TimestampOutOfTolerance(
                    f"The {header!r} timestamp is {now - timestamp:.0f} s old; the tolerance is "
                    f"{tolerance} s. Stale deliveries are refused to bound replays: check this "
                    "server's clock, or whether the delivery was held in a queue.",
                    reason="timestamp_too_old",
                    header=header,
                ),
            )
        if not timestamp <= now + tolerance:
            raise _out_of_window(
                timestamp,
                TimestampOutOfTolerance(
                    f"The {header!r} timestamp is {timestamp - now:.0f} s in the future; the "
                    f"tolerance is {tolerance} s. Check this server's clock (NTP).",
                    reason="timestamp_in_future",
                    header=header,
                ),
            )

    def __repr__(self) -> str:
        return (
            f"Policy(tolerance={self.tolerance}, max_body_bytes={self.max_body_bytes}, "
            f"max_header_bytes={self.max_header_bytes}, max_signatures={self.max_signatures}, "
            f"max_id_length={self.max_id_length})"
        )
