"""A nonce store on a Django cache, for Django projects that already run a shared cache.

This is the only hookseal store module that imports Django (install the ``django`` extra);
``hookseal.contrib.django`` re-exports :class:`DjangoCacheNonceStore`.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Mapping
from typing import Any

try:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hookseal.stores.django needs Django: pip install 'hookseal[django]'"
    ) from exc

from .._errors import ConfigurationError, NonceStoreUnavailable

__all__ = ["DjangoCacheNonceStore"]


def _settings_loaded() -> bool:
    """Whether Django's settings can be read now (configured, or loadable from the env)."""
    try:
        settings.ALLOWED_HOSTS  # noqa: B018 - loads the settings module if it is set
    except ImproperlyConfigured:
        return False
    return True



def _eviction(alias: str) -> tuple[str, bool] | None:
    """Why the cache ``alias`` would lose live entries, and whether no opt-in can accept it."""
    from django.core.cache.backends.db import DatabaseCache
    from django.core.cache.backends.dummy import DummyCache
    from django.core.cache.backends.filebased import FileBasedCache
    from django.core.cache.backends.locmem import LocMemCache
    from django.core.cache.backends.memcached import BaseMemcachedCache

    configured = settings.CACHES
    if not isinstance(configured, Mapping) or alias not in configured:
        raise ConfigurationError(f"settings.CACHES has no {alias!r} entry.")
    backend = configured[alias].get("BACKEND") if isinstance(configured[alias], Mapping) else None
    try:
        cls = import_string(backend) if isinstance(backend, str) else backend
    except ImportError as exc:
        raise ConfigurationError(
            f"settings.CACHES[{alias!r}]: cannot import its BACKEND ({exc})."
        ) from exc
    if not isinstance(cls, type):
        return None
    if issubclass(cls, DummyCache):
        return "DummyCache stores nothing, so every replay would be accepted", True
    if issubclass(cls, LocMemCache):
        return (
            "LocMemCache is per process and culls live entries when it reaches MAX_ENTRIES "
            "(default 300)",
            False,
        )
    if issubclass(cls, FileBasedCache):
        return "FileBasedCache culls live entries at MAX_ENTRIES and its add() is not atomic", False
    if issubclass(cls, DatabaseCache):
        return "DatabaseCache culls live entries when it reaches MAX_ENTRIES (default 300)", False
    if issubclass(cls, BaseMemcachedCache):
        return (
            "memcached evicts live entries under memory pressure (unless the server runs with -M)",
            False,
        )
    return None


class DjangoCacheNonceStore:
    """A nonce store on a Django cache, for projects that already run a shared cache.

    ``cache.add(key, 1, timeout)`` records a delivery only if it is not already there. Use a
    backend shared by every worker whose ``add`` is atomic and which does not evict live
    entries: Redis (``django.core.cache.backends.redis.RedisCache``, or django-redis, with a
    ``noeviction`` policy and room to spare). A cache that drops a live entry lets a captured
    delivery be replayed, so the backends known to do so are refused: ``LocMemCache``,
    ``FileBasedCache`` and ``DatabaseCache`` cull entries at ``MAX_ENTRIES`` (default 300),
    memcached evicts under memory pressure; ``DummyCache`` stores nothing and is always
    refused.

    Args:
        cache_alias: the ``CACHES`` entry to use (default ``"default"``).
        key_prefix: prepended to every key (the rest is a hex digest; no secret).
        allow_eviction: accept a backend that may drop live entries (see above), for a
            single process in development, or a memcached started with ``-M``: an explicit
            opt-in to weaker replay protection.

    Raises:
        ConfigurationError: for a refused backend, at construction; if Django's settings
            cannot be read yet then, the check runs at first use instead, and deliveries are
            refused (503, ``NonceStoreUnavailable`` caused by the ConfigurationError).
    """

    def __init__(
        self,
        cache_alias: str = "default",
        *,
        key_prefix: str = "hookseal:",
        allow_eviction: bool = False,
    ) -> None:
        if not isinstance(cache_alias, str) or not cache_alias:
            raise ConfigurationError("cache_alias must name an entry of settings.CACHES.")
        if not isinstance(key_prefix, str) or not key_prefix.isascii() or " " in key_prefix:
            raise ConfigurationError("key_prefix must be ASCII text without spaces.")
        if not isinstance(allow_eviction, bool):
            raise ConfigurationError(
                f"allow_eviction must be True or False, not {allow_eviction!r}."
            )
        self._cache_alias = cache_alias
        self._key_prefix = key_prefix
        self._allow_eviction = allow_eviction
        self._checked = False
        if _settings_loaded():
            self._check_backend()

    # Read-only: a store re-pointed at another cache after the check would skip it.
    @property
    def cache_alias(self) -> str:
        """The ``CACHES`` entry in use."""
        return self._cache_alias

    @property
    def key_prefix(self) -> str:
        """The prefix of every key."""
        return self._key_prefix

    @property
    def allow_eviction(self) -> bool:
        """Whether a backend that may drop live entries was explicitly accepted."""
        return self._allow_eviction

    def _check_backend(self) -> None:
        problem = _eviction(self.cache_alias)
        if problem is not None:
            why, always = problem
            if always or not self.allow_eviction:
                what = (
                    "Use another cache"
                    if always
                    else (
                        "Use a Redis cache with a noeviction policy (or "
                        "hookseal.stores.redis.RedisNonceStore), or pass allow_eviction=True to "
                        "accept the risk"
                    )
                )
                raise ConfigurationError(
                    f"DjangoCacheNonceStore({self.cache_alias!r}): {why}; a captured delivery "
                    f"could then be replayed. {what}."
                )
        self._checked = True

    def _cache(self) -> Any:
        from django.core.cache import caches

        return caches[self.cache_alias]

    def _ready(self) -> None:
        if not self._checked:  # Django's settings were not readable at construction
            self._check_backend()

    def _args(self, key: bytes, expires_at: float, now: float) -> tuple[str, int]:
        self._ready()
        if not math.isfinite(expires_at):
            raise NonceStoreUnavailable("The replay-store expiry is not a finite time.")
        return self.key_prefix + key.hex(), max(1, math.ceil(expires_at - now))

    def _failed(self, exc: Exception) -> NonceStoreUnavailable:
        return NonceStoreUnavailable(
            f"The Django cache {self.cache_alias!r} failed ({type(exc).__name__})."
        )

    @staticmethod
    def _record(token: bytes | None, timeout: int) -> str:
        """The cached value: the acceptance's token (hex) and the record's lifetime."""
        return f"{token.hex() if token is not None else ''}:{timeout}"

    @staticmethod
    def _holder(value: object, token: bytes) -> int | None:
        """The record's lifetime if ``value`` is a record held by ``token``, else None."""
        if not isinstance(value, str):
            return None
        held, _, timeout = value.partition(":")
        if not held or not timeout.isdigit():
            return None
        if not hmac.compare_digest(held.encode("ascii", "replace"), token.hex().encode()):
            return None
        return int(timeout)

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """Record ``key`` until ``expires_at`` unless it is recorded (``cache.add``)."""
        name, timeout = self._args(key, expires_at, now)
        try:
            return bool(self._cache().add(name, self._record(token, timeout), timeout))
        except Exception as exc:
            raise self._failed(exc) from exc

    async def areserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """The asynchronous form of :meth:`reserve` (``cache.aadd``)."""
        name, timeout = self._args(key, expires_at, now)
        try:
            return bool(await self._cache().aadd(name, self._record(token, timeout), timeout))
        except Exception as exc:
            raise self._failed(exc) from exc

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """Delete the record of ``key`` if ``token`` holds it, at most ``max_releases`` times.

        The count lives in the cache (``cache.incr`` on a companion key that outlives the
        record), so every worker sees the same bound. A Django cache has no compare-and-set:
        the token is compared, then the record deleted; the verifier releases each acceptance
        once, so only a record that expires in between could be deleted after its successor
        was made.
        """
        self._ready()
        name = self.key_prefix + key.hex()
        try:
            cache = self._cache()
            timeout = self._holder(cache.get(name), token)
            if timeout is None or max_releases < 1:
                return False
            count = name + ":released"
            cache.add(count, 0, timeout)
            if int(cache.incr(count)) > max_releases:
                return False
            return bool(cache.delete(name))
        except Exception as exc:
            raise self._failed(exc) from exc

    async def arelease(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """The asynchronous form of :meth:`release` (``aget``, ``aincr``, ``adelete``)."""
        self._ready()
        name = self.key_prefix + key.hex()
        try:
            cache = self._cache()
            timeout = self._holder(await cache.aget(name), token)
            if timeout is None or max_releases < 1:
                return False
            count = name + ":released"
            await cache.aadd(count, 0, timeout)
            if int(await cache.aincr(count)) > max_releases:
                return False
            return bool(await cache.adelete(name))
        except Exception as exc:
            raise self._failed(exc) from exc

    def unreserve(self, key: bytes, token: bytes) -> bool:
        """Undo the reservation ``token`` made (see ``NonceStore.unreserve``).

        Its record is deleted if it is still this acceptance's; the release count is not
        touched.
        """
        self._ready()
        name = self.key_prefix + key.hex()
        try:
            cache = self._cache()
            if self._holder(cache.get(name), token) is None:
                return False
            return bool(cache.delete(name))
        except Exception as exc:
            raise self._failed(exc) from exc

    async def aunreserve(self, key: bytes, token: bytes) -> bool:
        """The asynchronous form of :meth:`unreserve`."""
        self._ready()
        name = self.key_prefix + key.hex()
        try:
            cache = self._cache()
            if self._holder(await cache.aget(name), token) is None:
                return False
            return bool(await cache.adelete(name))
        except Exception as exc:
            raise self._failed(exc) from exc

    def __repr__(self) -> str:
        extra = ", allow_eviction=True" if self.allow_eviction else ""
        return f"DjangoCacheNonceStore(cache_alias={self.cache_alias!r}{extra})"
