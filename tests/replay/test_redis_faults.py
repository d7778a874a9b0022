"""Redis killed or paused: every delivery refused (fail closed), then recovery."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis.asyncio
from redis_support import RedisProcess, fast_fail_client
from replay_support import quiet_verifier, signed

from hookseal import NonceStoreUnavailable, ReplayedDelivery, Verified
from hookseal.stores.redis import AsyncRedisNonceStore, RedisNonceStore

pytestmark = [pytest.mark.extras, pytest.mark.redis]

NOW = 1_700_000_000


def test_redis_killed_mid_run_fails_closed_then_recovers(
    fragile_redis: RedisProcess, prefix: str
) -> None:
    client = fast_fail_client(fragile_redis.port)
    verifier = quiet_verifier(RedisNonceStore(client, prefix=prefix))
    outcomes: list[tuple[float, str]] = []
    stop = threading.Event()

    def submit() -> None:
        i = 0
        while not stop.is_set():
            body, headers = signed(NOW, f"run_{i}")
            i += 1
            # Stamp each attempt with when it started: one accepted just before the kill
            # may return after it, and must not count as "accepted while Redis was down".
            started = time.monotonic()
            try:
                verifier.verify(body, headers, now=NOW)
                outcomes.append((started, "accepted"))
            except NonceStoreUnavailable as exc:
                outcomes.append((started, f"unavailable-{exc.status_code}"))
            except Exception as exc:  # pragma: no cover - reported below
                outcomes.append((started, repr(exc)))

    first_body, first_headers = signed(NOW, "accepted_before")
    verifier.verify(first_body, first_headers, now=NOW)
    runner = threading.Thread(target=submit)
    try:
        runner.start()
        time.sleep(0.2)
        fragile_redis.kill()
        killed_at = time.monotonic()
        time.sleep(0.5)
        stop.set()
        runner.join()
        after = [outcome for at, outcome in outcomes if at > killed_at]
        assert any(outcome == "accepted" for at, outcome in outcomes if at < killed_at)
        assert after, "no delivery was submitted while Redis was down"
        assert set(after) == {"unavailable-503"}
        assert {outcome for _, outcome in outcomes} <= {"accepted", "unavailable-503"}
        # A replay of an accepted delivery is refused too (503, never accepted).
        with pytest.raises(NonceStoreUnavailable):
            verifier.verify(first_body, first_headers, now=NOW)

        fragile_redis.start()  # same port, empty (no persistence)
        body, headers = signed(NOW, "after_restart")
        assert isinstance(verifier.verify(body, headers, now=NOW), Verified)
        with pytest.raises(ReplayedDelivery):
            verifier.verify(body, headers, now=NOW)
    finally:
        stop.set()
        client.close()


def test_redis_paused_times_out_fails_closed_then_recovers(
    fragile_redis: RedisProcess, prefix: str
) -> None:
    client = fast_fail_client(fragile_redis.port, timeout=0.15)
    verifier = quiet_verifier(RedisNonceStore(client, prefix=prefix))
    try:
        body, headers = signed(NOW, "before_pause")
        verifier.verify(body, headers, now=NOW)
        fragile_redis.pause()  # SIGSTOP: connections stay open, nothing answers
        for i in range(5):
            body, headers = signed(NOW, f"during_pause_{i}")
            started = time.monotonic()
            with pytest.raises(NonceStoreUnavailable) as info:
                verifier.verify(body, headers, now=NOW)
            assert time.monotonic() - started < 1.0  # bounded by the socket timeout
            assert info.value.reason == "nonce_store_unavailable"
            assert "TimeoutError" in str(info.value)
        fragile_redis.resume()
        body, headers = signed(NOW, "after_pause")
        verifier.verify(body, headers, now=NOW)
        with pytest.raises(ReplayedDelivery):
            verifier.verify(body, headers, now=NOW)
    finally:
        fragile_redis.resume()
        client.close()


@pytest.mark.asyncio
async def test_async_store_fails_closed_then_recovers(
    fragile_redis: RedisProcess, prefix: str
) -> None:
    client = redis.asyncio.Redis(
        host="127.0.0.1",
        port=fragile_redis.port,
        socket_timeout=0.15,
        socket_connect_timeout=0.15,
        retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 0),
    )
    verifier = quiet_verifier(AsyncRedisNonceStore(client, prefix=prefix))
    try:
        body, headers = signed(NOW, "async_before")
        await verifier.averify(body, headers, now=NOW)
        fragile_redis.pause()
        body, headers = signed(NOW, "async_paused")
        with pytest.raises(NonceStoreUnavailable):
            await verifier.averify(body, headers, now=NOW)
        fragile_redis.resume()
        fragile_redis.kill()
        with pytest.raises(NonceStoreUnavailable):
            await verifier.averify(body, headers, now=NOW)
        await asyncio.to_thread(fragile_redis.start)
        body, headers = signed(NOW, "async_after")
        await verifier.averify(body, headers, now=NOW)
    finally:
        fragile_redis.resume()
        await client.aclose()
