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
from hookseal.replay import MemoryNonceStore

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


def test_release_near_or_after_expiry_does_nothing() -> None:
    """Within a second of the expiry the key may already belong to another delivery."""
    store = MemoryNonceStore()
    verifier = quiet_verifier(store, tolerance=TOLERANCE)
    body, headers = signed(NOW, "msg_late")
    expires_at = NOW + TOLERANCE + 1
    verified = verifier.verify(body, headers, now=NOW)
    assert verifier.release(verified, now=expires_at - 1) is False
    assert len(store) == 1
    # Taken once: even an earlier clock cannot release it afterwards.
    assert verifier.release(verified, now=NOW) is False
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW + 10)


def test_release_uses_the_verifier_clock_by_default() -> None:
    clock = [float(NOW)]
    verifier = quiet_verifier(MemoryNonceStore(), tolerance=TOLERANCE, clock=lambda: clock[0])
    body, headers = signed(NOW, "msg_clock")
    verified = verifier.verify(body, headers)
    clock[0] = NOW + TOLERANCE + 5
    assert verifier.release(verified) is False


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
    def release(self, key: bytes) -> None:
        raise NonceStoreUnavailable("the store is down")

    async def arelease(self, key: bytes) -> None:
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

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        return self.inner.reserve(key, expires_at, now)

    def release(self, key: bytes) -> None:
        import threading

        self.threads.append(threading.current_thread())
        self.inner.release(key)


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
    store.release(b"never-recorded")
    assert store.reserve(b"k", NOW + 10, NOW) is True
    store.release(b"k")
    assert store.reserve(b"k", NOW + 10, NOW) is True
    assert store.reserve(b"k", NOW + 10, NOW) is False


def test_memory_store_stays_bounded_under_repeated_release() -> None:
    """A poison delivery replayed and released over and over must not grow the store."""
    store = MemoryNonceStore(max_entries=50, granularity=1)
    for round_ in range(2_000):
        key = b"poison"
        assert store.reserve(key, NOW + 100 + round_ % 7, NOW) is True
        store.release(key)
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

    def release(self, key: bytes) -> bool:
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

        def release(self, key: bytes) -> bool:
            self.releases += 1
            return super().release(key)

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
