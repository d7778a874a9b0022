"""How long a hung Redis can hold a delivery: ``from_url``'s bound, on real redis-servers.

The servers are held with ``CLIENT PAUSE <ms> ALL`` (every command waits, connections are
still accepted) or ``CLIENT PAUSE <ms> WRITE`` (only writes wait, so a cluster's topology
refresh still answers and redis-py's cluster retries go round) from a second connection.

Timings are normally not asserted in this project. Here the wait is the subject: the docs
promise ``timeout x (1 + retries)`` per store call (twice that on a cluster with one node
hung), so each test asserts an upper bound of ``MARGIN`` times the promise, wide enough for
a loaded 2-core machine, and far below what redis-py's default retries cost (measured on
this machine with ``socket_timeout=0.5``: 10.0 s standalone, 5.6 s cluster).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException
from redis.retry import Retry
from redis_support import (
    RedisProcess,
    fast_fail_client,
    require_redis_server,
    start_one_node_cluster,
    wait_until,
)
from replay_support import quiet_verifier, signed

from hookseal import (
    ConfigurationError,
    NonceStoreUnavailable,
    ReplayedDelivery,
    Verified,
    Verifier,
)
from hookseal.stores.redis import AsyncRedisNonceStore, RedisNonceStore

pytestmark = [pytest.mark.extras, pytest.mark.redis]

NOW = 1_700_000_000
TIMEOUT = 0.5  # from_url's default, the value the docs quote
MARGIN = 3  # the asserted bound is MARGIN x the documented one (see the module docstring)
DOCS = Path(__file__).resolve().parents[2] / "docs"


def promised(retries: int, *, cluster: bool = False) -> float:
    """The documented worst case per store call while Redis (one node) hangs."""
    return (2 if cluster else 1) * TIMEOUT * (1 + retries)


def pause_for(bound: float) -> float:
    """How long to pause the server: past the asserted bound, so a wait that overruns it
    meets a server that answers (and the refusal the test expects does not come).
    """
    return bound + 0.5


@pytest.fixture
def fragile_cluster(tmp_path: Path) -> Iterator[RedisProcess]:
    """A one-node Redis Cluster of the test's own, for pausing and killing."""
    server = start_one_node_cluster(tmp_path)
    yield server
    server.stop()


def timed_refusal(verifier: Verifier, msg_id: str) -> tuple[float, NonceStoreUnavailable]:
    body, headers = signed(NOW, msg_id)
    started = time.monotonic()
    with pytest.raises(NonceStoreUnavailable) as info:
        verifier.verify(body, headers, now=NOW)
    return time.monotonic() - started, info.value


async def atimed_refusal(verifier: Verifier, msg_id: str) -> tuple[float, NonceStoreUnavailable]:
    body, headers = signed(NOW, msg_id)
    started = time.monotonic()
    with pytest.raises(NonceStoreUnavailable) as info:
        await verifier.averify(body, headers, now=NOW)
    return time.monotonic() - started, info.value


def accepted_then_replayed(verifier: Verifier, msg_id: str) -> None:
    body, headers = signed(NOW, msg_id)
    assert isinstance(verifier.verify(body, headers, now=NOW), Verified)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)


async def aaccepted_then_replayed(verifier: Verifier, msg_id: str) -> None:
    body, headers = signed(NOW, msg_id)
    assert isinstance(await verifier.averify(body, headers, now=NOW), Verified)
    with pytest.raises(ReplayedDelivery):
        await verifier.averify(body, headers, now=NOW)


# --- standalone Redis ----------------------------------------------------------------------


@pytest.mark.parametrize("retries", [0, 1])
def test_from_url_refuses_within_the_documented_bound_while_redis_is_paused(
    fragile_redis: RedisProcess, prefix: str, retries: int
) -> None:
    store = RedisNonceStore.from_url(fragile_redis.url(), retries=retries, prefix=prefix)
    verifier = quiet_verifier(store)
    try:
        accepted_then_replayed(verifier, "before_pause")  # the pool holds a connection now
        bound = MARGIN * promised(retries)
        paused_until = fragile_redis.client_pause(pause_for(bound))
        elapsed, exc = timed_refusal(verifier, "during_pause")
        assert exc.status_code == 503
        assert exc.reason == "nonce_store_unavailable"
        assert "TimeoutError" in str(exc)
        # Upper bound: the point of from_url (redis-py's default retries: 10.0 s).
        assert elapsed <= bound
        # Lower bound (a socket timeout never fires early): every attempt really waited,
        # so the bound above is not met by skipping the retries.
        assert elapsed >= 0.9 * promised(retries)
        wait_until(paused_until)
        accepted_then_replayed(verifier, "after_pause")
    finally:
        store.client.close()


def test_from_url_bound_holds_when_the_first_connection_meets_a_paused_redis(
    fragile_redis: RedisProcess, prefix: str
) -> None:
    # No pooled connection yet: the attempt connects (the kernel accepts) and then waits
    # for the handshake's reply, which the pause holds.
    bound = MARGIN * promised(0)
    fragile_redis.client_pause(pause_for(bound))
    store = RedisNonceStore.from_url(fragile_redis.url(), prefix=prefix)
    try:
        elapsed, exc = timed_refusal(quiet_verifier(store), "first_contact")
        assert exc.reason == "nonce_store_unavailable"
        assert elapsed <= bound
    finally:
        store.client.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("retries", [0, 1])
async def test_async_from_url_refuses_within_the_documented_bound_while_redis_is_paused(
    fragile_redis: RedisProcess, prefix: str, retries: int
) -> None:
    store = AsyncRedisNonceStore.from_url(fragile_redis.url(), retries=retries, prefix=prefix)
    verifier = quiet_verifier(store)
    try:
        await aaccepted_then_replayed(verifier, "async_before_pause")
        bound = MARGIN * promised(retries)
        paused_until = fragile_redis.client_pause(pause_for(bound))
        elapsed, exc = await atimed_refusal(verifier, "async_during_pause")
        assert exc.reason == "nonce_store_unavailable"
        assert elapsed <= bound
        assert elapsed >= 0.9 * promised(retries)
        await asyncio.to_thread(wait_until, paused_until)
        await aaccepted_then_replayed(verifier, "async_after_pause")
    finally:
        await store.client.aclose()


def test_from_url_passes_other_client_options_on(redis_server: RedisProcess, prefix: str) -> None:
    store = RedisNonceStore.from_url(
        redis_server.url(), prefix=prefix, decode_responses=True, client_name="hookseal-test"
    )
    try:
        accepted_then_replayed(quiet_verifier(store), "with_options")
        assert store.client.client_getname() == "hookseal-test"
    finally:
        store.client.close()


# --- Redis Cluster -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["WRITE", "ALL"])
def test_cluster_from_url_refuses_within_the_documented_bound_while_paused(
    fragile_cluster: RedisProcess, prefix: str, mode: str
) -> None:
    # WRITE: the SET waits but the topology refresh answers, so redis-py's default cluster
    # retries (10) go round: 5.6 s measured. ALL: the refresh waits too, and redis-py
    # raises RedisClusterException, which is not a RedisError.
    store = RedisNonceStore.from_url(fragile_cluster.url(), cluster=True, prefix=prefix)
    assert isinstance(store.client, redis.cluster.RedisCluster)
    verifier = quiet_verifier(store)
    try:
        accepted_then_replayed(verifier, f"cluster_before_{mode}")
        bound = MARGIN * promised(0, cluster=True)
        paused_until = fragile_cluster.client_pause(pause_for(bound), mode)
        elapsed, exc = timed_refusal(verifier, f"cluster_during_{mode}")
        assert exc.status_code == 503
        assert exc.reason == "nonce_store_unavailable"
        assert elapsed <= bound
        wait_until(paused_until)
        accepted_then_replayed(verifier, f"cluster_after_{mode}")
    finally:
        store.client.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", ["WRITE", "ALL"])
async def test_async_cluster_from_url_refuses_within_the_documented_bound_while_paused(
    fragile_cluster: RedisProcess, prefix: str, mode: str
) -> None:
    store = AsyncRedisNonceStore.from_url(fragile_cluster.url(), cluster=True, prefix=prefix)
    assert isinstance(store.client, redis.asyncio.cluster.RedisCluster)
    verifier = quiet_verifier(store)
    try:
        await aaccepted_then_replayed(verifier, f"acluster_before_{mode}")
        bound = MARGIN * promised(0, cluster=True)
        paused_until = fragile_cluster.client_pause(pause_for(bound), mode)
        elapsed, exc = await atimed_refusal(verifier, f"acluster_during_{mode}")
        assert exc.reason == "nonce_store_unavailable"
        assert elapsed <= bound
        await asyncio.to_thread(wait_until, paused_until)
        await aaccepted_then_replayed(verifier, f"acluster_after_{mode}")
    finally:
        await store.client.aclose()


def _bounded_cluster_client(port: int) -> redis.cluster.RedisCluster:
    return redis.cluster.RedisCluster(
        host="127.0.0.1",
        port=port,
        socket_timeout=0.25,
        socket_connect_timeout=0.25,
        retry=Retry(NoBackoff(), 0),
    )


def test_cluster_killed_is_the_stores_own_refusal_and_fail_open_covers_it(
    fragile_cluster: RedisProcess, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    # redis-py reports "Redis Cluster cannot be connected" as RedisClusterException, which
    # is not a RedisError: the store let it escape (the verifier's catch-all then refused
    # with a generic message) and fail_open=True did not apply to it.
    client = _bounded_cluster_client(fragile_cluster.port)
    closed = RedisNonceStore(client, prefix=prefix)
    opened = RedisNonceStore(client, prefix=prefix, fail_open=True)
    try:
        accepted_then_replayed(quiet_verifier(closed), "cluster_before_kill")
        fragile_cluster.kill()
        for i in range(3):  # the failed command, then the attempts that follow
            with pytest.raises(NonceStoreUnavailable, match="Redis replay store failed") as info:
                closed.reserve(bytes([i]) * 16, NOW + 60, NOW)
            assert isinstance(info.value.__cause__, (redis.RedisError, RedisClusterException))
            _, exc = timed_refusal(quiet_verifier(closed), f"cluster_killed_{i}")
            assert exc.reason == "nonce_store_unavailable"
        with pytest.raises(NonceStoreUnavailable, match="could not release"):
            closed.release(bytes(16), b"token", 3)
        caplog.set_level(logging.WARNING, logger="hookseal")
        assert opened.reserve(bytes(16), NOW + 60, NOW) is True
        assert "FAIL OPEN" in caplog.text
    finally:
        client.close()


def test_cluster_without_slots_is_the_stores_own_refusal(
    fragile_cluster: RedisProcess, prefix: str
) -> None:
    # CLUSTERDOWN, then "All slots are not covered" (RedisClusterException) from the
    # topology refresh.
    client = _bounded_cluster_client(fragile_cluster.port)
    store = RedisNonceStore(client, prefix=prefix)
    try:
        accepted_then_replayed(quiet_verifier(store), "cluster_before_delslots")
        with redis.Redis(host="127.0.0.1", port=fragile_cluster.port) as admin:
            admin.execute_command("CLUSTER", "DELSLOTSRANGE", 0, 16383)
        with pytest.raises(NonceStoreUnavailable, match="Redis replay store failed"):
            store.reserve(bytes(16), NOW + 60, NOW)
    finally:
        client.close()


@pytest.mark.asyncio
async def test_async_cluster_killed_is_the_stores_own_refusal(
    fragile_cluster: RedisProcess, prefix: str
) -> None:
    client = redis.asyncio.cluster.RedisCluster(
        host="127.0.0.1", port=fragile_cluster.port, socket_timeout=0.25
    )
    store = AsyncRedisNonceStore(client, prefix=prefix)
    try:
        await aaccepted_then_replayed(quiet_verifier(store), "acluster_before_kill")
        fragile_cluster.kill()
        for i in range(3):
            with pytest.raises(NonceStoreUnavailable, match="Redis replay store failed"):
                await store.areserve(bytes([i]) * 16, NOW + 60, NOW)
    finally:
        await client.aclose()


# --- a client of the user's own: one WARNING at construction -------------------------------


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "hookseal" and record.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    ("make_client", "problem"),
    [
        # The old docs' snippet: a 0.5 s timeout, but redis-py's 10 retries with backoff.
        (lambda port: redis.Redis(port=port, socket_timeout=0.5), "10 retries"),
        (
            lambda port: redis.Redis(port=port, socket_timeout=None, retry=Retry(NoBackoff(), 0)),
            "no socket_timeout",
        ),
        (lambda port: redis.Redis.from_url(f"redis://127.0.0.1:{port}"), "no socket_timeout"),
        (
            lambda port: redis.Redis(
                port=port, socket_timeout=0.5, socket_connect_timeout=None, retry=None
            ),
            "no socket_connect_timeout",
        ),
    ],
    ids=["default-retries", "no-timeout", "redis-from-url", "no-connect-timeout"],
)
def test_store_warns_once_at_construction_about_an_unbounded_client(
    redis_server: RedisProcess,
    prefix: str,
    caplog: pytest.LogCaptureFixture,
    make_client: Any,
    problem: str,
) -> None:
    client = make_client(redis_server.port)
    caplog.set_level(logging.WARNING, logger="hookseal")
    try:
        store = RedisNonceStore(client, prefix=prefix)
        (message,) = _warnings(caplog)
        assert problem in message
        assert "RedisNonceStore.from_url(url, timeout=0.5)" in message
        accepted_then_replayed(quiet_verifier(store), "warned_once")
        assert len(_warnings(caplog)) == 1  # at construction only, never per delivery
    finally:
        client.close()


def test_async_store_warns_about_redis_py_default_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hookseal")
    AsyncRedisNonceStore(redis.asyncio.Redis(socket_timeout=0.5))
    (message,) = _warnings(caplog)
    assert "10 retries" in message
    assert "AsyncRedisNonceStore.from_url" in message


def test_store_warns_about_a_cluster_client_with_default_retries(
    redis_cluster_node: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis.cluster.RedisCluster(host="127.0.0.1", port=redis_cluster_node.port)
    caplog.set_level(logging.WARNING, logger="hookseal")
    try:
        RedisNonceStore(client)
        (message,) = _warnings(caplog)
        assert "10 retries" in message
    finally:
        client.close()


@pytest.mark.asyncio
async def test_bounded_clients_and_from_url_stores_do_not_warn(
    redis_server: RedisProcess, redis_cluster_node: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hookseal")
    sync_clients: list[Any] = [
        fast_fail_client(redis_server.port),
        redis.Redis(port=redis_server.port, socket_timeout=1, retry=Retry(NoBackoff(), 1)),
        RedisNonceStore.from_url(redis_server.url()).client,
        RedisNonceStore.from_url(redis_server.url(), retries=3).client,
        RedisNonceStore.from_url(redis_cluster_node.url(), cluster=True).client,
    ]
    async_clients: list[Any] = [
        AsyncRedisNonceStore.from_url(redis_server.url()).client,
        AsyncRedisNonceStore.from_url(redis_cluster_node.url(), cluster=True).client,
    ]
    try:
        for client in sync_clients[:2]:
            RedisNonceStore(client)
        for client in async_clients:
            AsyncRedisNonceStore(client)
        assert _warnings(caplog) == []
    finally:
        for client in sync_clients:
            client.close()
        for client in async_clients:
            await client.aclose()


# --- from_url's configuration --------------------------------------------------------------

STORES = [RedisNonceStore, AsyncRedisNonceStore]


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("timeout", [0, -0.5, float("nan"), float("inf"), True, "0.5", None])
def test_from_url_rejects_a_timeout_that_bounds_nothing(store: Any, timeout: object) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        store.from_url("redis://127.0.0.1:1", timeout=timeout)


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("retries", [-1, True, 1.5, "1", None])
def test_from_url_rejects_bad_retries(store: Any, retries: object) -> None:
    with pytest.raises(ConfigurationError, match="retries"):
        store.from_url("redis://127.0.0.1:1", retries=retries)


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize(
    "option",
    [
        {"socket_timeout": 5},
        {"socket_connect_timeout": 5},
        {"retry": Retry(NoBackoff(), 10)},
        {"retry_on_timeout": True},
        {"cluster_error_retry_attempts": 10},
    ],
    ids=lambda option: next(iter(option)),
)
def test_from_url_refuses_wait_settings_that_would_undo_the_bound(
    store: Any, option: dict[str, object]
) -> None:
    with pytest.raises(ConfigurationError, match="timeout= and retries="):
        store.from_url("redis://127.0.0.1:1", **option)


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize(
    "query",
    [
        "socket_timeout=30",
        "socket_connect_timeout=30",
        "socket_timeout=0.5&socket_connect_timeout=9",
    ],
)
def test_from_url_refuses_a_query_string_that_overrides_the_bound(store: Any, query: str) -> None:
    # redis-py lets the URL's query string win over keyword arguments.
    with pytest.raises(ConfigurationError, match="query string"):
        store.from_url(f"redis://127.0.0.1:1/0?{query}")


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "redis://:s3cret-pw@host:notaport"])
def test_from_url_rejects_an_unusable_url_without_echoing_it(store: Any, url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        store.from_url(url)
    assert "s3cret" not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


@pytest.mark.parametrize("store", STORES)
def test_from_url_rejects_a_non_bool_cluster_flag_and_a_non_str_url(store: Any) -> None:
    with pytest.raises(ConfigurationError, match="cluster"):
        store.from_url("redis://127.0.0.1:1", cluster="yes")
    with pytest.raises(ConfigurationError, match="url"):
        store.from_url(b"redis://127.0.0.1:1")


def test_from_url_builds_the_bounded_client_it_documents() -> None:
    store = RedisNonceStore.from_url("redis://127.0.0.1:1", timeout=0.25, retries=1)
    kwargs = store.client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.25, 0.25)
    assert kwargs["retry"].get_retries() == 1
    astore = AsyncRedisNonceStore.from_url("redis://127.0.0.1:1", prefix="p:", fail_open=True)
    kwargs = astore.client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (TIMEOUT, TIMEOUT)
    assert kwargs["retry"].get_retries() == 0
    assert (astore.prefix, astore.fail_open) == ("p:", True)


# --- the docs' snippets --------------------------------------------------------------------


@pytest.mark.parametrize("page", ["deployment.md", "replay.md"])
def test_docs_redis_snippets_build_the_bounded_store_they_describe(page: str) -> None:
    text = (DOCS / page).read_text()
    snippets = [
        block
        for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
        if "RedisNonceStore.from_url" in block
    ]
    assert snippets, f"docs/{page} has no RedisNonceStore.from_url snippet"
    assert "0.5 s" in text  # the page states the bound it promises
    for snippet in snippets:
        code = compile(snippet, f"docs/{page}", "exec")
        if "cluster=True" in snippet:
            continue  # the cluster client connects when built: compiled, not run
        namespace: dict[str, Any] = {"secret": "It's a Secret to Everybody"}
        exec(code, namespace)
        store = namespace["store"]
        assert isinstance(store, RedisNonceStore)
        kwargs = store.client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == TIMEOUT
        assert kwargs["retry"].get_retries() == 0
        store.client.close()


# --- the suite's own rule: skip locally without redis-server, fail under CI ----------------


@pytest.mark.parametrize(
    ("ci", "outcome"), [(None, pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_missing_redis_server_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
) -> None:
    import redis_support

    monkeypatch.setattr(redis_support.shutil, "which", lambda name: None)
    monkeypatch.setattr(redis_support, "REDIS_SERVER", "/nonexistent/redis-server")
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="install Redis 7"):
        require_redis_server()
