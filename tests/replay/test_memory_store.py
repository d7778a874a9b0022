"""MemoryNonceStore: exactly-once acceptance across threads, expiry, and the hard bound."""

from __future__ import annotations

import logging
import threading
import time

import pytest
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
