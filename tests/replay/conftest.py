"""Fixtures for the replay tests: real redis-server processes on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import redis
    from redis_support import RedisProcess

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """One redis-server for the session (``--save '' --appendonly no``), stopped afterwards."""
    from redis_support import RedisProcess

    server = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def fragile_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of the test's own, for killing and pausing."""
    from redis_support import RedisProcess

    server = RedisProcess(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """A one-node Redis Cluster owning all 16384 slots."""
    import redis
    from redis_support import RedisProcess, free_port

    server = RedisProcess(
        tmp_path_factory.mktemp("redis-cluster"),
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        # The bus port would default to port + 10000, which may be taken or above 65535.
        "--cluster-port", str(free_port()),
        # A node that owned no slots waits min(node timeout, 5 s) before it reports "ok".
        "--cluster-node-timeout", "500",
    ).start()  # fmt: skip
    with redis.Redis(host="127.0.0.1", port=server.port) as admin:
        admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        deadline = time.monotonic() + 10
        while b"cluster_state:ok" not in admin.execute_command("CLUSTER", "INFO"):
            assert time.monotonic() < deadline, "the cluster did not become ready"
            time.sleep(0.05)
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisProcess) -> Iterator[redis.Redis]:
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def prefix() -> str:
    """A key prefix of the test's own (one per endpoint, as in production)."""
    return f"hookseal-test:{next(_prefixes)}:{time.monotonic_ns()}:"
