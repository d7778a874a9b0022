"""Deprecated alias of :mod:`hookseal.stores.memory` and :mod:`hookseal.stores.base`.

Import ``MemoryNonceStore`` from ``hookseal.stores.memory`` (or ``hookseal.stores``) and the
protocols from ``hookseal.stores.base``; this module re-exports them for one release.
"""

from __future__ import annotations

from .stores.base import AsyncNonceStore, NonceStore
from .stores.memory import MemoryNonceStore

__all__ = ["AsyncNonceStore", "MemoryNonceStore", "NonceStore"]
