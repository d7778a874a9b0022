"""MemoryNonceStore: the single-probe reserve agrees with the straightforward algorithm.

``reserve`` inserts with one ``dict.setdefault`` and caches the last expiry bucket. The
reference below is the previous implementation (a lookup, then an insert, every bucket
through the bucket dict and the heap); random sequences of operations must get the same
verdicts, the same errors and the same sizes from both, including when the store is full,
when entries expire and are purged, and when an expired key comes back.
"""

from __future__ import annotations

import heapq
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import NonceStoreUnavailable
from hookseal.stores.memory import MemoryNonceStore


class ReferenceStore:
    """The previous MemoryNonceStore.reserve, without the lock or the log line."""

    def __init__(self, max_entries: int, granularity: int) -> None:
        self.max_entries = max_entries
        self.granularity = granularity
        self.entries: dict[bytes, float] = {}
        self.buckets: dict[int, list[bytes]] = {}
        self.heap: list[int] = []

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        if not math.isfinite(expires_at):
            raise NonceStoreUnavailable("not finite")
        if self.heap and self.heap[0] <= now:
            while self.heap and self.heap[0] <= now:
                for old in self.buckets.pop(heapq.heappop(self.heap)):
                    expiry = self.entries.get(old)
                    if expiry is not None and expiry < now:
                        del self.entries[old]
        current = self.entries.get(key)
        if current is not None and current >= now:
            return False
        if current is None and len(self.entries) >= self.max_entries:
            raise NonceStoreUnavailable("full", reason="nonce_store_full")
        self.entries[key] = expires_at
        bucket = (int(expires_at) // self.granularity + 1) * self.granularity
        keys = self.buckets.get(bucket)
        if keys is None:
            self.buckets[bucket] = [key]
            heapq.heappush(self.heap, bucket)
        else:
            keys.append(key)
        return True


def verdict(store: object, key: bytes, expires_at: float, now: float) -> object:
    try:
        return store.reserve(key, expires_at, now)  # type: ignore[attr-defined]
    except NonceStoreUnavailable as exc:
        return ("unavailable", exc.reason)


operations = st.lists(
    st.tuples(
        st.integers(0, 12),  # key
        st.integers(0, 40),  # lifetime (0: expires at once)
        st.integers(0, 15),  # time step before the operation
        st.sampled_from([0.0, 0.5]),  # fractional expiries
    ),
    max_size=60,
)


@given(
    ops=operations,
    max_entries=st.integers(1, 8),
    granularity=st.sampled_from([1, 3, 10]),
)
def test_same_verdicts_as_the_reference(
    ops: list[tuple[int, int, int, float]], max_entries: int, granularity: int
) -> None:
    store = MemoryNonceStore(max_entries, granularity=granularity)
    reference = ReferenceStore(max_entries, granularity)
    now = 1_700_000_000.0
    for key_number, lifetime, step, fraction in ops:
        now += step
        key = key_number.to_bytes(16, "big")
        expires_at = now + lifetime + fraction
        assert verdict(store, key, expires_at, now) == verdict(reference, key, expires_at, now)
        assert len(store) == len(reference.entries)


def test_the_same_float_object_twice_is_a_replay() -> None:
    """Presence is told by the size, never by the identity of the stored expiry."""
    store = MemoryNonceStore(4)
    expires_at = 1_700_000_300.0
    assert store.reserve(b"k" * 16, expires_at, 1_700_000_000.0) is True
    assert store.reserve(b"k" * 16, expires_at, 1_700_000_000.0) is False
    assert len(store) == 1


def test_full_store_refuses_new_keys_but_still_reports_replays() -> None:
    store = MemoryNonceStore(2)
    now = 1_700_000_000.0
    assert store.reserve(b"a", now + 300, now)
    assert store.reserve(b"b", now + 300, now)
    with pytest.raises(NonceStoreUnavailable) as info:
        store.reserve(b"c", now + 300, now)
    assert info.value.reason == "nonce_store_full"
    assert store.reserve(b"a", now + 300, now) is False  # nothing was evicted


def test_the_cached_bucket_is_dropped_when_it_is_purged() -> None:
    store = MemoryNonceStore(10, granularity=10)
    now = 1_700_000_000.0
    assert store.reserve(b"a", now + 5, now)
    # Past a's bucket: a is purged, and the next key must not go to the purged list.
    later = now + 30
    assert store.reserve(b"b", later + 5, later)
    assert len(store) == 1
    assert store.reserve(b"a", later + 5, later)  # a expired: it may be recorded again
    much_later = later + 30
    assert store.reserve(b"c", much_later + 5, much_later)
    assert len(store) == 1  # a and b, in the cached bucket, were purged with it
