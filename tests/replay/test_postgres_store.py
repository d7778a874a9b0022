"""PostgresNonceStore / AsyncPostgresNonceStore against a real PostgreSQL on 127.0.0.1.

The suite starts its own throwaway cluster (tests/replay/postgres_support.py); without
PostgreSQL's binaries the tests skip with one line saying what to install, and fail when the
``CI`` variable is set.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from replay_support import body_only_scheme, quiet_verifier, signed

from hookseal import ConfigurationError, NonceStoreUnavailable, ReplayedDelivery
from hookseal.stores.base import AsyncNonceStore, NonceStore
from hookseal.testing import check_nonce_store

psycopg = pytest.importorskip("psycopg", reason="psycopg not installed: pip install psycopg")

from hookseal.stores.postgres import (  # noqa: E402 (after the importorskip)
    AsyncPostgresNonceStore,
    PostgresNonceStore,
    table_ddl,
)

if TYPE_CHECKING:
    from postgres_support import PostgresServer

pytestmark = [pytest.mark.extras]

NOW = 1_700_000_000.0
COPIES_PER_THREAD = 100
KEY = bytes(range(16))
T1 = b"\x01" * 16
T2 = b"\x02" * 16
T3 = b"\x03" * 16
_tables = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session, on 127.0.0.1 and a free port."""
    from postgres_support import PostgresServer

    server = PostgresServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def fragile_pg() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of the test's own, for stopping, restarting and freezing."""
    from postgres_support import PostgresServer

    server = PostgresServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def table() -> str:
    """A table of the test's own (one per endpoint, as in production)."""
    return f"nonces_{next(_tables)}_{os.getpid()}"


@pytest.fixture
def store(pg_server: PostgresServer, table: str) -> Iterator[PostgresNonceStore]:
    made = PostgresNonceStore(pg_server.conninfo, table=table)
    made.create_table()
    yield made
    made.close()


class Calls:
    """A sync store, or an async one run on its own loop, behind one synchronous face."""

    def __init__(self, conninfo: str, table: str, mode: str) -> None:
        self.mode = mode
        self.sync = PostgresNonceStore(conninfo, table=table)
        self.sync.create_table()
        self.loop = asyncio.new_event_loop()
        self.async_store = AsyncPostgresNonceStore(conninfo, table=table)

    def reserve(self, key: bytes, expires_at: float, now: float, token: bytes | None) -> bool:
        if self.mode == "sync":
            return self.sync.reserve(key, expires_at, now, token)
        return self.loop.run_until_complete(self.async_store.areserve(key, expires_at, now, token))

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        if self.mode == "sync":
            return self.sync.release(key, token, max_releases)
        return self.loop.run_until_complete(self.async_store.arelease(key, token, max_releases))

    def close(self) -> None:
        self.sync.close()
        self.loop.run_until_complete(self.async_store.aclose())
        self.loop.close()


@pytest.fixture(params=["sync", "async"])
def calls(request: pytest.FixtureRequest, pg_server: PostgresServer, table: str) -> Iterator[Calls]:
    made = Calls(pg_server.conninfo, table, request.param)
    yield made
    made.close()


def test_importing_hookseal_does_not_import_psycopg() -> None:
    code = (
        "import sys, hookseal, hookseal.stores, hookseal.stores.memory; "
        "from hookseal import Verifier; "
        "assert 'psycopg' not in sys.modules, sorted(m for m in sys.modules if 'psycopg' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_psycopg_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "try:\n"
        "    import hookseal.stores.postgres\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "install hookseal[postgres]" in out.stdout


def test_protocols(pg_server: PostgresServer) -> None:
    assert isinstance(PostgresNonceStore(pg_server.conninfo), NonceStore)
    assert isinstance(AsyncPostgresNonceStore(pg_server.conninfo), AsyncNonceStore)


# -- protocol v2 semantics, sync and async ---------------------------------------------------


def test_fresh_then_replay_live_through_expiry_inclusive(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 60, NOW, T1) is True
    assert calls.reserve(KEY, NOW + 60, NOW, T2) is False
    assert calls.reserve(KEY, NOW + 60, NOW + 60, T2) is False  # live while now <= expires_at
    assert calls.reserve(KEY, NOW + 200, NOW + 60.5, T2) is True  # expired: a new record
    assert calls.release(KEY, T1, 3) is False
    assert calls.release(KEY, T2, 3) is True


def test_release_is_a_compare_and_set_on_the_token(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 60, NOW, T1) is True
    assert calls.release(KEY, T2, 3) is False  # not ours
    assert calls.release(b"\x00" * 16, T1, 3) is False  # no such record
    assert calls.release(KEY, T1, 3) is True
    assert calls.release(KEY, T1, 3) is False  # already released
    assert calls.reserve(KEY, NOW + 30, NOW + 1, T2) is True  # re-admission
    assert calls.reserve(KEY, NOW + 30, NOW + 1, T3) is False
    assert calls.release(KEY, T1, 3) is False
    assert calls.release(KEY, T2, 3) is True


def test_release_bound_counts_in_the_store(calls: Calls) -> None:
    tokens = [bytes([i]) * 16 for i in range(1, 5)]
    for i, token in enumerate(tokens[:3]):
        assert calls.reserve(KEY, NOW + 60, NOW + i, token) is True
        assert calls.release(KEY, token, 2) is (i < 2)
    assert calls.reserve(KEY, NOW + 60, NOW + 5, tokens[3]) is False
    assert calls.release(KEY, tokens[2], 2) is False


def test_readmission_keeps_the_later_expiry_and_the_count(calls: Calls, table: str) -> None:
    assert calls.reserve(KEY, NOW + 100, NOW, T1) is True
    assert calls.release(KEY, T1, 5) is True
    assert calls.reserve(KEY, NOW + 10, NOW + 1, T2) is True  # earlier expiry given
    assert calls.reserve(KEY, NOW + 10, NOW + 99, T3) is False  # still live until NOW + 100
    with psycopg.connect(calls.sync._conninfo) as conn:
        rows = conn.execute(f"SELECT expires_at, releases, released, token FROM {table}").fetchall()
    assert rows == [(NOW + 100, 1, False, T2)]


def test_expired_record_starts_a_new_count(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 10, NOW, T1) is True
    assert calls.release(KEY, T1, 1) is True
    assert calls.reserve(KEY, NOW + 10, NOW + 1, T2) is True
    assert calls.release(KEY, T2, 1) is False
    assert calls.reserve(KEY, NOW + 100, NOW + 11, T3) is True
    assert calls.release(KEY, T3, 1) is True


def test_no_token_is_never_released(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 10, NOW, None) is True
    assert calls.release(KEY, b"", 3) is False
    assert calls.reserve(KEY, NOW + 10, NOW, None) is False


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_times_fail_closed(store: PostgresNonceStore, bad: float) -> None:
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(KEY, bad, NOW)
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(KEY, NOW + 1, bad)


# -- table, purge, configuration ---------------------------------------------------------------


def test_documented_ddl_is_what_the_store_uses(pg_server: PostgresServer, table: str) -> None:
    with psycopg.connect(pg_server.conninfo, autocommit=True) as conn:
        conn.execute(table_ddl(table))  # as a user's own migration would
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname = %s",
            (table, f"{table}_expires_at_idx"),
        ).fetchone()
    assert index is not None
    assert "(expires_at)" in index[0]
    store = PostgresNonceStore(pg_server.conninfo, table=table)
    store.create_table()  # idempotent on the table the DDL made
    assert store.reserve(KEY, NOW + 60, NOW, T1) is True
    assert store.release(KEY, T1, 1) is True
    store.close()


def test_create_table_from_several_processes_at_once(pg_server: PostgresServer, table: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        store = PostgresNonceStore(pg_server.conninfo, table=table)
        barrier.wait()
        try:
            store.create_table()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        store.close()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_missing_table_fails_closed_and_says_create_table(
    pg_server: PostgresServer, table: str
) -> None:
    store = PostgresNonceStore(pg_server.conninfo, table=table)
    with pytest.raises(NonceStoreUnavailable, match="create_table"):
        store.reserve(KEY, NOW + 60, NOW)
    store.create_table()
    assert store.reserve(KEY, NOW + 60, NOW) is True
    store.close()


def test_purge_is_bounded_and_spares_live_rows(pg_server: PostgresServer, table: str) -> None:
    store = PostgresNonceStore(pg_server.conninfo, table=table, purge_every=1)
    store.create_table()
    for i in range(250):
        store.reserve(i.to_bytes(16, "big"), NOW + 1, NOW)
    store.reserve(b"\xff" * 16, NOW + 100, NOW)
    # Every call so far purged, but nothing was expired yet.
    assert len(store) == 251
    store.reserve(b"\xfe" * 16, NOW + 100, NOW + 2)  # 250 expired now: at most 100 go
    assert len(store) == 252 - 100
    store.reserve(b"\xfd" * 16, NOW + 100, NOW + 2)
    store.reserve(b"\xfc" * 16, NOW + 100, NOW + 2)
    assert len(store) == 4
    assert store.reserve(b"\xff" * 16, NOW + 100, NOW + 3) is False
    store.close()


def test_configuration_errors(pg_server: PostgresServer) -> None:
    conninfo = pg_server.conninfo
    for table in ["Nonces", "a.b.c", "x; DROP TABLE y", "", "n" * 49, 3]:
        with pytest.raises(ConfigurationError):
            PostgresNonceStore(conninfo, table=table)  # type: ignore[arg-type]
    for kwargs in [
        {"timeout": 0},
        {"timeout": float("nan")},
        {"timeout": True},
        {"connect_timeout": 1},
        {"connect_timeout": 2.5},
        {"purge_every": 0},
    ]:
        with pytest.raises(ConfigurationError):
            PostgresNonceStore(conninfo, **kwargs)
        with pytest.raises(ConfigurationError):
            AsyncPostgresNonceStore(conninfo, **kwargs)
    with pytest.raises(ConfigurationError):
        PostgresNonceStore(b"host=x")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError) as info:
        PostgresNonceStore("host=x password='s3cr3t-pw")  # unterminated quote
    assert "s3cr3t-pw" not in str(info.value)
    store = PostgresNonceStore(f"{conninfo} password=s3cr3t-pw", table="webhooks.nonces")
    assert repr(store) == "PostgresNonceStore(table='webhooks.nonces', timeout=1)"
    assert table_ddl("webhooks.nonces").startswith(
        'CREATE TABLE IF NOT EXISTS "webhooks"."nonces" (\n'
    )
    assert table_ddl("user").startswith('CREATE TABLE IF NOT EXISTS "user" (\n')  # reserved


# -- exactly once --------------------------------------------------------------------------------


def test_32_threads_through_the_verifier_accept_exactly_once(
    store: PostgresNonceStore,
) -> None:
    verifier = quiet_verifier(store)
    body, headers = signed(int(NOW), "msg_threads")
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


def reserve_all(conninfo: str, table: str, keys: list[bytes], barrier: Any, results: Any) -> None:
    """Spawned worker: reserve every key once with a store of its own; report the winners."""
    store = PostgresNonceStore(conninfo, table=table, timeout=10)
    won: list[bytes] = []
    failed = 0
    barrier.wait(60)
    for key in keys:
        try:
            if store.reserve(key, NOW + 60, NOW, os.urandom(16)):
                won.append(key)
        except NonceStoreUnavailable:
            failed += 1
    store.close()
    results.put((os.getpid(), won, failed))


def test_4_processes_1000_identical_deliveries_exactly_once(
    store: PostgresNonceStore, pg_server: PostgresServer, table: str
) -> None:
    keys = [i.to_bytes(16, "big") for i in range(1000)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=reserve_all,
            # Each worker in its own (rotated) order, so they contend on every key.
            args=(pg_server.conninfo, table, keys[250 * i :] + keys[: 250 * i], barrier, results),
        )
        for i in range(4)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    results.close()
    results.join_thread()
    assert len({pid for pid, _, _ in outcomes}) == 4
    assert sum(failed for _, _, failed in outcomes) == 0
    won = [key for _, keys_won, _ in outcomes for key in keys_won]
    assert len(won) == 1000
    assert set(won) == set(keys)
    assert len(store) == 1000


@pytest.mark.asyncio
async def test_32_tasks_through_averify_accept_exactly_once(
    pg_server: PostgresServer, table: str
) -> None:
    store = AsyncPostgresNonceStore(pg_server.conninfo, table=table)
    await store.create_table()
    verifier = quiet_verifier(store)
    body, headers = signed(int(NOW), "msg_tasks")

    async def submit() -> int:
        accepted = 0
        for _ in range(20):
            try:
                await verifier.averify(body, headers, now=NOW)
                accepted += 1
            except ReplayedDelivery:
                pass
        return accepted

    try:
        counts = await asyncio.gather(*(submit() for _ in range(32)))
    finally:
        await store.aclose()
    assert sum(counts) == 1


# -- restart, server down, frozen server --------------------------------------------------------


def test_records_survive_a_restart_with_no_refusal(fragile_pg: PostgresServer) -> None:
    store = PostgresNonceStore(fragile_pg.conninfo, timeout=0.5)
    store.create_table()
    verifier = quiet_verifier(store)
    body, headers = signed(int(NOW), "msg_restart")
    verifier.verify(body, headers, now=NOW)
    fragile_pg.stop()
    fragile_pg.start()
    # The store notices its connection was closed and opens a new one: a replay, not a 503.
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)
    store.close()


def test_server_down_fails_closed_quickly_then_recovers(fragile_pg: PostgresServer) -> None:
    store = PostgresNonceStore(fragile_pg.conninfo, timeout=0.5)
    store.create_table()
    verifier = quiet_verifier(store)
    held, held_headers = signed(int(NOW), "msg_held")
    verifier.verify(held, held_headers, now=NOW)
    fragile_pg.stop()
    body, headers = signed(int(NOW), "msg_down")
    for _ in range(2):  # on the dead connection, then on a refused new one
        started = time.monotonic()
        with pytest.raises(NonceStoreUnavailable) as info:
            verifier.verify(body, headers, now=NOW)
        assert time.monotonic() - started < 1.0
        assert info.value.status_code == 503
        assert info.value.reason == "nonce_store_unavailable"
    fragile_pg.start()
    verifier.verify(body, headers, now=NOW)  # the sender's retry: accepted, not a replay
    with pytest.raises(ReplayedDelivery):
        verifier.verify(held, held_headers, now=NOW)
    store.close()


def test_frozen_server_fails_closed_within_the_timeout(fragile_pg: PostgresServer) -> None:
    """A server that keeps the connection but never answers (SIGSTOP)."""
    store = PostgresNonceStore(fragile_pg.conninfo, timeout=0.5, connect_timeout=2)
    store.create_table()
    assert store.reserve(b"\x01" * 16, NOW + 60, NOW) is True
    fragile_pg.pause()
    try:
        started = time.monotonic()
        with pytest.raises(NonceStoreUnavailable, match="did not answer"):
            store.reserve(KEY, NOW + 60, NOW, T1)
        assert time.monotonic() - started < 0.5 + 0.25 + 0.5
        started = time.monotonic()
        with pytest.raises(NonceStoreUnavailable):  # a new connection: connect_timeout
            store.reserve(KEY, NOW + 60, NOW)
        assert time.monotonic() - started < 2 + 0.5
    finally:
        fragile_pg.resume()
    # The server ran the first INSERT once it woke (its answer was lost): the store marks
    # that record released before its next statement, so the sender's retry is accepted.
    time.sleep(0.2)
    assert store.reserve(KEY, NOW + 60, NOW, T2) is True
    assert store.reserve(KEY, NOW + 60, NOW, T3) is False
    store.close()


@pytest.mark.asyncio
async def test_async_store_fails_closed_then_recovers(fragile_pg: PostgresServer) -> None:
    store = AsyncPostgresNonceStore(fragile_pg.conninfo, timeout=0.5)
    await store.create_table()
    assert await store.areserve(b"\x01" * 16, NOW + 60, NOW) is True
    fragile_pg.pause()
    try:
        started = time.monotonic()
        with pytest.raises(NonceStoreUnavailable, match="did not answer"):
            await store.areserve(KEY, NOW + 60, NOW, T1)
        assert time.monotonic() - started < 0.5 + 0.25 + 0.5
    finally:
        fragile_pg.resume()
    time.sleep(0.2)  # the server runs the INSERT whose answer was lost
    fragile_pg.stop()
    try:
        started = time.monotonic()
        with pytest.raises(NonceStoreUnavailable):
            await store.areserve(KEY, NOW + 60, NOW, T2)
        assert time.monotonic() - started < 1.0
        fragile_pg.start()
        # The lost reservation was marked released first: the sender's retry is accepted.
        assert await store.areserve(KEY, NOW + 60, NOW, T3) is True
        assert await store.areserve(KEY, NOW + 60, NOW, T1) is False
        assert await store.areserve(b"\x01" * 16, NOW + 60, NOW) is False  # kept
    finally:
        await store.aclose()


# -- end to end through the Verifier (protocol v2: token and bounded release) ------------------


def test_verifier_release_and_retry(pg_server: PostgresServer, table: str) -> None:
    store = PostgresNonceStore(pg_server.conninfo, table=table)
    store.create_table()
    verifier = quiet_verifier(store, scheme=body_only_scheme(), max_releases=2)
    body, headers = signed(int(NOW), "unused", scheme=body_only_scheme())
    verified = verifier.verify(body, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)
    assert verifier.release(verified, now=NOW) is True
    retry = verifier.verify(body, headers, now=NOW + 1)
    assert verifier.release(verified, now=NOW) is False  # once per acceptance
    other_store = PostgresNonceStore(pg_server.conninfo, table=table)  # another worker
    other = quiet_verifier(other_store, scheme=body_only_scheme(), max_releases=2)
    with pytest.raises(ReplayedDelivery):
        other.verify(body, headers, now=NOW + 2)
    assert verifier.release(retry, now=NOW + 2) is True
    third = other.verify(body, headers, now=NOW + 3)
    assert other.release(third, now=NOW + 3) is False  # bound of 2 reached
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW + 4)
    store.close()
    other_store.close()


@pytest.mark.asyncio
async def test_verifier_averify_and_arelease(pg_server: PostgresServer, table: str) -> None:
    store = AsyncPostgresNonceStore(pg_server.conninfo, table=table)
    await store.create_table()
    verifier = quiet_verifier(store)
    body, headers = signed(int(NOW), "msg_async_release")
    try:
        verified = await verifier.averify(body, headers, now=NOW)
        with pytest.raises(ReplayedDelivery):
            await verifier.averify(body, headers, now=NOW)
        assert await verifier.arelease(verified, now=NOW) is True
        await verifier.averify(body, headers, now=NOW)
        with pytest.raises(ReplayedDelivery):
            await verifier.averify(body, headers, now=NOW)
        assert await store.count() == 1
    finally:
        await store.aclose()


def test_forged_deliveries_never_write(store: PostgresNonceStore) -> None:
    from hookseal import SignatureMismatch

    verifier = quiet_verifier(store)
    for i in range(50):
        body, headers = signed(int(NOW), f"forged_{i}")
        headers["X-Signature"] = "f" * 64
        with pytest.raises(SignatureMismatch):
            verifier.verify(body, headers, now=NOW)
    assert len(store) == 0


def test_postgres_store_meets_the_store_contract(store: PostgresNonceStore) -> None:
    check_nonce_store(store, now=NOW)
