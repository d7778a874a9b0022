"""Redis nonce stores: one replay record shared by every worker process and machine.

This is the only hookseal module that imports ``redis`` (install the ``redis`` extra).
:class:`RedisNonceStore` takes a synchronous ``redis.Redis`` or ``redis.cluster.RedisCluster``
and serves :meth:`hookseal.Verifier.verify`; :class:`AsyncRedisNonceStore` takes a
``redis.asyncio.Redis`` or ``redis.asyncio.cluster.RedisCluster`` and serves
:meth:`hookseal.Verifier.averify`.

Each check is one atomic ``SET <prefix><hex key> <token> NX PX <ms> GET``: the key is
written with its expiry in the same command, or not at all when a live entry exists, and the
reply carries the existing entry's token. A per-reservation random token lets the store
recognise its own write when redis-py retried a SET whose reply was lost (the first attempt
landed): that delivery is still the first one, not a replay. Servers older than Redis 7.0
reject ``NX`` with ``GET``; the store then switches, once, to ``SET ... NX PX`` followed by
a ``GET`` only when the SET found an entry. The key is a single Redis key (one hash slot),
so the same commands work on a Redis Cluster. Releasing an entry (see
:meth:`hookseal.Verifier.release`) is one ``DEL``.
"""

from __future__ import annotations

import inspect
import logging
import math
import os
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.exceptions import OutOfMemoryError, RedisError, ResponseError

from .._errors import ConfigurationError, NonceStoreUnavailable

__all__ = ["AsyncRedisNonceStore", "RedisNonceStore"]

logger = logging.getLogger("hookseal")

#: The synchronous clients :class:`RedisNonceStore` accepts.
SyncRedisClient = redis.Redis | redis.cluster.RedisCluster
#: The asynchronous clients :class:`AsyncRedisNonceStore` accepts.
AsyncRedisClient = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster

_ASYNC_TYPES = (redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster)
_SYNC_TYPES = (redis.Redis, redis.cluster.RedisCluster)
_PIPELINE_TYPES = (
    redis.client.Pipeline,
    redis.cluster.ClusterPipeline,
    redis.asyncio.client.Pipeline,
    redis.asyncio.cluster.ClusterPipeline,
)


def _ttl_ms(expires_at: float, now: float) -> int:
    """Milliseconds from ``now`` to ``expires_at``, rounded up, at least 1."""
    if not (math.isfinite(expires_at) and math.isfinite(now)):
        raise NonceStoreUnavailable("The replay-store expiry is not a finite time.")
    return max(1, math.ceil((expires_at - now) * 1000))


def _new_token() -> str:
    # Per reservation, from the OS (fork-safe): identifies this store's own write if the
    # client retried a SET whose first attempt landed but whose reply was lost.
    return os.urandom(16).hex()


def _is_own_write(stored: object, token: str) -> bool:
    return stored == token or stored == token.encode("ascii")


def _is_syntax_error(exc: ResponseError) -> bool:
    return "syntax error" in str(exc).lower()


class _RedisStoreBase:
    """Key naming, expiry, reply checking and failure policy shared by both stores."""

    def __init__(self, client: Any, *, prefix: str, fail_open: bool) -> None:
        if not isinstance(prefix, str):
            raise ConfigurationError(f"prefix must be a str, not {type(prefix).__name__}.")
        if not isinstance(fail_open, bool):
            raise ConfigurationError("fail_open must be True or False.")
        if isinstance(client, _PIPELINE_TYPES):
            raise ConfigurationError(
                "client is a pipeline: its commands are only queued, so no reservation could "
                "ever be answered. Pass the redis-py client itself."
            )
        if not callable(getattr(client, "set", None)) or not callable(getattr(client, "get", None)):
            raise ConfigurationError(
                f"client must be a redis-py client, not {type(client).__name__}."
            )
        self._client = client
        self.prefix = prefix
        self.fail_open = fail_open
        # True once the server refused SET NX GET (Redis < 7.0): use SET NX, then GET.
        self._without_nx_get = False

    def key_name(self, key: bytes) -> str:
        """The Redis key recording ``key``: the prefix followed by the key in hex."""
        return self.prefix + key.hex()

    def _unavailable(self, exc: RedisError) -> bool:
        name = type(exc).__name__
        if self.fail_open:
            logger.warning(
                "hookseal: FAIL OPEN: the Redis nonce store failed (%s); this delivery is "
                "ACCEPTED WITHOUT REPLAY PROTECTION because fail_open=True.",
                name,
            )
            return True
        # Redis at maxmemory with the noeviction policy: full, like a full MemoryNonceStore.
        reason = "nonce_store_full" if isinstance(exc, OutOfMemoryError) else None
        raise NonceStoreUnavailable(
            f"The Redis replay store failed ({name}), so the delivery cannot be recorded "
            "and is refused (fail closed). Check that Redis is reachable and healthy.",
            reason=reason,
        ) from exc

    def _verdict(self, reply: object, token: str) -> bool:
        """Judge the reply to SET NX GET: nil means written now; a value, an existing entry."""
        if reply is None:
            return True
        if isinstance(reply, (bytes, str)):
            return _is_own_write(reply, token)
        raise self._unexpected(reply)

    def _fall_back(self, exc: ResponseError) -> None:
        if not _is_syntax_error(exc):
            raise exc
        self._without_nx_get = True
        logger.info(
            "hookseal: this Redis server does not accept SET NX GET (Redis < 7.0); the nonce "
            "store now uses SET NX and reads the entry back only when one exists."
        )

    def _release_failed(self, exc: RedisError) -> NonceStoreUnavailable:
        return NonceStoreUnavailable(
            f"The Redis replay store could not delete an entry ({type(exc).__name__})."
        )

    @staticmethod
    def _unexpected(reply: object) -> NonceStoreUnavailable:
        return NonceStoreUnavailable(
            f"The Redis replay store gave an unexpected reply ({type(reply).__name__}) to "
            "SET NX; the delivery is refused."
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self.prefix!r}, fail_open={self.fail_open!r})"


class RedisNonceStore(_RedisStoreBase):
    """A nonce store on Redis, shared by every worker that uses the same server and prefix.

    Each :meth:`reserve` is one atomic ``SET <prefix><hex key> <token> NX PX <ms>``, with
    ``ms`` the time left until the entry's expiry (rounded up, at least 1 ms). Only when that
    SET finds a live entry does the store read it back (``GET``), to tell a replay from its
    own earlier write that the client retried after a lost reply; the verdict itself is
    always the SET's.

    Args:
        client: a synchronous ``redis.Redis`` or ``redis.cluster.RedisCluster``. Give it
            short ``socket_timeout`` and ``socket_connect_timeout`` values: a slow Redis
            delays every delivery by up to the timeout before it is refused.
        prefix: prepended to every key. Use one prefix per endpoint (per verifier), e.g.
            ``"hookseal:github:"``, so that two endpoints never share records.
        fail_open: if Redis is unreachable, times out or answers with an error, accept the
            delivery with a WARNING on the ``hookseal`` logger instead of refusing it with
            :class:`~hookseal.NonceStoreUnavailable` (503). Off by default: with it on, an
            attacker who can make Redis unavailable can replay captured deliveries.

    Raises:
        ConfigurationError: for an asynchronous client (use :class:`AsyncRedisNonceStore`),
            a non-str prefix or a non-bool ``fail_open``.
    """

    def __init__(
        self,
        client: SyncRedisClient,
        *,
        prefix: str = "hookseal:",
        fail_open: bool = False,
    ) -> None:
        given: object = client
        if isinstance(given, _ASYNC_TYPES):
            raise ConfigurationError(
                "RedisNonceStore needs a synchronous redis.Redis client; for a "
                "redis.asyncio client use AsyncRedisNonceStore with Verifier.averify."
            )
        super().__init__(client, prefix=prefix, fail_open=fail_open)

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at`` unless a live entry exists (see NonceStore).

        An ``expires_at`` at or before ``now`` still goes through the atomic SET with the
        minimum expiry of 1 ms, so a live entry is still reported as a replay.
        """
        name = self.key_name(key)
        ttl = _ttl_ms(expires_at, now)
        token = _new_token()
        client = self._client
        try:
            if not self._without_nx_get:
                try:
                    reply = client.set(name, token, nx=True, px=ttl, get=True)
                except ResponseError as exc:
                    self._fall_back(exc)
                else:
                    if inspect.isawaitable(reply):
                        _close(reply)
                    return self._verdict(reply, token)
            reply = client.set(name, token, nx=True, px=ttl)
            if reply is True:
                return True
            if reply is not None:
                raise self._unexpected(reply)
            return _is_own_write(client.get(name), token)
        except RedisError as exc:
            return self._unavailable(exc)

    def release(self, key: bytes) -> bool:
        """Delete the entry for ``key`` (``DEL``; see :meth:`hookseal.Verifier.release`).

        Returns False, deleting nothing, when the store fails open: a delivery accepted while
        Redis was failing has no entry of its own, and the entry under its key belongs to an
        earlier acceptance of the same bytes, which must stay.

        Raises:
            NonceStoreUnavailable: when Redis fails (the verifier logs it and carries on).
        """
        if self.fail_open:
            return False
        try:
            return bool(self._client.delete(self.key_name(key)))
        except RedisError as exc:
            raise self._release_failed(exc) from exc


class AsyncRedisNonceStore(_RedisStoreBase):
    """The asynchronous form of :class:`RedisNonceStore`, for :meth:`hookseal.Verifier.averify`.

    Args:
        client: a ``redis.asyncio.Redis`` or ``redis.asyncio.cluster.RedisCluster``.
        prefix: as for :class:`RedisNonceStore`.
        fail_open: as for :class:`RedisNonceStore`.

    Raises:
        ConfigurationError: for a synchronous client (use :class:`RedisNonceStore`), a
            non-str prefix or a non-bool ``fail_open``.
    """

    def __init__(
        self,
        client: AsyncRedisClient,
        *,
        prefix: str = "hookseal:",
        fail_open: bool = False,
    ) -> None:
        given: object = client
        if isinstance(given, _SYNC_TYPES):
            raise ConfigurationError(
                "AsyncRedisNonceStore needs a redis.asyncio client; for a synchronous "
                "redis.Redis client use RedisNonceStore."
            )
        super().__init__(client, prefix=prefix, fail_open=fail_open)

    async def areserve(self, key: bytes, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at`` unless a live entry exists (see NonceStore)."""
        name = self.key_name(key)
        ttl = _ttl_ms(expires_at, now)
        token = _new_token()
        client = self._client
        try:
            if not self._without_nx_get:
                try:
                    reply = await _awaited(client.set(name, token, nx=True, px=ttl, get=True))
                except ResponseError as exc:
                    self._fall_back(exc)
                else:
                    return self._verdict(reply, token)
            reply = await _awaited(client.set(name, token, nx=True, px=ttl))
            if reply is True:
                return True
            if reply is not None:
                raise self._unexpected(reply)
            return _is_own_write(await _awaited(client.get(name)), token)
        except RedisError as exc:
            return self._unavailable(exc)

    async def arelease(self, key: bytes) -> bool:
        """Delete the entry for ``key`` (``DEL``), as :meth:`RedisNonceStore.release` does.

        Raises:
            NonceStoreUnavailable: when Redis fails (the verifier logs it and carries on).
        """
        if self.fail_open:
            return False
        try:
            return bool(await _awaited(self._client.delete(self.key_name(key))))
        except RedisError as exc:
            raise self._release_failed(exc) from exc


async def _awaited(pending: object) -> object:
    if not inspect.isawaitable(pending):
        raise _RedisStoreBase._unexpected(pending)
    return await pending


def _close(awaitable: object) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()
