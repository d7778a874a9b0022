"""The in-memory nonce store: bounded, O(1), for one process."""

from __future__ import annotations

import heapq
import logging
import math
import threading
from typing import ClassVar

from .._errors import ConfigurationError, NonceStoreUnavailable

__all__ = ["MemoryNonceStore"]

logger = logging.getLogger("hookseal")
_isfinite = math.isfinite
_INF = math.inf


class MemoryNonceStore:
    """A thread-safe, bounded nonce store in this process's memory.

    Each check is O(1) (amortised): entries live in a dict and expire through coarse time
    buckets. The store never holds more than ``max_entries`` live entries. When it is full
    it refuses new deliveries with ``NonceStoreUnavailable`` (reason ``nonce_store_full``)
    rather than evicting a live entry: eviction would let an attacker flush a captured id
    with a burst of genuine-looking traffic and then replay it. Entries expire on their own,
    so the store drains as soon as traffic slows.

    It protects one process only. Several worker processes or machines each see only their
    own deliveries: give them a shared store such as
    :class:`hookseal.stores.redis.RedisNonceStore`.

    Args:
        max_entries: the most live entries held at once (default 100,000; about 125 bytes
            each on CPython 3.11, measured with tracemalloc by benchmarks/bench_nonce.py).
        granularity: the width in seconds of the expiry buckets.
    """

    #: Its ``reserve`` never waits on I/O (a dict under a lock), so async code may call it
    #: directly: ``Verifier.averify`` then takes the synchronous path, with no coroutine.
    reserve_blocks: ClassVar[bool] = False

    def __init__(self, max_entries: int = 100_000, *, granularity: int = 10) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError(f"max_entries must be a positive int, not {max_entries!r}.")
        if isinstance(granularity, bool) or not isinstance(granularity, int) or granularity < 1:
            raise ConfigurationError(f"granularity must be a positive int, not {granularity!r}.")
        self.max_entries = max_entries
        self._granularity = granularity
        self._entries: dict[bytes, float] = {}
        # The token of the acceptance holding each live entry (for release).
        self._tokens: dict[bytes, bytes | None] = {}
        # Released records: key -> (times released, expiry). A released key is absent from
        # _entries (a new reservation re-admits it) but keeps its count until it expires.
        self._releases: dict[bytes, tuple[int, float]] = {}
        self._buckets: dict[int, list[bytes]] = {}
        self._bucket_heap: list[int] = []
        # The bucket the last entry went to, and its key list (a cache of one _buckets item).
        self._last_bucket: int | None = None
        self._last_keys: list[bytes] = []
        # The expiries [low, high) that map to _last_bucket (empty when there is none).
        self._last_low: float = _INF
        self._last_high: float = -_INF
        self._lock = threading.Lock()
        self._full_logged = False
        # Entries released since the bucket lists were last rebuilt: each leaves a stale key
        # in a bucket list until that bucket passes. Past max_entries, the lists are rebuilt.
        self._released = 0

    def __len__(self) -> int:
        """The number of entries held (expired ones are dropped lazily)."""
        return len(self._entries)

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """Record ``key`` until ``expires_at`` unless a live entry holds it (see NonceStore)."""
        if not _isfinite(expires_at):
            raise NonceStoreUnavailable("The replay-store expiry is not a finite time.")
        # acquire/release in try/finally: the same as ``with self._lock``, for less.
        lock = self._lock
        lock.acquire()
        try:
            heap = self._bucket_heap
            if heap and heap[0] <= now:
                self._purge(now)
            entries = self._entries
            size = len(entries)
            if size < self.max_entries:
                # One hash probe for the common case (a new key): insert unless present.
                current = entries.setdefault(key, expires_at)
                if len(entries) == size:  # already present: nothing was inserted
                    if current >= now:
                        # Live through expires_at inclusive: the time check still passes a
                        # delivery whose timestamp + tolerance equals now, so its entry must too.
                        return False
                    entries[key] = expires_at
                self._tokens[key] = token
                if self._releases:
                    self._forget_expired_release(key, now)
            else:
                held = entries.get(key)
                if held is not None and held >= now:
                    return False
                if held is None:
                    if not self._full_logged:
                        self._full_logged = True
                        logger.warning(
                            "hookseal: the in-memory nonce store holds its maximum of %d live "
                            "entries; new deliveries are refused (503) until entries expire. "
                            "Raise max_entries or use a shared store such as RedisNonceStore.",
                            self.max_entries,
                        )
                    raise NonceStoreUnavailable(
                        f"The in-memory replay store is full ({self.max_entries} live entries), "
                        "so this delivery cannot be recorded and is refused. Raise max_entries, "
                        "or use a shared store such as RedisNonceStore.",
                        reason="nonce_store_full",
                    )
                entries[key] = expires_at
                self._tokens[key] = token
                if self._releases:
                    self._forget_expired_release(key, now)
            if self._last_low <= expires_at < self._last_high:
                # Deliveries arrive in time order: most share the previous one's bucket, whose
                # expiry range is cached (the same bucket the formula below gives).
                self._last_keys.append(key)
                return True
            granularity = self._granularity
            # The first multiple of granularity after the expiry: purged once it has passed.
            bucket = (int(expires_at) // granularity + 1) * granularity
            keys = self._buckets.get(bucket)
            if keys is None:
                keys = self._buckets[bucket] = []
                heapq.heappush(heap, bucket)
            keys.append(key)
            self._last_bucket = bucket
            self._last_keys = keys
            low = bucket - granularity
            # Every expiry in [low, bucket) maps to this bucket when low >= 0 (int() is floor
            # there); below zero int() truncates towards zero, so no range is cached.
            if low >= 0:
                self._last_low = low
                self._last_high = bucket
            else:
                self._last_low = _INF
                self._last_high = -_INF
            return True
        finally:
            lock.release()

    async def areserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """The asynchronous form of :meth:`reserve` (it never blocks on I/O)."""
        return self.reserve(key, expires_at, now, token)

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """Release the live entry ``token`` holds, at most ``max_releases`` times per key.

        A released key is accepted again once (see ``Verifier.release``); its count stays
        until the entry would have expired, so a delivery whose handler always fails is
        re-admitted at most ``max_releases`` times.
        """
        with self._lock:
            expires_at = self._entries.get(key)
            if expires_at is None or token is None or self._tokens.get(key) != token:
                return False
            count = self._releases.get(key, (0, 0.0))[0]
            if count >= max_releases:
                return False
            del self._entries[key]
            del self._tokens[key]
            self._releases[key] = (count + 1, expires_at)
            self._released += 1
            if self._released > self.max_entries:
                # Bound the stale keys released entries leave in the bucket lists (a poison
                # delivery replayed and released over and over would otherwise grow them).
                self._rebuild_buckets()
            return True

    async def arelease(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """The asynchronous form of :meth:`release` (it never blocks on I/O)."""
        return self.release(key, token, max_releases)

    def unreserve(self, key: bytes, token: bytes) -> bool:
        """Undo the reservation ``token`` made (see ``NonceStore.unreserve``); no count."""
        with self._lock:
            if key not in self._entries or token is None or self._tokens.get(key) != token:
                return False
            del self._entries[key]
            del self._tokens[key]
            self._released += 1
            if self._released > self.max_entries:
                self._rebuild_buckets()
            return True

    async def aunreserve(self, key: bytes, token: bytes) -> bool:
        """The asynchronous form of :meth:`unreserve` (it never blocks on I/O)."""
        return self.unreserve(key, token)

    def _forget_expired_release(self, key: bytes, now: float) -> None:
        """A new record for ``key`` starts a new count once the released one has expired."""
        released = self._releases.get(key)
        if released is not None and released[1] < now:
            del self._releases[key]

    def _rebuild_buckets(self) -> None:
        """Rebuild the bucket lists from the live entries alone (O(entries), rarely)."""
        granularity = self._granularity
        buckets: dict[int, list[bytes]] = {}
        held = self._entries.items()
        released = ((key, expiry) for key, (_, expiry) in self._releases.items())
        for key, expires_at in (*held, *released):
            bucket = (int(expires_at) // granularity + 1) * granularity
            keys = buckets.get(bucket)
            if keys is None:
                keys = buckets[bucket] = []
            keys.append(key)
        self._buckets = buckets
        self._bucket_heap = list(buckets)
        heapq.heapify(self._bucket_heap)
        self._last_bucket = None
        self._last_keys = []
        self._last_low = _INF
        self._last_high = -_INF
        self._released = 0

    def _purge(self, now: float) -> None:
        heap = self._bucket_heap
        entries = self._entries
        while heap and heap[0] <= now:
            bucket = heapq.heappop(heap)
            if bucket == self._last_bucket:
                self._last_bucket = None
                self._last_keys = []
                self._last_low = _INF
                self._last_high = -_INF
            releases = self._releases
            for key in self._buckets.pop(bucket):
                expiry = entries.get(key)
                if expiry is not None and expiry < now:
                    del entries[key]
                    self._tokens.pop(key, None)
                    releases.pop(key, None)
                elif expiry is None:
                    released = releases.get(key)
                    if released is not None and released[1] < now:
                        del releases[key]
                        self._tokens.pop(key, None)
        if len(entries) < self.max_entries:
            self._full_logged = False

    def __repr__(self) -> str:
        return f"MemoryNonceStore(entries={len(self._entries)}, max_entries={self.max_entries})"
