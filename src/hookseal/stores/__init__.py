"""Shared nonce stores for replay protection across worker processes and machines.

``hookseal.stores.redis`` holds :class:`~hookseal.stores.redis.RedisNonceStore` and
:class:`~hookseal.stores.redis.AsyncRedisNonceStore` (extra ``redis``). They are imported on
first use, so ``import hookseal.stores`` never imports ``redis``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["AsyncRedisNonceStore", "RedisNonceStore"]

_LAZY = {
    "RedisNonceStore": ".redis",
    "AsyncRedisNonceStore": ".redis",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hookseal.stores' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
