"""SQLiteNonceStore: one replay record shared by the processes of one machine (real files)."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replay_support import body_only_scheme, quiet_verifier, signed

from hookseal import ConfigurationError, NonceStoreUnavailable, ReplayedDelivery
from hookseal.stores.base import AsyncNonceStore, NonceStore
from hookseal.stores.sqlite import SQLiteNonceStore
from hookseal.testing import check_nonce_store

NOW = 1_700_000_000.0
COPIES_PER_THREAD = 100
KEY = bytes(range(16))
T1 = b"\x01" * 16
T2 = b"\x02" * 16
T3 = b"\x03" * 16


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nonces.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteNonceStore]:
    made = SQLiteNonceStore(db)
    yield made
    made.close()


class Calls:
    """The store's sync or async methods behind one synchronous face (parametrised tests)."""

    def __init__(self, store: SQLiteNonceStore, mode: str) -> None:
        self.store = store
        self.mode = mode

    def reserve(self, key: bytes, expires_at: float, now: float, token: bytes | None) -> bool:
        if self.mode == "sync":
            return self.store.reserve(key, expires_at, now, token)
        return asyncio.run(self.store.areserve(key, expires_at, now, token))

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        if self.mode == "sync":
            return self.store.release(key, token, max_releases)
        return asyncio.run(self.store.arelease(key, token, max_releases))


@pytest.fixture(params=["sync", "async"])
def calls(request: pytest.FixtureRequest, store: SQLiteNonceStore) -> Calls:
    return Calls(store, request.param)


def test_importing_hookseal_does_not_import_sqlite3() -> None:
    # Only what hookseal's import adds: under `coverage run` the child's coverage (which
    # keeps its data in SQLite) has imported sqlite3 before this code runs.
    code = (
        "import sys; before = set(sys.modules); "
        "import hookseal, hookseal.stores, hookseal.stores.memory; "
        "from hookseal import Verifier; "
        "added = set(sys.modules) - before; "
        "assert 'sqlite3' not in added and '_sqlite3' not in added, sorted(added)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_protocols(store: SQLiteNonceStore) -> None:
    assert isinstance(store, NonceStore)
    assert isinstance(store, AsyncNonceStore)


# -- protocol v2 semantics, sync and async ---------------------------------------------------


def test_fresh_then_replay_live_through_expiry_inclusive(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 60, NOW, T1) is True
    assert calls.reserve(KEY, NOW + 60, NOW, T2) is False
    assert calls.reserve(KEY, NOW + 60, NOW + 60, T2) is False  # live while now <= expires_at
    assert calls.reserve(KEY, NOW + 200, NOW + 60.5, T2) is True  # expired: a new record
    assert calls.release(KEY, T1, 3) is False  # the old acceptance's token no longer holds it
    assert calls.release(KEY, T2, 3) is True


def test_release_is_a_compare_and_set_on_the_token(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 60, NOW, T1) is True
    assert calls.release(KEY, T2, 3) is False  # not ours
    assert calls.release(b"\x00" * 16, T1, 3) is False  # no such record
    assert calls.release(KEY, T1, 3) is True
    assert calls.release(KEY, T1, 3) is False  # already released
    # Re-admission: held again with the new token; only that token releases it now.
    assert calls.reserve(KEY, NOW + 30, NOW + 1, T2) is True
    assert calls.reserve(KEY, NOW + 30, NOW + 1, T3) is False
    assert calls.release(KEY, T1, 3) is False
    assert calls.release(KEY, T2, 3) is True


def test_release_bound_counts_in_the_store(calls: Calls, db: Path) -> None:
    tokens = [bytes([i]) * 16 for i in range(1, 5)]
    for i, token in enumerate(tokens[:3]):
        assert calls.reserve(KEY, NOW + 60, NOW + i, token) is True
        assert calls.release(KEY, token, 2) is (i < 2)
    # Bound reached: the third acceptance stays held, so the delivery is now a replay,
    # whichever store object (another worker) asks.
    other = SQLiteNonceStore(db)
    assert other.reserve(KEY, NOW + 60, NOW + 5, tokens[3]) is False
    assert other.release(KEY, tokens[2], 2) is False
    other.close()


def test_readmission_keeps_the_later_expiry_and_the_count(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 100, NOW, T1) is True
    assert calls.release(KEY, T1, 5) is True
    assert calls.reserve(KEY, NOW + 10, NOW + 1, T2) is True  # earlier expiry given
    assert calls.reserve(KEY, NOW + 10, NOW + 99, T3) is False  # still live until NOW + 100
    with contextlib.closing(sqlite3.connect(calls.store.path)) as conn:
        row = conn.execute(
            "SELECT expires_at, releases, released, token FROM hookseal_nonces"
        ).fetchall()
    assert row == [(NOW + 100, 1, 0, T2)]


def test_expired_record_starts_a_new_count(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 10, NOW, T1) is True
    assert calls.release(KEY, T1, 1) is True
    assert calls.reserve(KEY, NOW + 10, NOW + 1, T2) is True
    assert calls.release(KEY, T2, 1) is False  # bound of 1 reached
    assert calls.reserve(KEY, NOW + 100, NOW + 11, T3) is True  # expired: fresh, count 0
    assert calls.release(KEY, T3, 1) is True


def test_no_token_is_never_released(calls: Calls) -> None:
    assert calls.reserve(KEY, NOW + 10, NOW, None) is True
    assert calls.release(KEY, b"", 3) is False
    assert calls.reserve(KEY, NOW + 10, NOW, None) is False


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_times_fail_closed(store: SQLiteNonceStore, bad: float) -> None:
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(KEY, bad, NOW)
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(KEY, NOW + 1, bad)


# -- bounds and purge --------------------------------------------------------------------------


def test_full_store_refuses_and_never_evicts(db: Path) -> None:
    store = SQLiteNonceStore(db, max_rows=3)
    for i in range(3):
        assert store.reserve(bytes([i]) * 16, NOW + 60, NOW) is True
    with pytest.raises(NonceStoreUnavailable) as info:
        store.reserve(b"\xee" * 16, NOW + 60, NOW)
    assert info.value.reason == "nonce_store_full"
    assert info.value.status_code == 503
    for i in range(3):  # nothing was evicted: every live record is still a replay
        assert store.reserve(bytes([i]) * 16, NOW + 60, NOW) is False
    # Once records expire the store takes new ones again (expired rows are purged).
    assert store.reserve(b"\xee" * 16, NOW + 200, NOW + 61) is True
    assert len(store) == 1
    store.close()


def test_purge_is_bounded_per_call(store: SQLiteNonceStore) -> None:
    for i in range(250):
        store.reserve(i.to_bytes(16, "big"), NOW + 1, NOW)
    assert len(store) == 250
    store.reserve(b"\xff" * 16, NOW + 100, NOW + 2)  # all 250 expired: at most 100 go
    assert len(store) == 250 - 100 + 1
    store.reserve(b"\xfe" * 16, NOW + 100, NOW + 2)
    store.reserve(b"\xfd" * 16, NOW + 100, NOW + 2)
    assert len(store) == 3
    # The live ones are untouched.
    assert store.reserve(b"\xff" * 16, NOW + 100, NOW + 3) is False


# -- files, permissions, configuration --------------------------------------------------------


def test_files_are_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = SQLiteNonceStore(tmp_path / "open.db")
        assert store.reserve(KEY, NOW + 60, NOW) is True
        names = ["open.db", "open.db-wal", "open.db-shm"]
        modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in names}
        store.close()
    finally:
        os.umask(old)
    assert modes == dict.fromkeys(names, 0o600)


def test_wal_mode_and_schema(store: SQLiteNonceStore) -> None:
    store.reserve(KEY, NOW + 60, NOW)
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(hookseal_nonces)")}
    assert "hookseal_nonces_expires_at" in indexes


def test_world_writable_file_or_directory_is_refused(tmp_path: Path) -> None:
    loose = tmp_path / "loose.db"
    loose.touch()
    loose.chmod(0o666)
    with pytest.raises(ConfigurationError, match="writable by its group or by everyone"):
        SQLiteNonceStore(loose)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ConfigurationError, match="writable by everyone"):
        SQLiteNonceStore(shared / "n.db")
    shared.chmod(0o777 | stat.S_ISVTX)  # like /tmp: others cannot replace our file
    SQLiteNonceStore(shared / "n.db").close()
    assert stat.S_IMODE((shared / "n.db").stat().st_mode) == 0o600


def test_a_file_another_user_owns_or_a_symlink_is_refused(tmp_path: Path) -> None:
    """In a sticky shared directory (/tmp), another user may pre-create the database."""
    planted = tmp_path / "planted.db"
    planted.touch(mode=0o644)
    if os.geteuid() == 0:
        os.chown(planted, 65534, 65534)
        with pytest.raises(ConfigurationError, match="belongs to another user"):
            SQLiteNonceStore(planted)
    group = tmp_path / "group.db"
    group.touch()
    group.chmod(0o660)
    with pytest.raises(ConfigurationError, match="writable by its group"):
        SQLiteNonceStore(group)
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(ConfigurationError, match="symbolic link"):
        SQLiteNonceStore(link)
    assert not (tmp_path / "elsewhere.db").exists()


def test_configuration_errors(tmp_path: Path) -> None:
    for path in [":memory:", "", "file:x.db?mode=memory", 42]:
        with pytest.raises(ConfigurationError):
            SQLiteNonceStore(path)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="does not exist"):
        SQLiteNonceStore(tmp_path / "missing" / "n.db")
    for kwargs in [
        {"max_rows": 0},
        {"max_rows": True},
        {"busy_timeout": 0},
        {"busy_timeout": float("inf")},
        {"synchronous": "OFF"},
    ]:
        with pytest.raises(ConfigurationError):
            SQLiteNonceStore(tmp_path / "n.db", **kwargs)
    assert repr(SQLiteNonceStore(tmp_path / "n.db", max_rows=5)) == (
        f"SQLiteNonceStore({str(tmp_path / 'n.db')!r}, max_rows=5)"
    )


def test_records_survive_a_new_store_on_the_same_file(db: Path) -> None:
    first = SQLiteNonceStore(db)
    assert first.reserve(KEY, NOW + 60, NOW, T1) is True
    first.close()
    again = SQLiteNonceStore(db, synchronous="NORMAL")
    assert again.reserve(KEY, NOW + 60, NOW, T2) is False
    assert again.release(KEY, T1, 3) is True
    again.close()


# -- failures: locked, read-only ---------------------------------------------------------------


def test_locked_database_fails_closed_within_busy_timeout(db: Path) -> None:
    store = SQLiteNonceStore(db, busy_timeout=0.3)
    assert store.reserve(KEY, NOW + 60, NOW) is True
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    try:
        started = time.monotonic()
        with pytest.raises(NonceStoreUnavailable) as info:
            store.reserve(b"\x09" * 16, NOW + 60, NOW)
        waited = time.monotonic() - started
        assert info.value.reason == "nonce_store_unavailable"
        assert "locked" in str(info.value)
        assert 0.25 <= waited < 2.0
        with pytest.raises(NonceStoreUnavailable):
            asyncio.run(store.areserve(b"\x09" * 16, NOW + 60, NOW))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.reserve(b"\x09" * 16, NOW + 60, NOW) is True  # recovers by itself
    store.close()


@pytest.mark.asyncio
async def test_async_waits_off_the_event_loop(db: Path) -> None:
    store = SQLiteNonceStore(db, busy_timeout=0.5)
    store.reserve(b"\x01" * 16, NOW + 60, NOW)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    try:
        with pytest.raises(NonceStoreUnavailable):
            await store.areserve(KEY, NOW + 60, NOW)
    finally:
        beat.cancel()
        holder.execute("ROLLBACK")
        holder.close()
    assert ticks >= 10  # the loop ran while the store waited ~0.5 s for the lock
    store.close()


@pytest.mark.asyncio
async def test_cancelled_areserve_leaves_no_record_behind(db: Path) -> None:
    """Cancelled while its thread waits for the lock: the thread's record is undone."""
    store = SQLiteNonceStore(db, busy_timeout=5)
    store.reserve(b"\x01" * 16, NOW + 60, NOW)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    task = asyncio.create_task(store.areserve(KEY, NOW + 60, NOW, T1))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    holder.execute("ROLLBACK")  # the thread now gets the lock and writes its record
    holder.close()
    for _ in range(100):  # the undo runs in a thread once the reservation is done
        await asyncio.sleep(0.02)
        row = (
            store._connection()
            .execute("SELECT released FROM hookseal_nonces WHERE key = ?", (KEY,))
            .fetchone()
        )
        if row == (1,):
            break
    assert row == (1,)
    # The sender's retry is accepted; nothing was counted as a release.
    assert await store.areserve(KEY, NOW + 60, NOW, T2) is True
    assert await store.arelease(KEY, T2, 1) is True
    store.close()


_READ_ONLY_CHILD = """
import os, sys
from hookseal import NonceStoreUnavailable
from hookseal.stores.sqlite import SQLiteNonceStore

if os.geteuid() == 0:  # root writes anything: drop to nobody to see permissions apply
    os.setgid(65534)
    os.setuid(65534)
store = SQLiteNonceStore(sys.argv[1])  # the service's own user owns the files
try:
    store.reserve(bytes(16), 1e10, 1.0)
except NonceStoreUnavailable as exc:
    print(exc.reason, exc)
else:
    print("ACCEPTED")
"""


@pytest.mark.parametrize("what", ["file", "directory"])
def test_read_only_database_fails_closed(tmp_path: Path, what: str) -> None:
    """A file (or, in WAL mode, a directory) the service cannot write: refused, explained."""
    # Under /tmp itself: pytest's own temporary root is not traversable by another user.
    directory = Path(tempfile.mkdtemp(prefix="hookseal-ro-", dir="/tmp"))
    request_cleanup = shutil.rmtree
    db = directory / "n.db"
    first = SQLiteNonceStore(db)
    first.reserve(KEY, NOW + 60, NOW)  # WAL mode, schema, one record
    first.close()  # checkpoints: no -wal/-shm left, so they must be created beside it
    if os.geteuid() == 0:
        directory.chmod(0o755)
        os.chown(directory, 65534, 65534)
        for made in directory.iterdir():  # the database and its -wal/-shm files
            os.chown(made, 65534, 65534)
    if what == "file":
        db.chmod(0o400)
    else:
        directory.chmod(0o555)  # cannot create n.db-wal beside it
    try:
        result = subprocess.run(
            [sys.executable, "-c", _READ_ONLY_CHILD, str(db)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        directory.chmod(0o700)
        request_cleanup(directory, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("nonce_store_unavailable "), result.stdout
    assert "read-only" in result.stdout or "cannot be opened" in result.stdout, result.stdout


# -- exactly once --------------------------------------------------------------------------------


def test_32_threads_through_the_verifier_accept_exactly_once(db: Path) -> None:
    store = SQLiteNonceStore(db)
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
    store.close()
    assert other == []
    assert len(accepted) == 1
    assert len(replayed) == 32 * COPIES_PER_THREAD - 1


def reserve_all(path: str, keys: list[bytes], barrier: Any, results: Any) -> None:
    """Spawned worker: reserve every key once with a store of its own; report the winners.

    Each worker gets the keys in its own (rotated) order, so they contend on every key.
    """
    # A long busy_timeout: 4 processes writing at full speed on a slow disk must not time out
    # (this test is about exactly-once; the timeout has tests of its own).
    store = SQLiteNonceStore(path, busy_timeout=10)
    won: list[bytes] = []
    failed: list[str] = []
    barrier.wait(60)
    for key in keys:
        try:
            if store.reserve(key, NOW + 60, NOW, os.urandom(16)):
                won.append(key)
        except NonceStoreUnavailable as exc:
            failed.append(f"{exc} (caused by {exc.__cause__!r})")
    store.close()
    results.put((os.getpid(), won, failed))


def test_4_processes_1000_identical_deliveries_exactly_once(db: Path) -> None:
    keys = [i.to_bytes(16, "big") for i in range(1000)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=reserve_all,
            args=(str(db), keys[250 * i :] + keys[: 250 * i], barrier, results),
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
    assert [failure for _, _, failed in outcomes for failure in failed] == []
    won = [key for _, keys_won, _ in outcomes for key in keys_won]
    assert len(won) == 1000
    assert set(won) == set(keys)  # every key accepted exactly once, by one process


@pytest.mark.asyncio
async def test_32_tasks_through_averify_accept_exactly_once(db: Path) -> None:
    store = SQLiteNonceStore(db)
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

    counts = await asyncio.gather(*(submit() for _ in range(32)))
    store.close()
    assert sum(counts) == 1


# -- end to end through the Verifier (protocol v2: token and bounded release) ------------------


def test_verifier_release_and_retry(db: Path) -> None:
    store = SQLiteNonceStore(db)
    verifier = quiet_verifier(store, scheme=body_only_scheme(), max_releases=2)
    body, headers = signed(int(NOW), "unused", scheme=body_only_scheme())
    verified = verifier.verify(body, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW)
    assert verifier.release(verified, now=NOW) is True
    retry = verifier.verify(body, headers, now=NOW + 1)  # the sender's identical retry
    assert verifier.release(verified, now=NOW) is False  # once per acceptance
    # Another worker (its own store object on the same file) sees the same count.
    other = quiet_verifier(SQLiteNonceStore(db), scheme=body_only_scheme(), max_releases=2)
    with pytest.raises(ReplayedDelivery):
        other.verify(body, headers, now=NOW + 2)
    assert verifier.release(retry, now=NOW + 2) is True
    third = other.verify(body, headers, now=NOW + 3)
    assert other.release(third, now=NOW + 3) is False  # bound of 2 reached: poison stops
    with pytest.raises(ReplayedDelivery):
        verifier.verify(body, headers, now=NOW + 4)
    store.close()


@pytest.mark.asyncio
async def test_verifier_averify_and_arelease(db: Path) -> None:
    store = SQLiteNonceStore(db)
    verifier = quiet_verifier(store)
    body, headers = signed(int(NOW), "msg_async_release")
    verified = await verifier.averify(body, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        await verifier.averify(body, headers, now=NOW)
    assert await verifier.arelease(verified, now=NOW) is True
    await verifier.averify(body, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        await verifier.averify(body, headers, now=NOW)
    store.close()


def test_verifier_refuses_when_the_database_is_locked(db: Path) -> None:
    store = SQLiteNonceStore(db, busy_timeout=0.2)
    verifier = quiet_verifier(store)
    store.reserve(KEY, NOW + 60, NOW)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    body, headers = signed(int(NOW), "msg_locked")
    try:
        with pytest.raises(NonceStoreUnavailable) as info:
            verifier.verify(body, headers, now=NOW)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert info.value.status_code == 503
    verifier.verify(body, headers, now=NOW)  # the sender's retry, once the lock is gone
    store.close()


def test_sqlite_store_meets_the_store_contract(store: SQLiteNonceStore) -> None:
    check_nonce_store(store, now=NOW)
