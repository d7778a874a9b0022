"""Verifier.release / arelease: forgetting the record of a delivery whose handling failed.

A sender retries a delivery its receiver failed to process; when the retry is byte-identical
(Shopify, GitHub's Redeliver, any scheme that signs no timestamp) the nonce store would refuse
it as a replay unless the failed delivery's record is released.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from replay_support import SECRET, body_only_scheme, quiet_verifier, signed

from hookseal import NonceStoreUnavailable, ReplayedDelivery, Verified, Verifier
from hookseal.stores.memory import MemoryNonceStore
from hookseal.testing import check_nonce_store

NOW = 1_700_000_000
TOLERANCE = 300


def test_released_delivery_is_accepted_again_once() -> None:
    verifier = quiet_verifier(MemoryNonceStore(), tolerance=TOLERANCE)
    body, headers = signed(NOW, "msg_release")
    verified = verifier.verify(body, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)
    assert verifier.release(verified, now=NOW) is True
    retried = verifier.verify(body, headers, now=NOW + 1)
    assert retried.replay_key == verified.replay_key
    with pytest.raises(ReplayedDelivery):  # the retry holds a record of its own
        verifier.verify(body, headers, now=NOW + 2)


def test_release_is_once_per_reservation() -> None:
    """A second release of the same Verified must not drop the retry's record."""
    verifier = quiet_verifier(MemoryNonceStore(), tolerance=TOLERANCE)
    body, headers = signed(NOW, "msg_twice")
    verified = verifier.verify(body, headers, now=NOW)
    assert verifier.release(verified, now=NOW) is True
    verifier.verify(body, headers, now=NOW)  # the retry, recorded again
    assert verifier.release(verified, now=NOW) is False
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)


def test_signature_only_scheme_is_released_by_its_mac() -> None:
    """The case release exists for: no timestamp, so the retry has the very same bytes."""
    store = MemoryNonceStore()
    verifier = quiet_verifier(store, scheme=body_only_scheme(), replay_retention=86_400)
    body, headers = signed(NOW, "msg_unused", scheme=body_only_scheme())
    verified = verifier.verify(body, headers, now=NOW)
    assert len(store) == 1
    assert verifier.release(verified, now=NOW + 3600) is True
    assert len(store) == 0
    verifier.verify(body, headers, now=NOW + 3601)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW + 3602)


def test_release_only_touches_the_record_its_acceptance_made() -> None:
    """A compare-and-set on the acceptance's token, never a plain delete.

    Once a record expired and another acceptance took the key, the first Verified cannot
    release the second acceptance's record, whatever the clocks say.
    """
    store = MemoryNonceStore()
    verifier = quiet_verifier(store, scheme=body_only_scheme(), replay_retention=10)
    body, headers = signed(NOW, "msg_late", scheme=body_only_scheme())
    first = verifier.verify(body, headers, now=NOW)
    second = verifier.verify(body, headers, now=NOW + 20)  # the first record had expired
    assert verifier.release(first, now=NOW + 21) is False
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW + 22)
    assert verifier.release(second, now=NOW + 23) is True


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_releases_are_bounded_per_delivery(limit: int) -> None:
    """A poison delivery (its handler always fails) is re-admitted at most max_releases times."""
    verifier = quiet_verifier(MemoryNonceStore(), max_releases=limit)
    body, headers = signed(NOW, "msg_poison")
    accepted = 0
    for _ in range(limit + 3):
        try:
            verified = verifier.verify(body, headers, now=NOW)
        except ReplayedDelivery:
            continue
        accepted += 1
        verifier.release(verified, now=NOW)  # the handler failed again
    assert accepted == limit + 1


def test_the_bound_is_counted_in_the_store_for_every_worker() -> None:
    """Workers sharing one store share the count: a new worker does not reset it."""
    store = MemoryNonceStore()
    body, headers = signed(NOW, "msg_shared_bound")
    accepted = 0
    for _ in range(6):
        worker = quiet_verifier(store, max_releases=2)  # a fresh worker per attempt
        try:
            verified = worker.verify(body, headers, now=NOW)
        except ReplayedDelivery:
            continue
        accepted += 1
        worker.release(verified, now=NOW)
    assert accepted == 3


def test_nothing_to_release() -> None:
    body, headers = signed(NOW, "msg_none")
    # No store at all.
    unprotected = quiet_verifier(None)
    assert unprotected.release(unprotected.verify(body, headers, now=NOW), now=NOW) is False
    # A Verified recorded by another verifier's store is not this verifier's to release.
    first_store = MemoryNonceStore()
    first = quiet_verifier(first_store)
    second = quiet_verifier(MemoryNonceStore())
    verified = first.verify(body, headers, now=NOW)
    assert second.release(verified, now=NOW) is False
    assert len(first_store) == 1
    assert first.release(verified, now=NOW) is True  # untouched by the refused attempt
    # Two verifiers sharing one store: still only the one that recorded it may release it.
    shared = MemoryNonceStore()
    recorder = quiet_verifier(shared)
    neighbour = quiet_verifier(shared)
    other_body, other_headers = signed(NOW, "msg_shared")
    recorded = recorder.verify(other_body, other_headers, now=NOW)
    assert neighbour.release(recorded, now=NOW) is False
    assert len(shared) == 1
    assert recorder.release(recorded, now=NOW) is True
    # A Verified built by hand was never recorded.
    made = Verified(body, timestamp=NOW, msg_id="x", key_index=0, scheme="s", replay_key=b"k")
    assert first.release(made, now=NOW) is False
    with pytest.raises(TypeError, match="Verified"):
        first.release(object(), now=NOW)  # type: ignore[arg-type]


class ReserveOnlyStore:
    """A custom store written before release existed: reserve() only."""

    def __init__(self) -> None:
        self.keys: set[bytes] = set()

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        if key in self.keys:
            return False
        self.keys.add(key)
        return True


def test_store_without_release_keeps_its_record() -> None:
    store = ReserveOnlyStore()
    verifier = quiet_verifier(store)
    body, headers = signed(NOW, "msg_old_store")
    verified = verifier.verify(body, headers, now=NOW)
    assert verifier.release(verified, now=NOW) is False
    assert asyncio.run(verifier.arelease(verified, now=NOW)) is False
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)


class BrokenReleaseStore(MemoryNonceStore):
    def release(self, key: bytes, token: bytes, max_releases: int) -> None:  # type: ignore[override]
        raise NonceStoreUnavailable("the store is down")

    async def arelease(self, key: bytes, token: bytes, max_releases: int) -> None:  # type: ignore[override]
        raise ConnectionError("the store is down")


def test_a_failing_release_is_logged_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hookseal")
    verifier = quiet_verifier(BrokenReleaseStore())
    body, headers = signed(NOW, "msg_broken")
    assert verifier.release(verifier.verify(body, headers, now=NOW), now=NOW) is False
    other_body, other_headers = signed(NOW, "msg_broken_async")
    verified = verifier.verify(other_body, other_headers, now=NOW)
    assert asyncio.run(verifier.arelease(verified, now=NOW)) is False
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().count("could not be released") for r in warnings] == [1, 1]
    assert "NonceStoreUnavailable" in warnings[0].getMessage()
    assert "ConnectionError" in warnings[1].getMessage()


def test_release_is_logged_without_secrets_or_payload(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hookseal")
    verifier = quiet_verifier(MemoryNonceStore())
    body, headers = signed(NOW, "msg_logged")
    verifier.release(verifier.verify(body, headers, now=NOW), now=NOW)
    (record,) = [r for r in caplog.records if "released" in r.getMessage()]
    text = record.getMessage()
    assert record.levelno == logging.INFO
    assert "msg_id=msg_logged" in text
    assert body.decode() not in text
    assert headers["X-Signature"] not in text
    assert SECRET not in text


def test_arelease_with_the_memory_store() -> None:
    async def scenario() -> None:
        verifier = quiet_verifier(MemoryNonceStore())
        body, headers = signed(NOW, "msg_async")
        verified = await verifier.averify(body, headers, now=NOW)
        with pytest.raises(ReplayedDelivery):
            await verifier.averify(body, headers, now=NOW)
        assert await verifier.arelease(verified, now=NOW) is True
        assert await verifier.arelease(verified, now=NOW) is False
        await verifier.averify(body, headers, now=NOW)

    asyncio.run(scenario())


class SyncReleaseOnly:
    """A synchronous store with release but no arelease: arelease runs it in a thread."""

    def __init__(self) -> None:
        self.inner = MemoryNonceStore()
        self.threads: list[Any] = []

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        return self.inner.reserve(key, expires_at, now, token)

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        import threading

        self.threads.append(threading.current_thread())
        return self.inner.release(key, token, max_releases)


def test_arelease_keeps_a_synchronous_release_off_the_event_loop() -> None:
    import threading

    store = SyncReleaseOnly()
    verifier = quiet_verifier(store)
    body, headers = signed(NOW, "msg_thread")

    async def scenario() -> bool:
        verified = await verifier.averify(body, headers, now=NOW)
        return await verifier.arelease(verified, now=NOW)

    assert asyncio.run(scenario()) is True
    assert store.threads
    assert store.threads[0] is not threading.main_thread()
    verifier.verify(body, headers, now=NOW)


def test_memory_store_release_of_an_unknown_key_is_harmless() -> None:
    store = MemoryNonceStore()
    assert store.release(b"never-recorded", b"t", 3) is False
    assert store.reserve(b"k", NOW + 10, NOW, b"t1") is True
    assert store.release(b"k", b"not-t1", 3) is False  # not this acceptance's record
    assert store.reserve(b"k", NOW + 10, NOW, b"t2") is False
    assert store.release(b"k", b"t1", 3) is True
    assert store.release(b"k", b"t1", 3) is False  # already released
    assert store.reserve(b"k", NOW + 10, NOW, b"t2") is True  # re-admitted
    assert store.reserve(b"k", NOW + 10, NOW, b"t3") is False
    assert store.reserve(b"untokened", NOW + 10, NOW) is True
    assert store.release(b"untokened", b"", 3) is False


def test_memory_store_stays_bounded_under_repeated_release() -> None:
    """A poison delivery replayed and released over and over must not grow the store."""
    store = MemoryNonceStore(max_entries=50, granularity=1)
    for round_ in range(2_000):
        key = b"poison"
        assert store.reserve(key, NOW + 100 + round_ % 7, NOW, b"t") is True
        assert store.release(key, b"t", 10**6) is True
    held = sum(len(keys) for keys in store._buckets.values())
    assert held <= store.max_entries + 1
    assert len(store) == 0
    # Still a working store: expiry and refusal behave as before the releases.
    assert store.reserve(b"live", NOW + 5, NOW) is True
    assert store.reserve(b"live", NOW + 5, NOW + 4) is False
    assert store.reserve(b"live", NOW + 20, NOW + 6) is True
    for index in range(49):
        assert store.reserve(bytes([index]), NOW + 500, NOW + 6) is True
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(b"one-too-many", NOW + 500, NOW + 6)
    # The purge still finds every bucket after the rebuild.
    assert store.reserve(b"after-expiry", NOW + 900, NOW + 600) is True
    assert len(store) == 1


class DecliningStore(MemoryNonceStore):
    """A store that answers release() with False: it removed nothing."""

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        return False


def test_a_store_that_removed_nothing_is_not_reported_as_released(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hookseal")
    verifier = quiet_verifier(DecliningStore())
    body, headers = signed(NOW, "msg_declined")
    assert verifier.release(verifier.verify(body, headers, now=NOW), now=NOW) is False
    assert not [r for r in caplog.records if "released" in r.getMessage()]


def test_concurrent_releases_of_one_delivery_release_once() -> None:
    import threading

    class CountingStore(MemoryNonceStore):
        def __init__(self) -> None:
            super().__init__()
            self.releases = 0

        def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
            self.releases += 1
            return super().release(key, token, max_releases)

    for attempt in range(20):
        store = CountingStore()
        verifier = quiet_verifier(store)
        body, headers = signed(NOW, f"msg_race_{attempt}")
        verified = verifier.verify(body, headers, now=NOW)
        barrier = threading.Barrier(8)
        results: list[bool] = []

        def release(
            barrier: threading.Barrier = barrier,
            verifier: Verifier = verifier,
            verified: Verified = verified,
            results: list[bool] = results,
        ) -> None:
            barrier.wait()
            results.append(verifier.release(verified, now=NOW))

        threads = [threading.Thread(target=release) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False] * 7 + [True]
        assert store.releases == 1


def test_memory_store_meets_the_store_contract() -> None:
    check_nonce_store(MemoryNonceStore())
