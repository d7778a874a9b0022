"""PostgreSQL nonce stores, for applications that already run a database and no Redis.

This is the only hookseal module that imports ``psycopg`` (psycopg 3: install the ``postgres``
extra). :class:`PostgresNonceStore` serves :meth:`hookseal.Verifier.verify` (and
:meth:`~hookseal.Verifier.averify`, which runs it in a thread); :class:`AsyncPostgresNonceStore`
uses psycopg's asynchronous connection and serves :meth:`hookseal.Verifier.averify` without
a thread.

Each reservation is one statement, so it is atomic on its own::

    INSERT INTO hookseal_nonces AS n (key, expires_at, token, releases, released)
    VALUES (%(key)s, %(expires_at)s, %(token)s, 0, false)
    ON CONFLICT (key) DO UPDATE SET ...
    WHERE n.expires_at < %(now)s OR n.released
    RETURNING 1

A row comes back when the key was free (inserted), expired or released (taken over); none
when a live record holds it (a replay). Each release is one ``UPDATE ... WHERE key = ... AND
token = ... AND NOT released AND releases < max_releases``. Expired rows are deleted at most
100 at a time, on one call in ``purge_every``.

Waits are bounded: ``connect_timeout`` (whole seconds, at least 2, libpq's rule) for a new
connection, and ``timeout`` for each statement, both on the server (``statement_timeout``,
``lock_timeout``) and in the client (a statement that has no answer ``timeout`` + 0.25 s later
has its connection shut down), so a PostgreSQL that is down, unreachable or frozen refuses
the delivery with :class:`~hookseal.NonceStoreUnavailable` (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import select
import socket
import threading
import time
from typing import Any

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without psycopg
    raise ImportError(
        "hookseal.stores.postgres needs psycopg 3: install hookseal[postgres] "
        "(pip install 'hookseal[postgres]')."
    ) from exc

from .._errors import ConfigurationError, NonceStoreUnavailable

__all__ = ["AsyncPostgresNonceStore", "PostgresNonceStore", "table_ddl"]

logger = logging.getLogger("hookseal")

#: The table hookseal uses unless told otherwise.
DEFAULT_TABLE = "hookseal_nonces"
#: The most seconds one statement may take by default (server and client side).
DEFAULT_TIMEOUT = 1.0
#: The most seconds a new connection may take by default (libpq counts whole seconds, >= 2).
DEFAULT_CONNECT_TIMEOUT = 2
#: The most expired rows one purge deletes.
PURGE_BATCH = 100
#: How much longer than ``timeout`` the client waits before it gives up on a connection: the
#: server's own ``statement_timeout`` normally answers first, with a clean error.
_GRACE = 0.25
#: The most reservations with a lost answer remembered for undoing (the oldest go first).
_MAX_UNSURE = 1000
#: Failures after which a reservation may have been written without its answer arriving.
_LOST_ANSWER = (TimeoutError, asyncio.TimeoutError, psycopg.OperationalError)

# Lower-case identifiers only: they need no quoting, fold to themselves, and leave room (63
# bytes) for the index name derived from the table's.
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,47}\Z")


def _check_table(table: object) -> tuple[str, str]:
    """Return ``(qualified table name, index name)`` for a validated ``table``."""
    if not isinstance(table, str):
        raise ConfigurationError(f"table must be a str, not {type(table).__name__}.")
    parts = table.split(".")
    if len(parts) > 2 or not all(_NAME.match(part) for part in parts):
        raise ConfigurationError(
            "table must be a lower-case SQL name (letters, digits, underscores; at most 48 "
            "characters), optionally schema-qualified, such as 'hookseal_nonces' or "
            "'webhooks.hookseal_nonces'."
        )
    return table, f"{parts[-1]}_expires_at_idx"


def table_ddl(table: str = DEFAULT_TABLE) -> str:
    """The SQL that creates the nonce table and its index (what ``create_table()`` runs).

    Run it in a migration of your own, or call ``create_table()`` at start-up: both are
    idempotent (``IF NOT EXISTS``).
    """
    name, index = _check_table(table)
    # Quoted as the store's own statements quote them (a name such as "user" is reserved).
    name = ".".join(f'"{part}"' for part in name.split("."))
    index = f'"{index}"'
    return (
        f"CREATE TABLE IF NOT EXISTS {name} (\n"
        "    key bytea PRIMARY KEY,\n"
        "    expires_at double precision NOT NULL,\n"
        "    token bytea,\n"
        "    releases integer NOT NULL DEFAULT 0,\n"
        "    released boolean NOT NULL DEFAULT false\n"
        ");\n"
        f"CREATE INDEX IF NOT EXISTS {index} ON {name} (expires_at);\n"
    )


class _Statements:
    """The statements for one table (its name validated by :func:`_check_table`)."""

    def __init__(self, table: str) -> None:
        name, index = _check_table(table)
        self.table = name
        t = sql.Identifier(*name.split("."))
        self.ddl = [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {t} ("
                "key bytea PRIMARY KEY, "
                "expires_at double precision NOT NULL, "
                "token bytea, "
                "releases integer NOT NULL DEFAULT 0, "
                "released boolean NOT NULL DEFAULT false)"
            ).format(t=t),
            sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (expires_at)").format(
                i=sql.Identifier(index), t=t
            ),
        ]
        self.reserve = sql.SQL(
            "INSERT INTO {t} AS n (key, expires_at, token, releases, released) "
            "VALUES (%(key)s, %(expires_at)s, %(token)s, 0, false) "
            "ON CONFLICT (key) DO UPDATE SET "
            "expires_at = CASE WHEN n.expires_at < %(now)s THEN EXCLUDED.expires_at "
            "ELSE GREATEST(n.expires_at, EXCLUDED.expires_at) END, "
            "token = EXCLUDED.token, "
            "releases = CASE WHEN n.expires_at < %(now)s THEN 0 ELSE n.releases END, "
            "released = false "
            "WHERE n.expires_at < %(now)s OR n.released "
            "RETURNING 1"
        ).format(t=t)
        self.release = sql.SQL(
            "UPDATE {t} SET released = true, releases = releases + 1 "
            "WHERE key = %(key)s AND token = %(token)s AND NOT released "
            "AND releases < %(max_releases)s"
        ).format(t=t)
        # The outer condition is checked again on a row updated meanwhile: a record another
        # check just took over (no longer expired) is never deleted.
        self.purge = sql.SQL(
            "DELETE FROM {t} WHERE ctid = ANY (ARRAY("
            "SELECT ctid FROM {t} WHERE expires_at < %(now)s LIMIT {n}"
            ")) AND expires_at < %(now)s"
        ).format(t=t, n=sql.Literal(PURGE_BATCH))
        # Marks released the records of reservations whose answer was lost (see _unsure).
        self.undo = sql.SQL(
            "UPDATE {t} AS n SET released = true "
            "FROM unnest(%(keys)s::bytea[], %(tokens)s::bytea[]) AS u(key, token) "
            "WHERE n.key = u.key AND n.token = u.token AND NOT n.released"
        ).format(t=t)
        self.unreserve = sql.SQL(
            "UPDATE {t} SET released = true "
            "WHERE key = %(key)s AND token = %(token)s AND NOT released"
        ).format(t=t)
        self.lock = sql.SQL("SELECT pg_advisory_xact_lock(hashtext(%(name)s))").format()
        self.count = sql.SQL("SELECT count(*) FROM {t}").format(t=t)


def _check_settings(
    conninfo: object, table: object, timeout: object, connect_timeout: object, purge_every: object
) -> tuple[str, float, int, int]:
    if not isinstance(conninfo, str):
        raise ConfigurationError(f"conninfo must be a str, not {type(conninfo).__name__}.")
    try:
        psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.Error as exc:
        # Only the class: the message could quote the connection string and its password.
        raise ConfigurationError(
            f"conninfo is not a PostgreSQL connection string ({type(exc).__name__}); expected "
            "'postgresql://user@host:5432/dbname' or 'host=... dbname=...'."
        ) from None
    _check_table(table)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or not 0.001 <= timeout <= 60
    ):
        raise ConfigurationError("timeout must be a number of seconds from 0.001 to 60 (e.g. 1).")
    if (
        isinstance(connect_timeout, bool)
        or not isinstance(connect_timeout, int)
        or not 2 <= connect_timeout <= 60
    ):
        raise ConfigurationError(
            "connect_timeout must be a whole number of seconds from 2 to 60 (libpq's minimum is 2)."
        )
    if isinstance(purge_every, bool) or not isinstance(purge_every, int) or purge_every < 1:
        raise ConfigurationError("purge_every must be a positive int (1 purges on every call).")
    return conninfo, float(timeout), connect_timeout, purge_every


def _check_time(expires_at: float, now: float) -> None:
    if not (math.isfinite(expires_at) and math.isfinite(now)):
        raise NonceStoreUnavailable("The replay-store expiry is not a finite time.")


def _failure(exc: BaseException, timeout: float) -> NonceStoreUnavailable:
    """Explain a failed statement (never quoting the server's message: it may echo data)."""
    if isinstance(exc, pg_errors.DiskFull):
        return NonceStoreUnavailable(
            "The PostgreSQL replay store's disk is full, so the delivery cannot be recorded "
            "and is refused (fail closed). Free disk space on the database server.",
            reason="nonce_store_full",
        )
    if isinstance(exc, pg_errors.UndefinedTable):
        detail = "its table does not exist: call create_table() once, or run table_ddl()"
    elif isinstance(exc, (pg_errors.QueryCanceled, pg_errors.LockNotAvailable, TimeoutError)):
        detail = f"PostgreSQL did not answer within timeout ({timeout:g} s)"
    elif isinstance(exc, psycopg.OperationalError):
        detail = "PostgreSQL is unreachable or closed the connection"
    else:
        detail = f"PostgreSQL failed ({type(exc).__name__})"
    return NonceStoreUnavailable(
        f"The PostgreSQL replay store cannot record the delivery: {detail}. "
        "The delivery is refused (fail closed)."
    )


def _is_stale(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """True when an idle connection has something to read (checked without blocking).

    The server closed it (a restart, an administrator): a statement sent on it would fail.
    """
    if conn.closed or conn.broken:
        return True
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


def _shut_down(fd: int) -> None:
    """Shut down the socket behind ``fd`` so that a read blocked on it returns at once."""
    with contextlib.suppress(OSError):
        sock = socket.socket(fileno=os.dup(fd))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


class _Watchdog:
    """Shuts down the connection of a statement still unanswered at its deadline.

    One daemon thread per store and process, started on first use; it sleeps until the armed
    deadline (statements are serialised, so at most one is armed at a time) and is woken only
    when it had nothing armed, so a steady stream of statements costs no thread switch each.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._deadline = 0.0
        self._fd = -1
        self._armed = False
        self._fired = False
        self._idle = False
        self._thread: threading.Thread | None = None

    def arm(self, fd: int, deadline: float) -> None:
        with self._cond:
            self._fd, self._deadline, self._armed, self._fired = fd, deadline, True, False
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="hookseal-postgres-watchdog", daemon=True
                )
                self._thread.start()
            elif self._idle:
                self._cond.notify()

    def disarm(self) -> bool:
        """Disarm; True when the deadline had passed and the connection was shut down."""
        with self._cond:
            self._armed = False
            fired, self._fired = self._fired, False
            return fired

    def _watch(self) -> None:
        with self._cond:
            while True:
                if not self._armed:
                    self._idle = True
                    self._cond.wait()
                    self._idle = False
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                self._armed = False
                self._fired = True
                _shut_down(self._fd)


class _Base:
    """Settings, statements and representation shared by both stores."""

    def __init__(
        self,
        conninfo: str,
        *,
        table: str = DEFAULT_TABLE,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
        purge_every: int = 10,
    ) -> None:
        self._conninfo, self.timeout, self.connect_timeout, self.purge_every = _check_settings(
            conninfo, table, timeout, connect_timeout, purge_every
        )
        self._sql = _Statements(table)
        self._calls = 0
        # Reservations sent whose answer never came (a timeout, a lost connection): the
        # delivery was refused, but the record may have been written. The next call marks
        # them released first, so the sender's retry is not taken for a replay.
        self._unsure: list[tuple[bytes, bytes]] = []
        self._start()

    def _start(self) -> None:
        """Set up the connection state of the store's kind (sync or async)."""
        raise NotImplementedError

    def _remember(self, key: bytes, token: bytes | None) -> None:
        if token is not None:
            del self._unsure[: max(0, len(self._unsure) - _MAX_UNSURE + 1)]
            self._unsure.append((key, token))

    @staticmethod
    def _reserve_params(
        key: bytes, expires_at: float, now: float, token: bytes | None
    ) -> dict[str, Any]:
        """The reservation statement's parameters (``expires_at`` and ``now`` checked)."""
        _check_time(expires_at, now)
        return {
            "key": bytes(key),
            "expires_at": float(expires_at),
            "now": float(now),
            "token": token,
        }

    def _reserve_failed(self, exc: NonceStoreUnavailable, params: dict[str, Any]) -> None:
        """Remember a reservation whose answer was lost: it may have been written."""
        if isinstance(exc.__cause__, _LOST_ANSWER):
            self._remember(params["key"], params["token"])

    @staticmethod
    def _purge_failed(exc: NonceStoreUnavailable) -> None:
        # The reservation is committed: answering 503 now would refuse a recorded
        # delivery, and its retry would then be taken for a replay. The next purge retries.
        logger.warning(
            "hookseal: the PostgreSQL nonce store could not purge expired rows (%s); "
            "the delivery's verdict stands.",
            type(exc.__cause__ or exc).__name__,
        )

    @staticmethod
    def _release_params(key: bytes, token: bytes, max_releases: int) -> dict[str, Any] | None:
        """The release statement's parameters; None when ``token`` can hold no record."""
        if not isinstance(token, bytes) or not token:
            return None
        return {"key": bytes(key), "token": token, "max_releases": int(max_releases)}

    @staticmethod
    def _unreserve_params(key: bytes, token: bytes) -> dict[str, Any] | None:
        """The unreserve statement's parameters; None when ``token`` can hold no record."""
        if not isinstance(token, bytes) or not token:
            return None
        return {"key": bytes(key), "token": token}

    @staticmethod
    def _row_count(row: Any) -> int:
        return int(row[0]) if row is not None else 0

    def _undo_params(self) -> dict[str, Any]:
        return {
            "keys": [key for key, _ in self._unsure],
            "tokens": [token for _, token in self._unsure],
        }

    @property
    def table(self) -> str:
        """The table holding the records."""
        return self._sql.table

    def _connect_kwargs(self) -> dict[str, Any]:
        ms = str(max(1, round(self.timeout * 1000)))
        return {
            "autocommit": True,
            "connect_timeout": self.connect_timeout,
            # Unacknowledged data for this long (a vanished host) closes the connection.
            "tcp_user_timeout": str(round((self.timeout + _GRACE) * 1000)),
            "options": f"-c statement_timeout={ms} -c lock_timeout={ms}",
        }

    def _purge_due(self) -> bool:
        self._calls += 1
        return self._calls % self.purge_every == 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(table={self.table!r}, timeout={self.timeout:g})"


class PostgresNonceStore(_Base):
    """A nonce store in a PostgreSQL table, shared by every worker that uses the database.

    The store keeps one connection per process (opened on first use, in autocommit mode;
    after a ``fork`` the child opens its own) shared by the process's threads under a lock.
    A connection the server closed (a restart) is noticed before use and replaced; a
    statement that fails closes the connection, and the next call opens a new one. No
    statement is ever sent twice.

    Args:
        conninfo: a libpq connection string or URI, e.g.
            ``"postgresql://hookseal@db.internal/app"``. Its ``connect_timeout``,
            ``tcp_user_timeout`` and ``options`` are replaced by the store's own.
        table: the table (``create_table()`` creates it; ``table_ddl()`` gives its SQL).
            Lower-case, optionally schema-qualified. Use one table per endpoint if endpoints
            must not share records.
        timeout: the most seconds one statement may take (default 1): set on the server as
            ``statement_timeout`` and ``lock_timeout``, and enforced by the client
            ``timeout`` + 0.25 s later by shutting the connection down (from a watchdog thread).
        connect_timeout: the most seconds a new connection may take (whole seconds, from 2).
        purge_every: delete up to 100 expired rows on one reservation in this many
            (default 10).

    Raises:
        ConfigurationError: for a bad argument or a malformed connection string.
    """

    _conn: psycopg.Connection[Any] | None

    def _start(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._conn = None
        self._watchdog = _Watchdog()

    def _enter(self) -> threading.Lock:
        pid = os.getpid()
        if pid != self._pid:
            # Never use a connection across a fork: the child opens its own.
            self._pid = pid
            self._lock = threading.Lock()
            self._conn = None
            self._watchdog = _Watchdog()
        return self._lock

    def _connection(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is not None and not _is_stale(conn):
            return conn
        self._discard()
        conn = psycopg.Connection.connect(self._conninfo, **self._connect_kwargs())
        self._conn = conn
        return conn

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _run(self, query: sql.Composed, params: dict[str, Any]) -> psycopg.Cursor[Any]:
        """Run one statement on this process's connection, within the client-side deadline."""
        conn = self._connection()
        self._watchdog.arm(conn.fileno(), time.monotonic() + self.timeout + _GRACE)
        fired = False
        try:
            cursor = conn.execute(query, params)
        except psycopg.Error as exc:
            fired = self._watchdog.disarm()
            if fired:
                raise TimeoutError from exc
            raise
        finally:
            if not fired:
                fired = self._watchdog.disarm()
            if fired:
                self._discard()
        return cursor

    def _call(self, query: sql.Composed, params: dict[str, Any]) -> psycopg.Cursor[Any]:
        try:
            return self._run(query, params)
        except (psycopg.Error, TimeoutError, OSError) as exc:
            self._discard()
            raise _failure(exc, self.timeout) from exc

    def create_table(self) -> None:
        """Create the table and its index if they do not exist (idempotent, no migration).

        Safe to call from several processes at once (they take turns on an advisory lock).

        Raises:
            NonceStoreUnavailable: PostgreSQL is unreachable or refused (no permission).
        """
        with self._enter():
            try:
                conn = self._connection()
                with conn.transaction():
                    conn.execute(self._sql.lock, {"name": self.table})
                    for statement in self._sql.ddl:
                        conn.execute(statement)
            except (psycopg.Error, OSError) as exc:
                self._discard()
                raise _failure(exc, self.timeout) from exc

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """Record ``key`` until ``expires_at`` unless a live record holds it (one statement).

        True for a new delivery or a re-admission of a released record, False for a replay.
        See :class:`hookseal.stores.base.NonceStore`.

        Raises:
            NonceStoreUnavailable: PostgreSQL is unreachable, too slow, or failed (reason
                ``nonce_store_unavailable``; a full disk: ``nonce_store_full``).
        """
        params = self._reserve_params(key, expires_at, now, token)
        with self._enter():
            self._settle()
            try:
                fresh = self._call(self._sql.reserve, params).fetchone() is not None
            except NonceStoreUnavailable as exc:
                self._reserve_failed(exc, params)
                raise
            if self._purge_due():
                self._purge(now)
        return fresh

    def _purge(self, now: float) -> None:
        """Delete some expired rows; a failure here never turns a verdict into a refusal."""
        try:
            self._call(self._sql.purge, {"now": float(now)})
        except NonceStoreUnavailable as exc:
            self._purge_failed(exc)

    def _settle(self) -> None:
        """Mark released the records of earlier reservations whose answer was lost."""
        if self._unsure:
            self._call(self._sql.undo, self._undo_params())
            self._unsure.clear()

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """Mark the record of ``key`` released if ``token``'s acceptance holds it.

        One ``UPDATE``: only a held record with exactly this token, released fewer than
        ``max_releases`` times before, is released (True); anything else changes nothing
        (False). A record that expired meanwhile may still be released: harmless, since a
        reservation treats an expired record as absent whatever its state.

        Raises:
            NonceStoreUnavailable: PostgreSQL is unreachable, too slow, or failed.
        """
        return self._changed(self._sql.release, self._release_params(key, token, max_releases))

    def unreserve(self, key: bytes, token: bytes) -> bool:
        """Undo the reservation ``token`` made, without counting a release (one ``UPDATE``).

        Raises:
            NonceStoreUnavailable: PostgreSQL is unreachable, too slow, or failed.
        """
        return self._changed(self._sql.unreserve, self._unreserve_params(key, token))

    def _changed(self, query: sql.Composed, params: dict[str, Any] | None) -> bool:
        """Run one ``UPDATE`` (after settling); True when it changed the record."""
        if params is None:
            return False
        with self._enter():
            self._settle()
            return self._call(query, params).rowcount == 1

    def __len__(self) -> int:
        """The number of rows in the table, expired ones not yet purged included."""
        with self._enter():
            row = self._call(self._sql.count, {}).fetchone()
        return self._row_count(row)

    def close(self) -> None:
        """Close this process's connection (the next call opens a new one)."""
        with self._enter():
            self._discard()


class AsyncPostgresNonceStore(_Base):
    """The asynchronous PostgreSQL nonce store, for :meth:`hookseal.Verifier.averify`.

    The same table, statements and guarantees as :class:`PostgresNonceStore`, on one
    ``psycopg.AsyncConnection`` per store (opened on first use, replaced after a failure or
    a server restart) that the event loop's tasks take turns on. A statement unanswered
    ``timeout`` + 0.25 s after it was sent has its connection shut down (a timer on the event
    loop); nothing blocks the event loop. Use one store
    per event loop. The arguments are :class:`PostgresNonceStore`'s.
    """

    _conn: psycopg.AsyncConnection[Any] | None

    def _start(self) -> None:
        self._lock = asyncio.Lock()
        self._conn = None

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        conn = self._conn
        if conn is not None and not _is_stale(conn):
            return conn
        await self._discard()
        conn = await psycopg.AsyncConnection.connect(self._conninfo, **self._connect_kwargs())
        self._conn = conn
        return conn

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _run(self, query: sql.Composed, params: dict[str, Any]) -> psycopg.AsyncCursor[Any]:
        """Run one statement; shut its connection down if unanswered at the deadline.

        Not ``asyncio.wait_for``: cancelling psycopg mid-statement makes it try to cancel the
        query on the server, which waits seconds more when the server is frozen.
        """
        conn = await self._connection()
        fd = conn.fileno()
        fired = False

        def abort() -> None:
            nonlocal fired
            fired = True
            _shut_down(fd)

        handle = asyncio.get_running_loop().call_later(self.timeout + _GRACE, abort)
        try:
            return await conn.execute(query, params)
        except psycopg.Error as exc:
            if fired:
                raise TimeoutError from exc
            raise
        finally:
            handle.cancel()
            if fired:
                await self._discard()

    async def _call(self, query: sql.Composed, params: dict[str, Any]) -> psycopg.AsyncCursor[Any]:
        try:
            return await self._run(query, params)
        except (psycopg.Error, TimeoutError, asyncio.TimeoutError, OSError) as exc:
            await self._discard()
            raise _failure(exc, self.timeout) from exc
        except BaseException:
            # Cancelled mid-statement: the connection's state is unknown.
            await self._discard()
            raise

    async def create_table(self) -> None:
        """Create the table and its index if they do not exist (see PostgresNonceStore)."""
        async with self._lock:
            try:
                conn = await self._connection()
                async with conn.transaction():
                    await conn.execute(self._sql.lock, {"name": self.table})
                    for statement in self._sql.ddl:
                        await conn.execute(statement)
            except (psycopg.Error, OSError) as exc:
                await self._discard()
                raise _failure(exc, self.timeout) from exc

    async def areserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """The asynchronous form of :meth:`PostgresNonceStore.reserve`."""
        params = self._reserve_params(key, expires_at, now, token)
        async with self._lock:
            await self._settle()
            try:
                cursor = await self._call(self._sql.reserve, params)
            except NonceStoreUnavailable as exc:
                self._reserve_failed(exc, params)
                raise
            except BaseException:
                self._remember(params["key"], token)  # cancelled: the answer is lost
                raise
            fresh = (await cursor.fetchone()) is not None
            if self._purge_due():
                await self._apurge(now)
        return fresh

    async def _apurge(self, now: float) -> None:
        """The asynchronous form of :meth:`PostgresNonceStore._purge`."""
        try:
            await self._call(self._sql.purge, {"now": float(now)})
        except NonceStoreUnavailable as exc:
            self._purge_failed(exc)

    async def _settle(self) -> None:
        """Mark released the records of earlier reservations whose answer was lost."""
        if self._unsure:
            await self._call(self._sql.undo, self._undo_params())
            self._unsure.clear()

    async def arelease(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """The asynchronous form of :meth:`PostgresNonceStore.release`."""
        return await self._achanged(
            self._sql.release, self._release_params(key, token, max_releases)
        )

    async def aunreserve(self, key: bytes, token: bytes) -> bool:
        """The asynchronous form of :meth:`PostgresNonceStore.unreserve`."""
        return await self._achanged(self._sql.unreserve, self._unreserve_params(key, token))

    async def _achanged(self, query: sql.Composed, params: dict[str, Any] | None) -> bool:
        """The asynchronous form of :meth:`PostgresNonceStore._changed`."""
        if params is None:
            return False
        async with self._lock:
            await self._settle()
            return (await self._call(query, params)).rowcount == 1

    async def count(self) -> int:
        """The number of rows in the table, expired ones not yet purged included."""
        async with self._lock:
            row = await (await self._call(self._sql.count, {})).fetchone()
        return self._row_count(row)

    async def aclose(self) -> None:
        """Close the connection (the next call opens a new one)."""
        async with self._lock:
            await self._discard()
