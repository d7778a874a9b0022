"""SQLite nonce store: one replay record shared by the worker processes of one machine.

This is the only hookseal module that imports ``sqlite3`` (from the standard library: no extra
to install, no server to run). :class:`SQLiteNonceStore` serves both
:meth:`hookseal.Verifier.verify` (``reserve``/``release``) and
:meth:`hookseal.Verifier.averify` (``areserve``/``arelease``, which run the same work in a
thread with :func:`asyncio.to_thread`, off the event loop).

Every check is one ``BEGIN IMMEDIATE`` transaction: it takes the database's single write lock
first, then reads the key's record and writes the verdict, so two processes (or threads) can
never both accept one key. The database runs in WAL mode (readers never block the writer) with
a bounded busy timeout: a database locked for longer than that, read-only, missing or broken
refuses the delivery with :class:`~hookseal.NonceStoreUnavailable` (fail closed).

The file is created by hookseal with mode ``0o600`` before SQLite opens it (SQLite gives its
``-wal`` and ``-shm`` files the same mode); an existing database file that anyone may write,
or a directory that anyone may write without the sticky bit, is refused: whoever can write
the records can delete one and replay the delivery it recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import sqlite3
import stat
import threading
import time
import urllib.parse  # noqa: F401 - pathlib's as_uri() imports it lazily
import weakref
from pathlib import Path

from .._errors import ConfigurationError, NonceStoreUnavailable

__all__ = ["SQLiteNonceStore"]

logger = logging.getLogger("hookseal")

#: The most live records a store holds by default (about 100 bytes each on disk).
DEFAULT_MAX_ROWS = 1_000_000
#: How long a check waits for another connection's write lock by default, in seconds.
DEFAULT_BUSY_TIMEOUT = 0.75
#: The most expired records one check deletes (bounded work per call).
PURGE_BATCH = 100

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS hookseal_nonces (
        key BLOB PRIMARY KEY NOT NULL,
        expires_at REAL NOT NULL,
        token BLOB,
        releases INTEGER NOT NULL DEFAULT 0,
        released INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS hookseal_nonces_expires_at ON hookseal_nonces (expires_at)",
    # The number of records, kept by triggers: count(*) would scan the whole table.
    """CREATE TABLE IF NOT EXISTS hookseal_nonce_count (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        n INTEGER NOT NULL
    )""",
    "INSERT OR IGNORE INTO hookseal_nonce_count (id, n) VALUES (0, 0)",
    """CREATE TRIGGER IF NOT EXISTS hookseal_nonces_counted AFTER INSERT ON hookseal_nonces
    BEGIN UPDATE hookseal_nonce_count SET n = n + 1 WHERE id = 0; END""",
    """CREATE TRIGGER IF NOT EXISTS hookseal_nonces_uncounted AFTER DELETE ON hookseal_nonces
    BEGIN UPDATE hookseal_nonce_count SET n = n - 1 WHERE id = 0; END""",
)
_PURGE = (
    "DELETE FROM hookseal_nonces WHERE key IN "
    "(SELECT key FROM hookseal_nonces WHERE expires_at < ? LIMIT ?)"
)
#: Releases the record a token holds, fewer than max_releases times released before.
_RELEASE = (
    "UPDATE hookseal_nonces SET released = 1, releases = releases + 1 "
    "WHERE key = ? AND token = ? AND released = 0 AND releases < ?"
)
#: Undoes the reservation a token made, without counting a release.
_UNRESERVE = "UPDATE hookseal_nonces SET released = 1 WHERE key = ? AND token = ? AND released = 0"
_SYNCHRONOUS = ("FULL", "NORMAL")


def _check_positive(name: str, value: object, example: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigurationError(f"{name} must be a finite number above 0 (for example {example}).")
    return float(value)


def _error_name(exc: sqlite3.Error) -> str:
    """SQLite's result code name (``SQLITE_BUSY``...), from the exception or its message."""
    name = getattr(exc, "sqlite_errorname", None)  # Python 3.11+
    if isinstance(name, str):
        return name
    text = str(exc).lower()
    for needle, code in (
        ("locked", "SQLITE_BUSY"),
        ("readonly", "SQLITE_READONLY"),
        ("read-only", "SQLITE_READONLY"),
        ("unable to open", "SQLITE_CANTOPEN"),
        ("disk is full", "SQLITE_FULL"),
    ):
        if needle in text:
            return code
    return type(exc).__name__


#: Connections a forked child inherited: it must neither use nor close them (SQLite's rule),
#: and letting them be collected would close them; they are kept for the child's lifetime.
_INHERITED: list[sqlite3.Connection] = []


def _close_in_owner(conn: sqlite3.Connection, pid: int) -> None:
    """Close ``conn`` if this is the process that opened it (weakref finalizer)."""
    if os.getpid() == pid:
        conn.close()
    else:
        _INHERITED.append(conn)


class SQLiteNonceStore:
    """A nonce store in an SQLite database file, shared by every process on one machine.

    Each :meth:`reserve` is one ``BEGIN IMMEDIATE`` transaction that deletes at most
    ``PURGE_BATCH`` (100) expired records, reads the key's record, and inserts or updates it;
    the write lock held from ``BEGIN IMMEDIATE`` to ``COMMIT`` makes the check atomic across
    threads and processes. Each :meth:`release` is one conditional ``UPDATE``.

    Use one file per machine (a local file system: SQLite's locking is unreliable on network
    file systems such as NFS). Each process opens its own connection on first use (after a
    ``fork``, the child opens a new one), and the threads of a process share it under a lock.

    Args:
        path: the database file. Created with mode ``0o600`` if missing; its directory must
            exist. An existing file writable by everyone, or in a directory writable by
            everyone without the sticky bit, is refused.
        max_rows: the most records held (default 1,000,000). A full store refuses new
            deliveries with :class:`~hookseal.NonceStoreUnavailable` (reason
            ``nonce_store_full``) rather than evicting a live record; expired records are
            deleted as checks go by, so it drains once traffic slows.
        busy_timeout: the most seconds a check waits for another connection's write lock
            (default 0.75); past it the delivery is refused (``nonce_store_unavailable``).
        synchronous: ``"FULL"`` (default) syncs the write-ahead log to disk at every commit, so
            an accepted delivery's record survives a power loss; ``"NORMAL"`` syncs only at
            checkpoints (faster; survives a crash of the application, but a power loss can
            forget the last records, whose deliveries could then be replayed).

    Raises:
        ConfigurationError: for a bad argument, a missing directory, a file that cannot be
            created, or permissions that let anyone write the records.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        synchronous: str = "FULL",
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ConfigurationError(f"path must be a str or a path, not {type(path).__name__}.")
        text = os.fspath(path)
        if not isinstance(text, str) or text in ("", ":memory:") or text.startswith("file:"):
            raise ConfigurationError(
                "path must name a database file (not ':memory:' or a 'file:' URI): the store "
                "exists to be shared by processes. For one process, use MemoryNonceStore."
            )
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
            raise ConfigurationError(f"max_rows must be a positive int, not {max_rows!r}.")
        if synchronous not in _SYNCHRONOUS:
            raise ConfigurationError("synchronous must be 'FULL' (the default) or 'NORMAL'.")
        self._path = Path(text).absolute()
        self.max_rows = max_rows
        self.busy_timeout = _check_positive("busy_timeout", busy_timeout, "0.75")
        self.synchronous = synchronous
        if not self._path.parent.is_dir():
            raise ConfigurationError(
                f"The directory of the SQLite nonce store ({self._path.parent}) does not "
                "exist; create it (writable only by the service's user) first."
            )
        try:
            self._prepare_file()
        except OSError as exc:
            raise ConfigurationError(
                f"The SQLite nonce store could not create or open {self._path} "
                f"({type(exc).__name__}: {exc.strerror}); check the directory's permissions."
            ) from exc
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._full_logged = False

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def _prepare_file(self) -> None:
        """Create the file with mode 0o600 if missing; refuse permissions anyone could abuse.

        Raises ConfigurationError for such permissions, OSError when the file cannot be made.
        """
        directory = self._path.parent.stat()
        if directory.st_mode & stat.S_IWOTH and not directory.st_mode & stat.S_ISVTX:
            raise ConfigurationError(
                f"The directory of the SQLite nonce store ({self._path.parent}) is writable by "
                "everyone: anyone could replace the database and replay deliveries. Use a "
                "directory only the service's user can write."
            )
        # os.open applies the mode only when it creates the file: SQLite would use 0o644.
        # O_NOFOLLOW: a symlink planted at the path is refused, never followed.
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self._path, flags, 0o600)
        except PermissionError:
            # A read-only database is checked here, and refused per delivery (fail closed,
            # with the reason) when the store first needs to write.
            fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            if self._path.is_symlink():
                raise ConfigurationError(
                    f"The SQLite nonce store {self._path} is a symbolic link: give the path of "
                    "the file itself."
                ) from None
            raise exc
        try:
            info = os.fstat(fd)
        finally:
            os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigurationError(f"The SQLite nonce store {self._path} is not a file.")
        self._check_owned(self._path, info)
        for suffix in ("-wal", "-shm"):
            companion = self._path.with_name(self._path.name + suffix)
            try:
                companion_info = os.lstat(companion)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(companion_info.st_mode):
                raise ConfigurationError(f"{companion} is not a file (a symbolic link?).")
            self._check_owned(companion, companion_info)

    @staticmethod
    def _check_owned(path: Path, info: os.stat_result) -> None:
        """Refuse a file another user owns or may write: they could delete a record."""
        geteuid = getattr(os, "geteuid", None)
        if geteuid is not None and info.st_uid != geteuid():
            raise ConfigurationError(
                f"The SQLite nonce store file {path} belongs to another user (uid "
                f"{info.st_uid}), who could delete a record and replay its delivery. Let the "
                "service's user create it, in a directory only that user can write."
            )
        if info.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
            raise ConfigurationError(
                f"The SQLite nonce store file {path} is writable by its group or by everyone: "
                "they could delete a record and replay its delivery. Run `chmod 600` on it "
                "(and on its -wal and -shm files)."
            )

    def _connection(self) -> sqlite3.Connection:
        """Return this process's connection, opened (and the schema made) on first use."""
        conn = self._conn
        if conn is not None:
            return conn
        try:
            self._prepare_file()
        except PermissionError as exc:
            raise NonceStoreUnavailable(
                "The SQLite replay store cannot record the delivery: the database is read-only "
                "for this process (no write permission on the file). The delivery is refused "
                "(fail closed)."
            ) from exc
        except (OSError, ConfigurationError) as exc:
            raise NonceStoreUnavailable(
                f"The SQLite replay store cannot open its database ({type(exc).__name__}), "
                "so the delivery is refused (fail closed). Check the file and its permissions."
            ) from exc
        # mode=rw: never let SQLite create the file itself (it would use mode 0o644).
        uri = self._path.as_uri() + "?mode=rw"
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=self.busy_timeout,
            isolation_level=None,  # autocommit: transactions are explicit
            check_same_thread=False,  # shared by this process's threads, under self._lock
        )
        try:
            self._use_wal(conn)
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        # Closed when the store is collected (a store nobody closed leaves no open database,
        # and Python 3.13 warns about one); never in a forked child (see _enter).
        weakref.finalize(self, _close_in_owner, conn, os.getpid())
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the database to WAL once; several processes starting together may race.

        Reading the mode takes no lock; switching needs the database to itself and, when
        another process holds it, can answer "locked" at once rather than after the busy
        timeout, so it is retried until ``busy_timeout`` has passed.
        """
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _enter(self) -> threading.Lock:
        """The lock guarding this process's connection (a new one after a fork)."""
        pid = os.getpid()
        if pid != self._pid:
            # A connection must not cross a fork: the child forgets the parent's (unclosed:
            # closing it here could release the parent's file locks) and opens its own.
            self._pid = pid
            self._lock = threading.Lock()
            if self._conn is not None:
                _INHERITED.append(self._conn)  # kept, never closed nor collected, in the child
            self._conn = None
        return self._lock

    def _failed(self, exc: sqlite3.Error) -> NonceStoreUnavailable:
        """Close the connection (the next check opens a new one) and explain the failure."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        code = _error_name(exc)
        if code.startswith("SQLITE_BUSY") or code.startswith("SQLITE_LOCKED"):
            detail = (
                f"the database stayed locked for longer than busy_timeout "
                f"({self.busy_timeout:g} s): another connection holds a long transaction"
            )
        elif code.startswith("SQLITE_READONLY"):
            detail = (
                "the database is read-only: the service's user must be able to write the file "
                "and to create its -wal and -shm files in the same directory"
            )
        elif code.startswith("SQLITE_CANTOPEN"):
            detail = "the database file cannot be opened (missing, or no permission)"
        elif code.startswith("SQLITE_FULL"):
            return NonceStoreUnavailable(
                "The SQLite replay store's disk is full, so the delivery cannot be recorded "
                "and is refused (fail closed). Free disk space.",
                reason="nonce_store_full",
            )
        else:
            detail = f"SQLite failed ({code})"
        return NonceStoreUnavailable(
            f"The SQLite replay store cannot record the delivery: {detail}. "
            "The delivery is refused (fail closed)."
        )

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """Record ``key`` until ``expires_at`` unless a live record holds it.

        True for a new delivery (no live record) or a re-admission (the live record was
        released); False for a replay (a live record holds the key). See
        :class:`hookseal.replay.NonceStore`.

        Raises:
            NonceStoreUnavailable: the database is locked past ``busy_timeout``, read-only or
                broken (reason ``nonce_store_unavailable``), or the store holds ``max_rows``
                live records or the disk is full (reason ``nonce_store_full``).
        """
        if not (math.isfinite(expires_at) and math.isfinite(now)):
            raise NonceStoreUnavailable("The replay-store expiry is not a finite time.")
        key = bytes(key)
        with self._enter():
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    fresh = self._reserve(conn, key, float(expires_at), float(now), token)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
        return fresh

    def _reserve(
        self,
        conn: sqlite3.Connection,
        key: bytes,
        expires_at: float,
        now: float,
        token: bytes | None,
    ) -> bool:
        """The body of :meth:`reserve`, inside its write transaction."""
        conn.execute(_PURGE, (now, PURGE_BATCH))
        row = conn.execute(
            "SELECT expires_at, released FROM hookseal_nonces WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            (count,) = conn.execute("SELECT n FROM hookseal_nonce_count WHERE id = 0").fetchone()
            if count >= self.max_rows:
                raise self._full()
            conn.execute(
                "INSERT INTO hookseal_nonces (key, expires_at, token, releases, released) "
                "VALUES (?, ?, ?, 0, 0)",
                (key, expires_at, token),
            )
            return True
        held_until, released = row
        if held_until < now:
            # Expired (and not yet purged): a new record, with a new release count.
            conn.execute(
                "UPDATE hookseal_nonces SET expires_at = ?, token = ?, releases = 0, "
                "released = 0 WHERE key = ?",
                (expires_at, token, key),
            )
            return True
        if not released:
            return False  # a live record holds the key: a replay
        conn.execute(
            "UPDATE hookseal_nonces SET expires_at = max(expires_at, ?), token = ?, "
            "released = 0 WHERE key = ?",
            (expires_at, token, key),
        )
        return True

    def _full(self) -> NonceStoreUnavailable:
        if not self._full_logged:
            self._full_logged = True
            logger.warning(
                "hookseal: the SQLite nonce store holds its maximum of %d live records; new "
                "deliveries are refused (503) until records expire. Raise max_rows.",
                self.max_rows,
            )
        return NonceStoreUnavailable(
            f"The SQLite replay store is full ({self.max_rows} live records), so this delivery "
            "cannot be recorded and is refused. Raise max_rows.",
            reason="nonce_store_full",
        )

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """Mark the record of ``key`` released if ``token``'s acceptance holds it.

        One conditional ``UPDATE``: only a held record with exactly this token, released fewer
        than ``max_releases`` times before, is released (True); anything else changes nothing
        (False). A record that expired meanwhile may still be released: harmless, since a
        :meth:`reserve` treats an expired record as absent whatever its state.

        Raises:
            NonceStoreUnavailable: the database is locked, read-only or broken.
        """
        if not isinstance(token, bytes) or not token:
            return False
        return self._changed(_RELEASE, (bytes(key), token, max_releases))

    def _changed(self, statement: str, params: tuple[object, ...]) -> bool:
        """Run one ``UPDATE`` of a record; True when it changed it."""
        with self._enter():
            try:
                cursor = self._connection().execute(statement, params)
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
        return cursor.rowcount == 1

    async def areserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """The asynchronous form of :meth:`reserve`, run in a thread (off the event loop).

        If the awaiting task is cancelled, the thread still finishes its transaction; a
        record it made for ``token`` is then marked released (as if never made), since
        the caller never learnt that it was accepted and will not release it.
        """
        pending = asyncio.ensure_future(
            asyncio.to_thread(self.reserve, key, expires_at, now, token)
        )
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            if token is not None:
                pending.add_done_callback(lambda done: self._undo_later(done, key, token))
            raise

    def _undo_later(self, done: asyncio.Future[bool], key: bytes, token: bytes) -> None:
        if done.cancelled() or done.exception() is not None or not done.result():
            return
        asyncio.get_running_loop().run_in_executor(None, self._undo, key, token)

    def _undo(self, key: bytes, token: bytes) -> None:
        """Mark released the record ``token`` holds, without counting a release."""
        with self._enter():
            try:
                self._connection().execute(_UNRESERVE, (bytes(key), token))
            except (sqlite3.Error, NonceStoreUnavailable) as exc:
                logger.warning(
                    "hookseal: the SQLite nonce store could not undo the record of a cancelled "
                    "reservation (%s); that delivery's retry is refused until it expires.",
                    type(exc).__name__,
                )

    async def arelease(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """The asynchronous form of :meth:`release`, run in a thread (off the event loop)."""
        return await asyncio.to_thread(self.release, key, token, max_releases)

    def unreserve(self, key: bytes, token: bytes) -> bool:
        """Undo the reservation ``token`` made, without counting a release (one ``UPDATE``).

        The record is marked released, so the next reservation re-admits it.

        Raises:
            NonceStoreUnavailable: the database is locked, read-only or broken.
        """
        if not isinstance(token, bytes) or not token:
            return False
        return self._changed(_UNRESERVE, (bytes(key), token))

    async def aunreserve(self, key: bytes, token: bytes) -> bool:
        """The asynchronous form of :meth:`unreserve`, run in a thread."""
        return await asyncio.to_thread(self.unreserve, key, token)

    def close(self) -> None:
        """Close this process's connection (the next check opens a new one)."""
        with self._enter():
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    def __len__(self) -> int:
        """The number of records in the database, expired ones not yet purged included."""
        with self._enter():
            try:
                row = (
                    self._connection()
                    .execute("SELECT n FROM hookseal_nonce_count WHERE id = 0")
                    .fetchone()
                )
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
        return int(row[0])

    def __repr__(self) -> str:
        return f"SQLiteNonceStore({str(self._path)!r}, max_rows={self.max_rows})"
