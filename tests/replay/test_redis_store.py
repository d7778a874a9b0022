"""RedisNonceStore / AsyncRedisNonceStore against a real redis-server (no mocks)."""

from __future__ import annotations

import asyncio
import gc
import logging
import subprocess
import sys
import time
import warnings
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis_support import RedisProcess, ReplyDroppingProxy, fast_fail_client
from replay_support import quiet_verifier, signed

from hookseal import (
    ConfigurationError,
    NonceStoreUnavailable,
    ReplayedDelivery,
    SignatureMismatch,
)
from hookseal.stores.base import AsyncNonceStore, NonceStore
from hookseal.stores.redis import AsyncRedisNonceStore, RedisNonceStore

pytestmark = [pytest.mark.extras, pytest.mark.redis]

NOW = 1_700_000_000
TOLERANCE = 300
KEY = bytes(range(16))


def test_importing_hookseal_does_not_import_redis() -> None:
    code = (
        "import sys, hookseal, hookseal.stores, hookseal.stores.memory; "
        "from hookseal import Verifier; "
        "assert 'redis' not in sys.modules, sorted(m for m in sys.modules if 'redis' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lazy_export_from_hookseal_stores() -> None:
    import hookseal.stores

    assert hookseal.stores.RedisNonceStore is RedisNonceStore
    assert hookseal.stores.AsyncRedisNonceStore is AsyncRedisNonceStore
    with pytest.raises(AttributeError):
        _ = hookseal.stores.MissingStore  # type: ignore[attr-defined]


def test_protocols(redis_client: redis.Redis) -> None:
    assert isinstance(RedisNonceStore(redis_client), NonceStore)
    assert isinstance(AsyncRedisNonceStore(redis.asyncio.Redis()), AsyncNonceStore)


def test_one_key_prefix_plus_hex_with_expiry(redis_client: redis.Redis, prefix: str) -> None:
    store = RedisNonceStore(redis_client, prefix=prefix)
    assert store.reserve(KEY, NOW + 300.5, NOW) is True
    assert store.reserve(KEY, NOW + 300.5, NOW) is False
    assert list(redis_client.scan_iter(match=prefix + "*")) == [(prefix + KEY.hex()).encode()]
    pttl = redis_client.pttl(prefix + KEY.hex())
    assert 300_000 < pttl <= 300_500
    # Another endpoint (prefix) keeps its own records.
    assert RedisNonceStore(redis_client, prefix=prefix + "other:").reserve(KEY, NOW + 1, NOW)


def test_pre_7_0_command_form(redis_client: redis.Redis, prefix: str) -> None:
    """The fallback for servers without SET NX GET: SET NX PX, GET only on conflict."""
    store = RedisNonceStore(redis_client, prefix=prefix)
    store._without_nx_get = True
    assert store.reserve(KEY, NOW + 60, NOW) is True
    assert store.reserve(KEY, NOW + 60, NOW) is False
    assert 59_000 < redis_client.pttl(store.key_name(KEY)) <= 60_000


def test_expired_expiry_still_checks_atomically(redis_client: redis.Redis, prefix: str) -> None:
    """Decision: an expiry at or before now is written with the minimum 1 ms, never skipped."""
    store = RedisNonceStore(redis_client, prefix=prefix)
    assert store.reserve(KEY, NOW + 60, NOW) is True
    assert store.reserve(KEY, NOW - 5, NOW) is False  # the live entry still counts
    other = b"\xff" * 16
    assert store.reserve(other, NOW - 5, NOW) is True
    time.sleep(0.005)
    assert redis_client.exists(prefix + other.hex()) == 0


@pytest.mark.parametrize("expiry", [float("nan"), float("inf")])
def test_non_finite_expiry_fails_closed(redis_client: redis.Redis, expiry: float) -> None:
    with pytest.raises(NonceStoreUnavailable):
        RedisNonceStore(redis_client).reserve(KEY, expiry, NOW)


def test_decode_responses_client(redis_server: RedisProcess, prefix: str) -> None:
    with redis.Redis(port=redis_server.port, decode_responses=True) as client:
        store = RedisNonceStore(client, prefix=prefix)
        assert store.reserve(KEY, NOW + 60, NOW) is True
        assert store.reserve(KEY, NOW + 60, NOW) is False


def test_configuration_errors(redis_client: redis.Redis) -> None:
    async_client = redis.asyncio.Redis()
    with pytest.raises(ConfigurationError, match="AsyncRedisNonceStore"):
        RedisNonceStore(async_client)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="RedisNonceStore"):
        AsyncRedisNonceStore(redis_client)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RedisNonceStore(redis_client, prefix=b"x")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RedisNonceStore(redis_client, fail_open=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RedisNonceStore(object())  # type: ignore[arg-type]
    assert repr(RedisNonceStore(redis_client, prefix="p:")) == (
        "RedisNonceStore(prefix='p:', fail_open=False)"
    )


def test_retried_set_whose_reply_was_lost_is_not_a_replay(
    redis_server: RedisProcess, prefix: str
) -> None:
    """The script lands, its reply is lost, redis-py retries: still the first acceptance."""
    proxy = ReplyDroppingProxy(redis_server.port)
    client = redis.Redis(port=proxy.port, socket_timeout=2, retry=Retry(NoBackoff(), 2))
    try:
        store = RedisNonceStore(client, prefix=prefix)
        assert store.reserve(KEY, NOW + 60, NOW, b"token") is True
        assert proxy.dropped == 1  # the first reply really was dropped
        assert store.reserve(KEY, NOW + 60, NOW) is False  # a later replay still is one
        # Control: a bare SET NX in the same situation would call the delivery a replay.
        proxy.armed = True
        bare = client.set(prefix + "bare", "x", nx=True, px=60_000)
        assert proxy.dropped == 2
        assert bare is None
    finally:
        client.close()
        proxy.close()


def test_forged_deliveries_never_write(redis_client: redis.Redis, prefix: str) -> None:
    verifier = quiet_verifier(RedisNonceStore(redis_client, prefix=prefix))
    before = redis_client.dbsize()
    for i in range(300):
        body, headers = signed(NOW, f"forged_{i}")
        headers["X-Signature"] = "f" * 64
        with pytest.raises(SignatureMismatch):
            verifier.verify(body, headers, now=NOW)
    assert redis_client.dbsize() == before
    assert list(redis_client.scan_iter(match=prefix + "*")) == []


def test_verifier_accepts_once_and_sets_window_expiry(
    redis_client: redis.Redis, prefix: str
) -> None:
    store = RedisNonceStore(redis_client, prefix=prefix)
    verifier = quiet_verifier(store, tolerance=TOLERANCE)
    future = NOW + TOLERANCE
    body, headers = signed(future, "msg_future")
    verified = verifier.verify(body, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW + TOLERANCE + 1)
    # A future-dated delivery's entry lives until timestamp + tolerance (+1 s verifier margin),
    # here 2 * tolerance + 1 from the injected now, not now + tolerance.
    pttl = redis_client.pttl(store.key_name(verified.replay_key))
    assert (2 * TOLERANCE) * 1000 < pttl <= (2 * TOLERANCE + 1) * 1000


def test_id_accepted_again_only_after_redis_expired_it(
    redis_client: redis.Redis, prefix: str
) -> None:
    """With a real TTL of 150 ms (injected clock near the end of the window)."""
    store = RedisNonceStore(redis_client, prefix=prefix)
    verifier = quiet_verifier(store, tolerance=TOLERANCE)
    body, headers = signed(NOW, "msg_expiry")
    # expires_at = NOW + TOLERANCE + 1; the verifier clock is 150 ms before it.
    now = NOW + TOLERANCE + 0.85
    with pytest.raises(Exception) as info:
        verifier.verify(body, headers, now=now)
    # 0.85 s after the window's last second: the time check refuses, nothing written.
    assert info.type.__name__ == "TimestampOutOfTolerance"
    now = NOW + TOLERANCE
    verified = verifier.verify(body, headers, now=now)
    redis_client.pexpire(store.key_name(verified.replay_key), 150)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=now)
    time.sleep(0.2)
    verifier.verify(body, headers, now=now)  # Redis forgot it: accepted again


def test_fail_open_accepts_with_a_loud_warning(
    fragile_redis: RedisProcess, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = fast_fail_client(fragile_redis.port)
    try:
        verifier = quiet_verifier(RedisNonceStore(client, prefix=prefix, fail_open=True))
        fragile_redis.kill()
        caplog.set_level(logging.WARNING, logger="hookseal")
        body, headers = signed(NOW, "msg_open")
        verifier.verify(body, headers, now=NOW)
        verifier.verify(body, headers, now=NOW)  # no protection while Redis is down
        warnings = [r for r in caplog.records if "FAIL OPEN" in r.getMessage()]
        assert len(warnings) == 2
        assert all(r.levelno == logging.WARNING and r.name == "hookseal" for r in warnings)
        assert "WITHOUT REPLAY PROTECTION" in warnings[0].getMessage()
    finally:
        client.close()


def test_redis_out_of_memory_is_nonce_store_full(fragile_redis: RedisProcess) -> None:
    client = fast_fail_client(fragile_redis.port, timeout=2)
    try:
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", "1")
        with pytest.raises(NonceStoreUnavailable) as info:
            RedisNonceStore(client).reserve(KEY, NOW + 60, NOW)
        assert info.value.reason == "nonce_store_full"
        assert info.value.status_code == 503
    finally:
        client.close()


def test_redis_cluster_sync(redis_cluster_node: RedisProcess, prefix: str) -> None:
    client = redis.cluster.RedisCluster(host="127.0.0.1", port=redis_cluster_node.port)
    try:
        store = RedisNonceStore(client, prefix=prefix)
        verifier = quiet_verifier(store)
        for i in range(20):  # ids spread over many slots
            body, headers = signed(NOW, f"cluster_{i}")
            verifier.verify(body, headers, now=NOW)
            with pytest.raises(ReplayedDelivery):
                verifier.verify(body, headers, now=NOW)
        slots = {client.keyslot(store.key_name(i.to_bytes(16, "big"))) for i in range(20)}
        assert len(slots) > 1
    finally:
        client.close()


@pytest.mark.asyncio
async def test_redis_cluster_async(redis_cluster_node: RedisProcess, prefix: str) -> None:
    client = redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=redis_cluster_node.port)
    try:
        verifier = quiet_verifier(AsyncRedisNonceStore(client, prefix=prefix))
        body, headers = signed(NOW, "cluster_async")
        await verifier.averify(body, headers, now=NOW)
        with pytest.raises(ReplayedDelivery):
            await verifier.averify(body, headers, now=NOW)
    finally:
        await client.aclose()


@pytest.mark.asyncio
async def test_async_store_through_averify(redis_server: RedisProcess, prefix: str) -> None:
    client = redis.asyncio.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=5)
    try:
        store = AsyncRedisNonceStore(client, prefix=prefix)
        verifier = quiet_verifier(store)
        body, headers = signed(NOW, "msg_async")
        verified = await verifier.averify(body, headers, now=NOW)
        with pytest.raises(ReplayedDelivery):
            await verifier.averify(body, headers, now=NOW)
        assert await client.exists(store.key_name(verified.replay_key)) == 1
        forged = dict(headers, **{"X-Signature": "0" * 64, "X-Id": "forged"})
        with pytest.raises(SignatureMismatch):
            await verifier.averify(body, forged, now=NOW)
        assert [k async for k in client.scan_iter(match=prefix + "*")] == [
            store.key_name(verified.replay_key).encode()
        ]
    finally:
        await client.aclose()


def test_unexpected_reply_to_the_script_fails_closed(
    redis_server: RedisProcess, prefix: str
) -> None:
    class Odd:  # a client whose script replies are neither 0 nor 1
        def evalsha(self, *args: Any) -> Any:
            return b"odd"

        def eval(self, *args: Any) -> Any:
            return b"odd"

    with pytest.raises(NonceStoreUnavailable, match="unexpected reply \\(bytes\\)"):
        RedisNonceStore(Odd(), prefix=prefix).reserve(KEY, NOW + 60, NOW)  # type: ignore[arg-type]


def test_a_pipeline_given_as_the_client_is_refused_at_construction(
    redis_server: RedisProcess,
) -> None:
    """A pipeline only queues the SET, so it could never answer: refuse it up front."""
    with redis.Redis(port=redis_server.port) as client:
        with pytest.raises(ConfigurationError, match="pipeline"):
            RedisNonceStore(client.pipeline())
        cluster = redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=redis_server.port)
        with pytest.raises(ConfigurationError, match="pipeline"):
            RedisNonceStore(cluster.pipeline())  # type: ignore[arg-type]

    async def run() -> None:
        async with redis.asyncio.Redis(port=redis_server.port) as client:
            with pytest.raises(ConfigurationError, match="pipeline"):
                AsyncRedisNonceStore(client.pipeline())

    asyncio.run(run())


def test_sync_store_given_an_async_client_it_cannot_recognise_fails_closed(
    redis_server: RedisProcess, prefix: str
) -> None:
    """Awaitable replies are refused, and a coroutine is closed: no 'never awaited' warning."""

    class ThirdPartyAsyncClient:  # any async client that is not redis-py's, over a real one
        def __init__(self) -> None:
            self.inner = redis.asyncio.Redis(port=redis_server.port)

        def evalsha(self, *args: Any) -> Any:
            return self.inner.evalsha(*args)

        def eval(self, *args: Any) -> Any:
            return self.inner.eval(*args)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(NonceStoreUnavailable, match="coroutine"):
            RedisNonceStore(ThirdPartyAsyncClient(), prefix=prefix).reserve(KEY, NOW + 60, NOW)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
    with redis.Redis(port=redis_server.port) as direct:
        assert direct.exists(prefix + KEY.hex()) == 0  # the script never ran


def test_async_store_given_a_sync_client_it_cannot_recognise_fails_closed(
    redis_server: RedisProcess, prefix: str
) -> None:
    class ThirdPartySyncClient:  # any sync client that is not redis-py's, over a real one
        def __init__(self) -> None:
            self.inner = redis.Redis(port=redis_server.port)

        def evalsha(self, *args: Any) -> Any:
            return self.inner.evalsha(*args)

        def eval(self, *args: Any) -> Any:
            return self.inner.eval(*args)

    store = AsyncRedisNonceStore(ThirdPartySyncClient(), prefix=prefix)
    with pytest.raises(NonceStoreUnavailable, match="unexpected reply \\(int\\)"):
        asyncio.run(store.areserve(KEY, NOW + 60, NOW))
