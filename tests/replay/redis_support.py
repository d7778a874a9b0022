"""Helpers for the Redis replay tests: a real redis-server process, a reply-dropping proxy
and the worker for the multiprocessing (spawn) test, which the child processes import.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from replay_support import quiet_verifier

from hookseal import ReplayedDelivery

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
INSTALL_HINT = "install Redis 7+ (e.g. `apt-get install redis-server`) to run the Redis tests"


def require_redis_server(minimum: tuple[int, int] = (0, 0)) -> str:
    """The redis-server binary, or skip (fail when the ``CI`` variable is set) without it.

    ``minimum`` is the (major, minor) version the caller needs (7.0 for ``ADDSLOTSRANGE``).
    """
    binary = shutil.which("redis-server") or (
        REDIS_SERVER if os.access(REDIS_SERVER, os.X_OK) else None
    )
    problem = None
    if binary is None:
        problem = f"redis-server is not installed: {INSTALL_HINT}"
    elif minimum > (0, 0):
        version = redis_server_version(binary)
        if version < minimum:
            wanted = ".".join(map(str, minimum))
            problem = f"redis-server {version} is older than {wanted}: {INSTALL_HINT}"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{problem} (CI is set: the Redis tests must run there)")
        pytest.skip(problem)
    assert binary is not None
    return binary


def redis_server_version(binary: str) -> tuple[int, int]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    # "Redis server v=7.0.15 sha=..."
    major, minor = out.stdout.split("v=", 1)[1].split(".")[:2]
    return int(major), int(minor)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fast_fail_client(port: int, timeout: float = 0.25) -> redis.Redis:
    """A client that fails fast: short socket timeouts and no retries."""
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


class RedisProcess:
    """One real redis-server on 127.0.0.1, without persistence, that tests can break."""

    def __init__(self, workdir: Path, *extra: str) -> None:
        self.workdir = workdir
        self.extra = extra
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: BinaryIO | None = None

    def start(self) -> RedisProcess:
        binary = require_redis_server()
        if self.log is not None:
            self.log.close()
        self.log = (self.workdir / f"redis-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
                *self.extra,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1) as probe:
                    probe.ping()
                return self
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.workdir / f"redis-{self.port}.log").read_text(errors="replace")
                    raise RuntimeError(f"redis-server did not start:\n{log[-2000:]}") from None
                time.sleep(0.01)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def client_pause(self, seconds: float, mode: str = "ALL") -> float:
        """``CLIENT PAUSE`` for ``seconds`` from a connection of its own; returns when it ends.

        The server stays up and accepts connections, but holds every command (``WRITE``:
        every write) unanswered. The pause ends by itself (``CLIENT UNPAUSE`` is held by
        the pause on this server), so the caller waits for the returned
        ``time.monotonic()`` deadline with :func:`wait_until` before using the server again.
        """
        with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5) as admin:
            admin.execute_command("CLIENT", "PAUSE", int(seconds * 1000), mode)
        return time.monotonic() + seconds

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def wait_until(deadline: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``deadline`` (plus a little slack)."""
    time.sleep(max(0.0, deadline - time.monotonic()) + 0.05)


def start_one_node_cluster(workdir: Path) -> RedisProcess:
    """A Redis Cluster of one node on 127.0.0.1 that owns all 16384 slots (Redis 7+)."""
    require_redis_server(minimum=(7, 0))  # CLUSTER ADDSLOTSRANGE
    server = RedisProcess(
        workdir,
        "--cluster-enabled", "yes",
        "--cluster-config-file", f"nodes-{free_port()}.conf",
        # The bus port would default to port + 10000, which may be taken or above 65535.
        "--cluster-port", str(free_port()),
        # A node that owned no slots waits min(node timeout, 5 s) before it reports "ok".
        "--cluster-node-timeout", "500",
    ).start()  # fmt: skip
    try:
        with redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=5) as admin:
            admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            deadline = time.monotonic() + 10
            while b"cluster_state:ok" not in admin.execute_command("CLUSTER", "INFO"):
                assert time.monotonic() < deadline, "the cluster did not become ready"
                time.sleep(0.05)
    except BaseException:
        server.stop()
        raise
    return server


class ReplyDroppingProxy:
    """A TCP proxy to Redis that forwards the first SET but drops its reply and hangs up.

    Reproduces "the command landed, the reply was lost": the client sees a ConnectionError
    and, when configured to retry, sends the same SET again.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = int(self.listener.getsockname()[1])
        self.closed = False
        self.armed = True
        self.dropped = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._sockets += [client, upstream]
            state = {"drop": False}
            threading.Thread(
                target=self._pump, args=(client, upstream, self._watch(state)), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, self._drop(state, client)), daemon=True
            ).start()

    def _watch(self, state: dict[str, bool]) -> Callable[[bytes], bool]:
        def inspect(data: bytes) -> bool:
            # The store's reservation (EVALSHA, or EVAL the first time) or a bare SET.
            if self.armed and any(
                command in data for command in (b"\r\nSET\r\n", b"\r\nEVALSHA\r\n", b"\r\nEVAL\r\n")
            ):
                self.armed = False
                state["drop"] = True
            return True

        return inspect

    def _drop(self, state: dict[str, bool], client: socket.socket) -> Callable[[bytes], bool]:
        def inspect(data: bytes) -> bool:
            if state["drop"]:
                self.dropped += 1
                client.shutdown(socket.SHUT_RDWR)
                return False
            return True

        return inspect

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, forward: Callable[[bytes], bool]) -> None:
        try:
            while data := src.recv(65536):
                if not forward(data):
                    return
                dst.sendall(data)
        except OSError:
            return

    def close(self) -> None:
        self.closed = True
        self._thread.join(5)
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def process_worker(
    port: int,
    prefix: str,
    body: bytes,
    headers: dict[str, str],
    now: float,
    count: int,
    barrier: Any,
    results: Any,
) -> None:
    """Spawned worker: submit one delivery ``count`` times through its own verifier."""
    from hookseal.stores.redis import RedisNonceStore

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    verifier = quiet_verifier(RedisNonceStore(client, prefix=prefix))
    accepted = replayed = other = 0
    barrier.wait(30)
    for _ in range(count):
        try:
            verifier.verify(body, headers, now=now)
            accepted += 1
        except ReplayedDelivery:
            replayed += 1
        except Exception:
            other += 1
    client.close()
    results.put((os.getpid(), accepted, replayed, other))
