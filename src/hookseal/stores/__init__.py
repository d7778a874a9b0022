"""Nonce stores for replay protection, one module each; the protocols are in ``base``.

- ``hookseal.stores.memory``: :class:`~hookseal.stores.memory.MemoryNonceStore`, for the
  threads of one process (the default);
- ``hookseal.stores.sqlite``: :class:`~hookseal.stores.sqlite.SQLiteNonceStore`, for the
  processes of one machine, with no server to run;
- ``hookseal.stores.redis``: :class:`~hookseal.stores.redis.RedisNonceStore` and
  :class:`~hookseal.stores.redis.AsyncRedisNonceStore`, for every machine using one Redis
  (extra ``redis``);
- ``hookseal.stores.postgres``: :class:`~hookseal.stores.postgres.PostgresNonceStore` and
  :class:`~hookseal.stores.postgres.AsyncPostgresNonceStore`, for every machine using one
  PostgreSQL (extra ``postgres``);
- ``hookseal.stores.django``: :class:`~hookseal.stores.django.DjangoCacheNonceStore`, for
  what a Django cache shares (extra ``django``; ``hookseal.contrib.django`` re-exports it).

Every name is also importable from ``hookseal.stores`` itself; each module is imported on
first use, so ``import hookseal.stores`` never imports ``redis``, ``psycopg``, ``django`` or
``sqlite3``, and a missing client library raises an ``ImportError`` that names the extra.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AsyncNonceStore",
    "AsyncPostgresNonceStore",
    "AsyncRedisNonceStore",
    "DjangoCacheNonceStore",
    "MemoryNonceStore",
    "NonceStore",
    "PostgresNonceStore",
    "RedisNonceStore",
    "SQLiteNonceStore",
]

_LAZY = {
    "AsyncNonceStore": ".base",
    "NonceStore": ".base",
    "MemoryNonceStore": ".memory",
    "SQLiteNonceStore": ".sqlite",
    "RedisNonceStore": ".redis",
    "AsyncRedisNonceStore": ".redis",
    "PostgresNonceStore": ".postgres",
    "DjangoCacheNonceStore": ".django",
    "AsyncPostgresNonceStore": ".postgres",
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
