"""MemoryNonceStore: exactly-once acceptance across threads, expiry, and the hard bound."""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from replay_support import body_only_scheme, quiet_verifier, signed

from hookseal import (
    ConfigurationError,
    NonceStoreUnavailable,
    ReplayedDelivery,
    SignatureMismatch,
    TimestampOutOfTolerance,
)
from hookseal.stores.base import AsyncNonceStore, NonceStore
from hookseal.stores.memory import MemoryNonceStore

NOW = 1_700_000_000
COPIES_PER_THREAD = 100
TOLERANCE = 300


def test_store_satisfies_both_protocols() -> None:
    store = MemoryNonceStore()
    assert isinstance(store, NonceStore)
    assert isinstance(store, AsyncNonceStore)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10", None])
def test_bad_bounds_are_configuration_errors(bad: object) -> None:
    with pytest.raises(ConfigurationError):
        MemoryNonceStore(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        MemoryNonceStore(granularity=bad)  # type: ignore[arg-type]


def test_entry_lives_through_its_expiry_inclusive() -> None:
    store = MemoryNonceStore(granularity=1)
    key = b"k" * 16
    assert store.reserve(key, NOW + 10, NOW) is True
    assert store.reserve(key, NOW + 10, NOW + 9) is False
    # The time check still passes a delivery whose timestamp + tolerance == now.
    assert store.reserve(key, NOW + 10, NOW + 10) is False
    assert store.reserve(key, NOW + 20, NOW + 10.001) is True


def test_expired_entries_are_purged() -> None:
    store = MemoryNonceStore(granularity=1)
    for i in range(100):
        store.reserve(i.to_bytes(16, "big"), NOW + 5, NOW)
    assert len(store) == 100
    store.reserve(b"x" * 16, NOW + 100, NOW + 7)
    assert len(store) == 1


@pytest.mark.parametrize("expiry", [float("nan"), float("inf")])
def test_non_finite_expiry_fails_closed(expiry: float) -> None:
    store = MemoryNonceStore()
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(b"k" * 16, expiry, NOW)
    assert len(store) == 0


def test_32_threads_same_delivery_accepted_exactly_once() -> None:
    verifier = quiet_verifier(MemoryNonceStore())
    body, headers = signed(NOW, "msg_threads")
    accepted: list[int] = []
    replayed: list[int] = []
    other: list[BaseException] = []
    barrier = threading.Barrier(32)

    def submit() -> None:
        barrier.wait()
        # Every thread starts at the barrier, so the race is in the first attempts: 100 copies
        # each (3,200 in all) contend as hard as 1,000 would, in a tenth of the time.
        for _ in range(COPIES_PER_THREAD):
            try:
                verifier.verify(body, headers, now=NOW)
                accepted.append(1)
            except ReplayedDelivery:
                replayed.append(1)
            except BaseException as exc:  # pragma: no cover - reported below
                other.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other == []
    assert len(accepted) == 1
    assert len(replayed) == 32 * COPIES_PER_THREAD - 1


def test_bound_holds_under_concurrent_distinct_ids() -> None:
    store = MemoryNonceStore(max_entries=1000)
    accepted: list[bytes] = []
    full: list[str] = []
    barrier = threading.Barrier(16)

    def submit(worker: int) -> None:
        barrier.wait()
        for i in range(200):
            key = (worker * 1000 + i).to_bytes(16, "big")
            try:
                if store.reserve(key, NOW + 60, NOW):
                    accepted.append(key)
            except NonceStoreUnavailable as exc:
                full.append(exc.reason)

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accepted) == 1000
    assert len(store) == 1000
    assert len(full) == 16 * 200 - 1000
    assert set(full) == {"nonce_store_full"}


def test_full_store_refuses_new_ids_keeps_old_ones_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryNonceStore(max_entries=50, granularity=1)
    verifier = quiet_verifier(store)
    deliveries = [signed(NOW, f"msg_{i}") for i in range(50)]
    for body, headers in deliveries:
        verifier.verify(body, headers, now=NOW)
    assert len(store) == 50

    caplog.set_level(logging.WARNING, logger="hookseal")
    for i in range(20):
        body, headers = signed(NOW, f"new_{i}")
        with pytest.raises(NonceStoreUnavailable) as info:
            verifier.verify(body, headers, now=NOW)
        assert info.value.reason == "nonce_store_full"
        assert info.value.status_code == 503
    assert len(store) == 50, "a full store must not grow"
    assert len(store._buckets[min(store._buckets)]) == 50
    # Nothing was evicted: every earlier id is still refused as a replay.
    for body, headers in deliveries:
        with pytest.raises(ReplayedDelivery):
            verifier.verify(body, headers, now=NOW + 1)
    full_lines = [r for r in caplog.records if "maximum of 50 live entries" in r.getMessage()]
    assert len(full_lines) == 1
    assert full_lines[0].levelno == logging.WARNING

    # Once the entries expire, the store takes new ids again and re-arms its warning.
    later = NOW + TOLERANCE + 2
    body, headers = signed(later, "after_expiry")
    verifier.verify(body, headers, now=later)
    assert len(store) == 1
    assert store._full_logged is False


def test_forged_deliveries_never_write() -> None:
    store = MemoryNonceStore()
    verifier = quiet_verifier(store)
    for i in range(2000):
        body, headers = signed(NOW, f"forged_{i}")
        headers["X-Signature"] = "0" * 64
        with pytest.raises(SignatureMismatch):
            verifier.verify(body, headers, now=NOW)
    for i in range(50):
        body, headers = signed(NOW - TOLERANCE - 1 - i, f"stale_{i}")
        with pytest.raises(TimestampOutOfTolerance):
            verifier.verify(body, headers, now=NOW)
    assert len(store) == 0


def test_id_accepted_again_only_after_its_window() -> None:
    """Replay key = id + signed timestamp, expiry = timestamp + tolerance (injected clock)."""
    store = MemoryNonceStore(granularity=1)
    verifier = quiet_verifier(store, tolerance=TOLERANCE)
    body, headers = signed(NOW, "msg_window")
    verifier.verify(body, headers, now=NOW)
    for now in (NOW, NOW + 1, NOW + TOLERANCE - 1, NOW + TOLERANCE):
        with pytest.raises(ReplayedDelivery):
            verifier.verify(body, headers, now=now)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(body, headers, now=NOW + TOLERANCE + 1)
    # The sender's retry is re-signed with a new timestamp: a new delivery, not a replay.
    retry_body, retry_headers = signed(NOW + 60, "msg_window")
    verifier.verify(retry_body, retry_headers, now=NOW + 60)
    assert len(store) == 2
    # Once the window has passed (the verifier keeps entries 1 s beyond it), the store
    # drops the first entry on its own: only the retry's entry and the new one remain.
    store.reserve(b"\0" * 16, NOW + 10_000, NOW + TOLERANCE + 2.5)
    assert len(store) == 2
    assert store.reserve(b"\0" * 16, NOW + 10_000, NOW + TOLERANCE + 2.5) is False


def test_future_dated_delivery_lives_until_timestamp_plus_tolerance() -> None:
    store = MemoryNonceStore(granularity=1)
    verifier = quiet_verifier(store, tolerance=TOLERANCE)
    future = NOW + TOLERANCE  # the furthest future the window allows
    body, headers = signed(future, "msg_future")
    verifier.verify(body, headers, now=NOW)
    # now + tolerance would already have dropped it; timestamp + tolerance keeps it.
    for now in (NOW + TOLERANCE + 1, NOW + 2 * TOLERANCE - 1, NOW + 2 * TOLERANCE):
        with pytest.raises(ReplayedDelivery):
            verifier.verify(body, headers, now=now)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(body, headers, now=NOW + 2 * TOLERANCE + 1)


def test_unsigned_timestamp_scheme_is_bounded_by_retention() -> None:
    store = MemoryNonceStore(granularity=1)
    retention = 3600
    verifier = quiet_verifier(store, body_only_scheme(), replay_retention=retention)
    body, headers = signed(NOW, "ignored", scheme=body_only_scheme())
    verifier.verify(body, headers, now=NOW)
    for now in (NOW + 1, NOW + retention):
        with pytest.raises(ReplayedDelivery):
            verifier.verify(body, headers, now=now)
    # Past the retention the same bytes are accepted again: that is this scheme's bound.
    verifier.verify(body, headers, now=NOW + retention + 1)


@pytest.mark.asyncio
async def test_averify_with_memory_store() -> None:
    verifier = quiet_verifier(MemoryNonceStore())
    body, headers = signed(NOW, "msg_async")
    await verifier.averify(body, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        await verifier.averify(body, headers, now=NOW)


def test_reserve_is_cheap_at_scale() -> None:
    """O(1) per check: 100x more live entries must not cost 10x more per check."""

    def per_check(live: int) -> float:
        store = MemoryNonceStore(max_entries=live + 5_000, granularity=10)
        for i in range(live):
            store.reserve(i.to_bytes(16, "big"), NOW + 300 + i % 600, NOW)
        keys = [(live + i).to_bytes(16, "big") for i in range(5_000)]
        started = time.perf_counter()
        for key in keys:
            store.reserve(key, NOW + 300, NOW + 1)
        return (time.perf_counter() - started) / len(keys)

    small = min(per_check(1_000) for _ in range(3))
    large = min(per_check(100_000) for _ in range(2))
    assert large < 10 * small


# -- reserve: one probe and a cached expiry bucket, against the straightforward algorithm ------


class ReferenceStore:
    """MemoryNonceStore.reserve written plainly (a lookup, then an insert, every bucket through
    the bucket dict and the heap), without the lock or the log line."""

    def __init__(self, max_entries: int, granularity: int) -> None:
        self.max_entries = max_entries
        self.granularity = granularity
        self.entries: dict[bytes, float] = {}
        self.buckets: dict[int, list[bytes]] = {}
        self.heap: list[int] = []

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        if not math.isfinite(expires_at):
            raise NonceStoreUnavailable("not finite")
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
        bucket = bucket_of(expires_at, self.granularity)
        keys = self.buckets.get(bucket)
        if keys is None:
            self.buckets[bucket] = [key]
            heapq.heappush(self.heap, bucket)
        else:
            keys.append(key)
        return True


def bucket_of(expires_at: float, granularity: int) -> int:
    return (int(expires_at) // granularity + 1) * granularity


def verdict(
    store: NonceStore | ReferenceStore, key: bytes, expires_at: float, now: float
) -> object:
    try:
        return store.reserve(key, expires_at, now)
    except NonceStoreUnavailable as exc:
        return ("unavailable", exc.reason)


@given(
    ops=st.lists(
        st.tuples(
            st.integers(0, 12),  # key
            st.integers(0, 40),  # lifetime (0: expires at once)
            st.integers(0, 15),  # time step before the operation
            st.sampled_from([0.0, 0.5]),  # fractional expiries
        ),
        max_size=60,
    ),
    max_entries=st.integers(1, 8),
    granularity=st.sampled_from([1, 3, 10]),
)
def test_reserve_gives_the_verdicts_of_the_plain_algorithm(
    ops: list[tuple[int, int, int, float]], max_entries: int, granularity: int
) -> None:
    """The same verdicts, errors and sizes, when full, when entries expire and are purged,
    and when an expired key comes back."""
    store = MemoryNonceStore(max_entries, granularity=granularity)
    reference = ReferenceStore(max_entries, granularity)
    now = float(NOW)
    for key_number, lifetime, step, fraction in ops:
        now += step
        key = key_number.to_bytes(16, "big")
        expires_at = now + lifetime + fraction
        assert verdict(store, key, expires_at, now) == verdict(reference, key, expires_at, now)
        assert len(store) == len(reference.entries)


@given(
    ops=st.lists(
        st.tuples(
            st.integers(0, 30),  # key
            st.floats(-25, 60, allow_nan=False),  # lifetime, fractional, sometimes negative
            st.integers(0, 7),  # time step
        ),
        max_size=50,
    ),
    granularity=st.sampled_from([1, 3, 10]),
    start=st.sampled_from([0.0, 5.5, float(NOW)]),
)
def test_every_key_lands_in_the_bucket_its_expiry_gives(
    ops: list[tuple[int, float, int]], granularity: int, start: float
) -> None:
    """So a purge at each bucket's time removes its keys: nothing live or expired is stranded."""
    store = MemoryNonceStore(1000, granularity=granularity)
    now = start
    placed: dict[bytes, list[int]] = {}
    for key_number, lifetime, step in ops:
        now += step
        key = key_number.to_bytes(4, "big")
        expires_at = now + lifetime
        if store.reserve(key, expires_at, now):
            placed.setdefault(key, []).append(bucket_of(expires_at, granularity))
        for bucket, keys in store._buckets.items():
            for held in keys:
                assert bucket in placed[held]
    for key, expiry in store._entries.items():
        assert any(
            key in store._buckets.get(bucket, ()) and bucket > expiry for bucket in placed[key]
        )


def test_a_negative_expiry_bucket_is_not_cached() -> None:
    """Below zero int() truncates towards zero: such a bucket's range is never cached."""
    store = MemoryNonceStore(10, granularity=10)
    assert store.reserve(b"a", -5.5, -100.0)  # int(-5.5) == -5: bucket 0
    assert store._last_bucket == 0
    assert store._last_low > store._last_high  # an empty range: nothing cached
    assert store.reserve(b"b", -0.5, -100.0)  # int(-0.5) == 0: bucket 10, not 0
    assert store.reserve(b"c", -7.0, -100.0)
    assert store._buckets == {0: [b"a", b"c"], 10: [b"b"]}
    assert store.reserve(b"d", 3.0, -100.0)  # [0, 10) is bucket 10's range when cached
    assert store._buckets[10] == [b"b", b"d"]


def test_the_same_float_object_twice_is_a_replay() -> None:
    """Presence is told by the size, never by the identity of the stored expiry."""
    store = MemoryNonceStore(4)
    expires_at = NOW + 300.0
    assert store.reserve(b"k" * 16, expires_at, float(NOW)) is True
    assert store.reserve(b"k" * 16, expires_at, float(NOW)) is False
    assert len(store) == 1


def test_the_cached_bucket_is_dropped_when_it_is_purged() -> None:
    store = MemoryNonceStore(10, granularity=10)
    now = float(NOW)
    assert store.reserve(b"a", now + 5, now)
    # Past a's bucket: a is purged, and the next key must not go to the purged list.
    later = now + 30
    assert store.reserve(b"b", later + 5, later)
    assert len(store) == 1
    assert store.reserve(b"a", later + 5, later)  # a expired: it may be recorded again
    much_later = later + 30
    assert store.reserve(b"c", much_later + 5, much_later)
    assert len(store) == 1  # a and b, in the cached bucket, were purged with it


def test_a_full_store_takes_back_a_key_whose_entry_expired_before_its_purge() -> None:
    store = MemoryNonceStore(1, granularity=1)
    now = float(NOW)
    assert store.reserve(b"a", now + 5, now)
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(b"b", now + 300, now)
    later = now + 5.5  # a has expired; its bucket (now + 6) is not purged yet
    assert store.reserve(b"a", later + 300, later)  # recorded again, although the store is full
    assert store.reserve(b"a", later + 300, later) is False  # live again: a replay
    # Purging a's first bucket keeps its new, live entry: still full, still a replay.
    assert store.reserve(b"a", later + 300, now + 7) is False
    assert len(store) == 1
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(b"b", now + 300, now + 7)
