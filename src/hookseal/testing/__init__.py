"""Test helpers: sign fake deliveries for any scheme and send them through test clients.

Installed with hookseal as a pytest plugin (fixtures ``hookseal_sign`` and
``frozen_clock``); the helpers are plain functions and classes usable without pytest too.
"""

from ._clock import FrozenClock as FrozenClock
from ._deliveries import SignedDelivery as SignedDelivery
from ._deliveries import sign_delivery as sign_delivery

__all__ = ["FrozenClock", "SignedDelivery", "sign_delivery"]
