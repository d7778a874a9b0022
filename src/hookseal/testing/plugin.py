"""The pytest plugin (registered through the ``pytest11`` entry point as ``hookseal``).

Fixtures:

- ``hookseal_sign``: the :func:`~hookseal.testing.sign_delivery` factory.
- ``frozen_clock``: a :class:`~hookseal.testing.FrozenClock` that every verifier without a
  clock of its own uses during the test.
- ``hookseal_store``: a new, empty :class:`~hookseal.stores.memory.MemoryNonceStore` per test,
  to hand to an application factory in place of its Redis, SQLite or PostgreSQL store.

Every test also starts with an empty shared default replay store (the one a ``Verifier``
built without ``nonce_store`` uses), so a delivery one test accepted is not refused as a
replay in the next; call :func:`hookseal.testing.reset_replay_state` to empty it mid-test.
A store you pass yourself (Redis, SQLite...) is yours to isolate: build the app with
``hookseal_store`` (or a Redis ``prefix`` of the test's own) in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .. import _verifier
from ..stores.memory import MemoryNonceStore
from ._clock import FrozenClock
from ._deliveries import SignedDelivery, sign_delivery

__all__ = ["frozen_clock", "hookseal_sign", "hookseal_store"]


@pytest.fixture(autouse=True)
def _hookseal_fresh_default_store() -> None:
    """Empty the shared default replay store before each test (test isolation)."""
    _verifier.reset_default_nonce_store()


@pytest.fixture
def hookseal_sign() -> Callable[..., SignedDelivery]:
    """Sign fake deliveries: ``hookseal_sign("github", secret, body)``."""
    return sign_delivery


@pytest.fixture
def frozen_clock() -> Iterator[FrozenClock]:
    """Freeze hookseal's clock for the test; move it with ``frozen_clock.advance(seconds)``."""
    clock = FrozenClock()
    _verifier.set_default_clock(clock)
    try:
        yield clock
    finally:
        _verifier.set_default_clock(None)


@pytest.fixture
def hookseal_store() -> MemoryNonceStore:
    """A new, empty replay store of the test's own: ``create_app(nonce_store=hookseal_store)``.

    Deliveries a test accepts are remembered for that test only, so the suite passes on every
    run, which a Redis, SQLite or PostgreSQL store configured for the app would not allow.
    """
    return MemoryNonceStore()
