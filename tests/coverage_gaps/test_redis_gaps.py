"""Redis store paths the replay tests leave unexercised, against a real redis-server.

Older servers are reproduced by a RESP proxy in front of the real server: it forwards every
command except the ones it is told to answer itself, e.g. ``SET ... NX ... GET`` with
``-ERR syntax error``, which is what Redis 6.2 (NX and GET exclusive) and Redis < 6.2 (no GET
option) reply: https://redis.io/docs/latest/commands/set/ ("Starting with Redis version 7.0.0:
Allowed the NX and GET options to be used together").
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import shutil
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster

from hookseal import ConfigurationError, NonceStoreUnavailable
from hookseal.stores.redis import AsyncRedisNonceStore, RedisNonceStore

pytestmark = [pytest.mark.extras, pytest.mark.redis]

NOW = 1_700_000_000
KEY = bytes(range(16))
SYNTAX_ERROR = b"-ERR syntax error\r\n"
Answer = Callable[[list[bytes]], "bytes | None"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis-gaps")
    process = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(port=port, socket_timeout=1) as probe:
                    probe.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.01)
        yield port
    finally:
        process.terminate()
        process.wait(5)


def _read_reply(stream: BinaryIO) -> bytes:
    """One complete RESP2 or RESP3 value (redis-py 5+ may speak RESP3), raw."""
    line = stream.readline()
    if not line:
        raise EOFError
    kind = line[:1]
    if kind in b"$=!":  # bulk string, verbatim string, bulk error
        size = int(line[1:-2])
        return line if size < 0 else line + stream.read(size + 2)
    if kind in b"*~>%":  # array, set, push, map (two values per entry)
        raw = line
        count = max(int(line[1:-2]), 0) * (2 if kind == b"%" else 1)
        for _ in range(count):
            raw += _read_reply(stream)
        return raw
    return line


def _read_command(stream: BinaryIO) -> tuple[bytes, list[bytes]]:
    """One client command (an array of bulk strings): raw bytes and arguments."""
    header = stream.readline()
    if not header:
        raise EOFError
    raw, args = header, []
    for _ in range(int(header[1:-2])):
        size_line = stream.readline()
        data = stream.read(int(size_line[1:-2]) + 2)
        raw += size_line + data
        args.append(data[:-2])
    return raw, args


class OldServerProxy:
    """Forwards each command to the real server, except those ``answer`` replies to itself."""

    def __init__(self, upstream_port: int, answer: Answer) -> None:
        self.upstream_port = upstream_port
        self.answer = answer
        self.answered = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._serve, args=(client, upstream), daemon=True).start()

    def _serve(self, client: socket.socket, upstream: socket.socket) -> None:
        from_client, from_upstream = client.makefile("rb"), upstream.makefile("rb")
        with contextlib.suppress(OSError, EOFError, ValueError):
            while True:
                raw, args = _read_command(from_client)
                canned = self.answer(args)
                if canned is not None:
                    self.answered += 1
                    client.sendall(canned)
                    continue
                upstream.sendall(raw)
                client.sendall(_read_reply(from_upstream))

    def close(self) -> None:
        self.listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _is_set_with(args: list[bytes], *options: bytes) -> bool:
    upper = [arg.upper() for arg in args]
    return bool(upper) and upper[0] == b"SET" and all(option in upper[3:] for option in options)


def redis_6(args: list[bytes]) -> bytes | None:
    """A server before 7.0: SET with both NX and GET is a syntax error."""
    return SYNTAX_ERROR if _is_set_with(args, b"NX", b"GET") else None


def redis_6_answering_set_with_an_integer(args: list[bytes]) -> bytes | None:
    """A non-conforming server: also answers the plain SET NX with an integer, not OK/nil."""
    if _is_set_with(args, b"NX", b"GET"):
        return SYNTAX_ERROR
    return b":1\r\n" if _is_set_with(args, b"NX") else None


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    return f"hookseal-gaps:{request.node.name}:{time.monotonic_ns()}:"


@contextlib.contextmanager
def proxied(server_port: int, answer: Answer) -> Iterator[OldServerProxy]:
    proxy = OldServerProxy(server_port, answer)
    try:
        yield proxy
    finally:
        proxy.close()


def test_sync_store_switches_once_to_set_nx_then_get_on_an_old_server(
    server_port: int, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    with proxied(server_port, redis_6) as proxy, redis.Redis(port=proxy.port) as client:
        store = RedisNonceStore(client, prefix=prefix)
        with caplog.at_level(logging.INFO, logger="hookseal"):
            assert store.reserve(KEY, NOW + 60, NOW) is True
            assert store.reserve(KEY, NOW + 60, NOW) is False  # a replay is still one
            assert store.reserve(b"\x01" * 16, NOW + 60, NOW) is True
        assert proxy.answered == 1  # SET NX GET was tried once, then never again
        assert [r.message for r in caplog.records].count(
            "hookseal: this Redis server does not accept SET NX GET (Redis < 7.0); the nonce "
            "store now uses SET NX and reads the entry back only when one exists."
        ) == 1
    with redis.Redis(port=server_port) as direct:
        assert 59_000 < direct.pttl(prefix + KEY.hex()) <= 60_000


def test_async_store_switches_once_to_set_nx_then_get_on_an_old_server(
    server_port: int, prefix: str
) -> None:
    async def run() -> list[bool]:
        async with redis.asyncio.Redis(port=proxy.port) as client:
            store = AsyncRedisNonceStore(client, prefix=prefix)
            return [
                await store.areserve(KEY, NOW + 60, NOW),
                await store.areserve(KEY, NOW + 60, NOW),
                await store.areserve(b"\x02" * 16, NOW + 60, NOW),
            ]

    with proxied(server_port, redis_6) as proxy:
        assert asyncio.run(run()) == [True, False, True]
        assert proxy.answered == 1


def test_unexpected_reply_to_set_nx_fails_closed(server_port: int, prefix: str) -> None:
    with proxied(server_port, redis_6_answering_set_with_an_integer) as proxy:
        with (
            redis.Redis(port=proxy.port) as client,
            pytest.raises(NonceStoreUnavailable, match="unexpected reply \\(bool\\)"),
        ):
            RedisNonceStore(client, prefix=prefix).reserve(KEY, NOW + 60, NOW)

        async def run() -> None:
            async with redis.asyncio.Redis(port=proxy.port) as client:
                await AsyncRedisNonceStore(client, prefix=prefix).areserve(KEY, NOW + 60, NOW)

        with pytest.raises(NonceStoreUnavailable, match="unexpected reply"):
            asyncio.run(run())


def test_a_pipeline_given_as_the_client_is_refused_at_construction(server_port: int) -> None:
    """A pipeline only queues the SET, so it could never answer: refuse it up front."""
    with redis.Redis(port=server_port) as client:
        with pytest.raises(ConfigurationError, match="pipeline"):
            RedisNonceStore(client.pipeline())
        cluster = redis.asyncio.cluster.RedisCluster(host="127.0.0.1", port=server_port)
        with pytest.raises(ConfigurationError, match="pipeline"):
            RedisNonceStore(cluster.pipeline())  # type: ignore[arg-type]

    async def run() -> None:
        async with redis.asyncio.Redis(port=server_port) as client:
            with pytest.raises(ConfigurationError, match="pipeline"):
                AsyncRedisNonceStore(client.pipeline())

    asyncio.run(run())


def test_sync_store_given_an_async_client_it_cannot_recognise_fails_closed(
    server_port: int, prefix: str
) -> None:
    """Awaitable replies are refused, and a coroutine is closed: no 'never awaited' warning."""
    class ThirdPartyAsyncClient:  # any async client that is not redis-py's, over a real one
        def __init__(self) -> None:
            self.inner = redis.asyncio.Redis(port=server_port)

        def set(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner.set(*args, **kwargs)

        def get(self, name: str) -> Any:
            return self.inner.get(name)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(NonceStoreUnavailable, match="coroutine"):
            RedisNonceStore(ThirdPartyAsyncClient(), prefix=prefix).reserve(KEY, NOW + 60, NOW)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
    with redis.Redis(port=server_port) as direct:
        assert direct.exists(prefix + KEY.hex()) == 0  # the SET never ran


def test_async_store_given_a_sync_client_it_cannot_recognise_fails_closed(
    server_port: int, prefix: str
) -> None:
    class ThirdPartySyncClient:  # any sync client that is not redis-py's, over a real one
        def __init__(self) -> None:
            self.inner = redis.Redis(port=server_port)

        def set(self, *args: Any, **kwargs: Any) -> Any:
            return self.inner.set(*args, **kwargs)

        def get(self, name: str) -> Any:
            return self.inner.get(name)

    store = AsyncRedisNonceStore(ThirdPartySyncClient(), prefix=prefix)
    with pytest.raises(NonceStoreUnavailable, match="unexpected reply \\(NoneType\\)"):
        asyncio.run(store.areserve(KEY, NOW + 60, NOW))
