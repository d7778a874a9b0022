"""A frozen clock for tests: time stands still until the test moves it."""

from __future__ import annotations

import time

__all__ = ["FrozenClock"]


class FrozenClock:
    """A callable clock fixed at ``now`` (Unix seconds) until moved.

    Pass it as ``Verifier(..., clock=clock)``; the ``frozen_clock`` fixture also makes every
    verifier without its own clock use it for the duration of the test.
    """

    def __init__(self, now: float | None = None) -> None:
        self.now: float = float(int(time.time()) if now is None else now)

    def __call__(self) -> float:
        """The frozen time."""
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock forward (or back, with a negative value); returns the new time."""
        self.now += seconds
        return self.now

    def set(self, now: float) -> None:
        """Move the clock to ``now``."""
        self.now = float(now)

    def __repr__(self) -> str:
        return f"FrozenClock(now={self.now})"
