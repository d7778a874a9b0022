"""Test helpers: sign fake deliveries for any scheme and send them through test clients.

Installed with hookseal as a pytest plugin (fixtures ``hookseal_sign``, ``frozen_clock`` and
``hookseal_store``; the shared default replay store is emptied before each test); the helpers
are plain functions and classes usable without pytest too.
"""

from ._clock import FrozenClock as FrozenClock
from ._deliveries import SignedDelivery as SignedDelivery
from ._deliveries import sign_delivery as sign_delivery
from ._stores import check_nonce_store as check_nonce_store


def reset_replay_state() -> None:
    """Empty the shared default replay store (what a ``Verifier`` without ``nonce_store`` uses).

    The pytest plugin does this before every test; call it yourself between scenarios that
    send the same delivery again, or outside pytest. It never touches a store you passed.
    """
    from .._verifier import reset_default_nonce_store

    reset_default_nonce_store()


__all__ = [
    "FrozenClock",
    "SignedDelivery",
    "check_nonce_store",
    "reset_replay_state",
    "sign_delivery",
]
