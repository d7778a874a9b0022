"""Releasing a record on a real redis-server (RedisNonceStore / AsyncRedisNonceStore)."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis
import redis.asyncio
from redis_support import RedisProcess, fast_fail_client
from replay_support import body_only_scheme, quiet_verifier, signed

from hookseal import NonceStoreUnavailable, ReplayedDelivery
from hookseal.stores.redis import AsyncRedisNonceStore, RedisNonceStore
from hookseal.testing import check_nonce_store

pytestmark = [pytest.mark.extras, pytest.mark.redis]

NOW = 1_700_000_000


def test_release_marks_the_record_and_the_retry_is_accepted(
    redis_client: redis.Redis, prefix: str
) -> None:
    store = RedisNonceStore(redis_client, prefix=prefix)
    verifier = quiet_verifier(store, scheme=body_only_scheme())
    body, headers = signed(NOW, "unused", scheme=body_only_scheme())
    verified = verifier.verify(body, headers, now=NOW)
    name = store.key_name(verified.replay_key)
    assert redis_client.get(name).startswith(b"h0:")  # type: ignore[union-attr]
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)
    ttl = redis_client.pttl(name)
    assert verifier.release(verified, now=NOW) is True
    assert redis_client.get(name).startswith(b"r1:")  # type: ignore[union-attr]
    assert redis_client.pttl(name) <= ttl  # the record keeps its expiry
    retried = verifier.verify(body, headers, now=NOW)  # the sender's identical retry
    assert redis_client.get(name).startswith(b"h1:")  # type: ignore[union-attr]
    assert verifier.release(verified, now=NOW) is False  # once only: the retry's record stays
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)
    assert verifier.release(retried, now=NOW) is True


def test_release_is_a_compare_and_set_bounded_per_delivery(
    redis_client: redis.Redis, prefix: str
) -> None:
    store = RedisNonceStore(redis_client, prefix=prefix)
    key = b"k" * 16
    assert store.release(key, b"t1", 3) is False  # nothing recorded
    assert store.reserve(key, NOW + 60, NOW, b"t1") is True
    assert store.release(key, b"other", 3) is False  # not this acceptance's record
    assert store.reserve(key, NOW + 60, NOW, b"t2") is False
    for round_ in range(2):
        assert store.release(key, f"t{round_ + 1}".encode(), 2) is True
        assert store.release(key, f"t{round_ + 1}".encode(), 2) is False  # already released
        assert store.reserve(key, NOW + 60, NOW, f"t{round_ + 2}".encode()) is True
    assert store.release(key, b"t3", 2) is False  # the bound: the record stays held
    assert store.reserve(key, NOW + 60, NOW, b"t4") is False


def test_release_only_touches_its_own_key(redis_client: redis.Redis, prefix: str) -> None:
    store = RedisNonceStore(redis_client, prefix=prefix)
    verifier = quiet_verifier(store)
    kept_body, kept_headers = signed(NOW, "msg_kept")
    gone_body, gone_headers = signed(NOW, "msg_gone")
    kept = verifier.verify(kept_body, kept_headers, now=NOW)
    gone = verifier.verify(gone_body, gone_headers, now=NOW)
    verifier.release(gone, now=NOW)
    assert redis_client.get(store.key_name(kept.replay_key)).startswith(b"h0:")  # type: ignore[union-attr]
    assert redis_client.get(store.key_name(gone.replay_key)).startswith(b"r1:")  # type: ignore[union-attr]
    with pytest.raises(ReplayedDelivery):
        verifier.verify(kept_body, kept_headers, now=NOW)


def test_async_release(redis_server: RedisProcess, prefix: str) -> None:
    async def scenario() -> None:
        client = redis.asyncio.Redis(host="127.0.0.1", port=redis_server.port)
        try:
            verifier = quiet_verifier(AsyncRedisNonceStore(client, prefix=prefix))
            body, headers = signed(NOW, "msg_async_release")
            verified = await verifier.averify(body, headers, now=NOW)
            with pytest.raises(ReplayedDelivery):
                await verifier.averify(body, headers, now=NOW)
            assert await verifier.arelease(verified, now=NOW) is True
            await verifier.averify(body, headers, now=NOW)
            with pytest.raises(ReplayedDelivery):
                await verifier.averify(body, headers, now=NOW)
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_release_while_redis_is_down_is_logged_not_raised(
    fragile_redis: RedisProcess, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = fast_fail_client(fragile_redis.port)
    try:
        store = RedisNonceStore(client, prefix=prefix)
        verifier = quiet_verifier(store)
        body, headers = signed(NOW, "msg_down")
        verified = verifier.verify(body, headers, now=NOW)
        fragile_redis.kill()
        caplog.set_level(logging.WARNING, logger="hookseal")
        assert verifier.release(verified, now=NOW) is False
        (warning,) = [r for r in caplog.records if "could not be released" in r.getMessage()]
        assert "NonceStoreUnavailable" in warning.getMessage()
        with pytest.raises(NonceStoreUnavailable):
            store.release(verified.replay_key, b"token", 3)
    finally:
        client.close()


def test_fail_open_store_never_releases(fragile_redis: RedisProcess, prefix: str) -> None:
    """A delivery accepted while Redis failed has no record: the key's record is another's."""
    client = fast_fail_client(fragile_redis.port)
    try:
        store = RedisNonceStore(client, prefix=prefix, fail_open=True)
        verifier = quiet_verifier(store)
        body, headers = signed(NOW, "msg_fail_open")
        verified = verifier.verify(body, headers, now=NOW)  # recorded while Redis is up
        name = store.key_name(verified.replay_key)
        assert client.exists(name) == 1
        assert verifier.release(verified, now=NOW) is False  # fail_open: never released
        assert client.exists(name) == 1
        assert store.release(verified.replay_key, b"token", 3) is False
    finally:
        client.close()


def test_async_fail_open_store_never_releases(redis_server: RedisProcess, prefix: str) -> None:
    async def scenario() -> None:
        client = redis.asyncio.Redis(host="127.0.0.1", port=redis_server.port)
        try:
            store = AsyncRedisNonceStore(client, prefix=prefix, fail_open=True)
            verifier = quiet_verifier(store)
            body, headers = signed(NOW, "msg_fail_open_async")
            verified = await verifier.averify(body, headers, now=NOW)
            assert await verifier.arelease(verified, now=NOW) is False
            assert await client.exists(store.key_name(verified.replay_key)) == 1
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_redis_store_meets_the_store_contract(redis_client: redis.Redis, prefix: str) -> None:
    check_nonce_store(RedisNonceStore(redis_client, prefix=prefix))
