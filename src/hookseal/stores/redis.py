"""Redis nonce stores: one replay record shared by every worker process and machine.

This is the only hookseal module that imports ``redis`` (install the ``redis`` extra).
:class:`RedisNonceStore` takes a synchronous ``redis.Redis`` or ``redis.cluster.RedisCluster``
and serves :meth:`hookseal.Verifier.verify`; :class:`AsyncRedisNonceStore` takes a
``redis.asyncio.Redis`` or ``redis.asyncio.cluster.RedisCluster`` and serves
:meth:`hookseal.Verifier.averify`.

Each reservation and each release is one atomic Lua script on a single key (one hash slot,
so it works on a Redis Cluster too), run with ``EVALSHA`` (``EVAL`` once if the server does not
hold it yet). A record's value is ``h<n>:<token>`` while an acceptance holds it and
``r<n>:<token>`` once released, ``n`` being how many times it was released: a reservation
writes a missing record with its expiry, re-admits a released one, and refuses a held one
(a replay), except when the record is its own write that redis-py retried after a lost reply.
A release is a compare-and-set on the acceptance's token, bounded by ``max_releases``
(see :meth:`hookseal.Verifier.release`); every worker sees the same count.

``from_url`` builds the client with a bounded wait: ``socket_timeout`` and
``socket_connect_timeout`` equal to ``timeout`` and ``retries`` immediate retries (none by
default), so a hung or unreachable Redis holds a delivery for at most
``timeout x (1 + retries)`` (twice that on a cluster, see :meth:`RedisNonceStore.from_url`).
A store built on a client of the user's own that has no timeout or more than one retry logs
one WARNING at construction.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
import os
from typing import Any, ClassVar, Generic, TypeVar

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    NoScriptError,
    OutOfMemoryError,
    RedisClusterException,
    RedisError,
)

from .._errors import ConfigurationError, NonceStoreUnavailable, Reason

__all__ = ["AsyncRedisNonceStore", "RedisNonceStore"]

logger = logging.getLogger("hookseal")

#: The synchronous clients :class:`RedisNonceStore` accepts.
SyncRedisClient = redis.Redis | redis.cluster.RedisCluster
#: The asynchronous clients :class:`AsyncRedisNonceStore` accepts.
AsyncRedisClient = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster

_ASYNC_TYPES = (redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster)
_SYNC_TYPES = (redis.Redis, redis.cluster.RedisCluster)
_PIPELINE_TYPES = (
    redis.client.Pipeline,
    redis.cluster.ClusterPipeline,
    redis.asyncio.client.Pipeline,
    redis.asyncio.cluster.ClusterPipeline,
)


#: What ``from_url`` waits for each reply or TCP connect by default, in seconds.
DEFAULT_TIMEOUT = 0.5
#: Errors of a failing Redis. ``RedisClusterException`` ("cannot be connected", "slots are
#: not covered") is not a ``RedisError``, yet it is how a cluster client reports an outage.
_STORE_ERRORS = (RedisError, RedisClusterException)
#: Client settings ``from_url`` owns: they are given as ``timeout`` and ``retries``.
_OWNED_KWARGS = frozenset(
    {
        "socket_timeout",
        "socket_connect_timeout",
        "retry",
        "retry_on_timeout",
        "retry_on_error",
        "cluster_error_retry_attempts",
    }
)
#: More immediate retries than this make the store warn about the client it was given.
_MAX_QUIET_RETRIES = 1


def _check_timeout(timeout: object) -> float:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ConfigurationError(
            "timeout must be a finite number of seconds above 0 (for example 0.5)."
        )
    return float(timeout)


def _check_retries(retries: object) -> int:
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigurationError("retries must be a whole number, 0 or more (0 by default).")
    return retries


def _check_url_and_kwargs(url: object, client_kwargs: dict[str, Any]) -> str:
    if not isinstance(url, str):
        raise ConfigurationError(f"url must be a str, not {type(url).__name__}.")
    owned = sorted(_OWNED_KWARGS.intersection(client_kwargs))
    if owned:
        raise ConfigurationError(
            f"from_url sets {', '.join(owned)} itself, to keep each delivery's wait bounded; "
            "pass timeout= and retries= instead."
        )
    return url


def _connection_kwargs(client: object) -> dict[str, Any]:
    # A synchronous cluster client connects at construction: its nodes' pools hold the
    # settings in effect (``RedisCluster(host=...)`` gives its nodes redis-py's defaults,
    # ``RedisCluster.from_url`` gives them none unless asked).
    get_nodes = getattr(client, "get_nodes", None)
    if isinstance(client, redis.cluster.RedisCluster) and callable(get_nodes):
        for node in get_nodes():
            pool = getattr(getattr(node, "redis_connection", None), "connection_pool", None)
            kwargs = getattr(pool, "connection_kwargs", None)
            if isinstance(kwargs, dict):
                return kwargs
    for owner in (getattr(client, "connection_pool", None), getattr(client, "nodes_manager", None)):
        kwargs = getattr(owner, "connection_kwargs", None)
        if isinstance(kwargs, dict):
            return kwargs
    return {}


def _limits(client: object) -> tuple[object, object, int | None]:
    """The client's ``(socket_timeout, socket_connect_timeout, retries)`` in effect.

    ``retries`` is None when the client does not say (an unknown client type).
    """
    kwargs = _connection_kwargs(client)
    # Cluster clients retry at the cluster level (``client.retry``); their nodes never do.
    if hasattr(client, "nodes_manager"):
        retry = getattr(client, "retry", None)
    else:
        retry = kwargs.get("retry")
    get_retries = getattr(retry, "get_retries", None)
    retries = get_retries() if callable(get_retries) else None
    if retry is None and kwargs:
        retries = 0  # redis-py gives a connection without a Retry object no retries
    return (
        kwargs.get("socket_timeout"),
        kwargs.get("socket_connect_timeout"),
        retries if isinstance(retries, int) else None,
    )


def _warn_if_unbounded(store: str, client: object) -> None:
    """Log one WARNING when ``client`` can hold a delivery for long when Redis hangs."""
    timeout, connect_timeout, retries = _limits(client)
    problems = []
    if timeout is None:
        problems.append("no socket_timeout (a hung Redis holds a delivery indefinitely)")
    if connect_timeout is None:
        problems.append(
            "no socket_connect_timeout (an unreachable Redis holds a delivery "
            "for the operating system's connect timeout)"
        )
    if retries is not None and retries > _MAX_QUIET_RETRIES:
        problems.append(f"{retries} retries per command (each waits for its own timeout)")
    if not problems:
        return
    logger.warning(
        "hookseal: the Redis client given to %s has %s, so while Redis hangs a delivery "
        "can wait far longer than one socket timeout before its 503. "
        "%s.from_url(url, timeout=0.5) builds a client that waits at most "
        "timeout x (1 + retries).",
        store,
        "; ".join(problems),
        store,
    )


def _check_built(client: object, timeout: float, retries: int) -> None:
    got_timeout, got_connect, got_retries = _limits(client)
    if got_timeout != timeout or got_connect != timeout or got_retries != retries:
        raise ConfigurationError(
            "The Redis URL's query string overrides the wait from_url sets "
            "(socket_timeout, socket_connect_timeout or retries); remove those options "
            "from the URL and pass timeout= and retries= instead."
        )


def _ttl_ms(expires_at: float, now: float) -> int:
    """Milliseconds from ``now`` to ``expires_at``, rounded up, at least 1."""
    if not (math.isfinite(expires_at) and math.isfinite(now)):
        raise NonceStoreUnavailable("The replay-store expiry is not a finite time.")
    return max(1, math.ceil((expires_at - now) * 1000))


def _new_token() -> str:
    # Per reservation, from the OS (fork-safe): identifies this store's own write if the
    # client retried a SET whose first attempt landed but whose reply was lost.
    return os.urandom(16).hex()


#: KEYS[1]: the record; ARGV: the value to write (h0:<token>), the expiry in ms, the token.
#: Returns 1 when the delivery may proceed (new, re-admitted, or this very write retried).
_RESERVE = """
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
local state, n, token = string.match(v, '^([hr])(%d+):(.*)$')
if state == 'h' then
  if token == ARGV[3] then return 1 end
  return 0
end
if state == 'r' then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < tonumber(ARGV[2]) then ttl = tonumber(ARGV[2]) end
  redis.call('SET', KEYS[1], 'h' .. n .. ':' .. ARGV[3], 'PX', ttl)
  return 1
end
return 0
"""
#: The start of the scripts that change the record a token (ARGV[1]) holds: they go on only
#: when the record exists and is held ('h') by exactly that token, else answer 0.
_IF_HELD = """
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local state, n, token = string.match(v, '^([hr])(%d+):(.*)$')
if state ~= 'h' or token ~= ARGV[1] then return 0 end
"""
#: KEYS[1]: the record; ARGV: the token, max_releases. Returns 1 when released.
_RELEASE = (
    _IF_HELD
    + """n = tonumber(n)
if n >= tonumber(ARGV[2]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
redis.call('SET', KEYS[1], 'r' .. (n + 1) .. ':' .. token, 'PX', ttl)
return 1
"""
)
#: KEYS[1]: the record; ARGV: the token. Undoes that reservation: a first admission is
#: deleted, a re-admission becomes released again (its count unchanged). Returns 1 if undone.
_UNRESERVE = (
    _IF_HELD
    + """if n == '0' then
  redis.call('DEL', KEYS[1])
  return 1
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
redis.call('SET', KEYS[1], 'r' .. n .. ':' .. token, 'PX', ttl)
return 1
"""
)
_UNRESERVE_SHA = hashlib.sha1(_UNRESERVE.encode()).hexdigest()  # noqa: S324 - a script id
_RESERVE_SHA = hashlib.sha1(_RESERVE.encode()).hexdigest()  # noqa: S324 - Redis's script id
_RELEASE_SHA = hashlib.sha1(_RELEASE.encode()).hexdigest()  # noqa: S324 - Redis's script id


def _token_text(token: bytes | None) -> str:
    return token.hex() if token is not None else _new_token()


def _run(client: Any, script: str, sha: str, name: str, *args: object) -> Any:
    """EVALSHA, falling back to EVAL once when the server does not hold the script yet."""
    try:
        return client.evalsha(sha, 1, name, *args)
    except NoScriptError:
        return client.eval(script, 1, name, *args)


async def _arun(client: Any, script: str, sha: str, name: str, *args: object) -> Any:
    try:
        return await _awaited(client.evalsha(sha, 1, name, *args))
    except NoScriptError:
        return await _awaited(client.eval(script, 1, name, *args))


#: A script, its SHA-1, the record's name and the script's other arguments (for ``_run``).
_Script = tuple[Any, ...]
_Client = TypeVar("_Client")
_Store = TypeVar("_Store", bound="_RedisStoreBase[Any]")


class _RedisStoreBase(Generic[_Client]):
    """Construction, key naming, expiry, replies and failure policy shared by both stores.

    A subclass names its clients (:attr:`_CLIENTS`, :attr:`_RETRY`) and the clients it
    refuses (:attr:`_OTHER_CLIENTS`, :attr:`_OTHER_CLIENT_ADVICE`); its methods differ from
    the other store's only in how they call Redis (``_run`` or ``await _arun``).
    """

    #: The clients ``from_url`` builds: ``(single node, cluster)``.
    _CLIENTS: ClassVar[tuple[Any, Any]]
    #: The ``Retry`` class those clients take.
    _RETRY: ClassVar[Any]
    #: The other store's clients, refused by the constructor with :attr:`_OTHER_CLIENT_ADVICE`.
    _OTHER_CLIENTS: ClassVar[tuple[type, ...]]
    _OTHER_CLIENT_ADVICE: ClassVar[str]

    def __init__(
        self,
        client: _Client,
        *,
        prefix: str = "hookseal:",
        fail_open: bool = False,
    ) -> None:
        given: object = client
        if isinstance(given, self._OTHER_CLIENTS):
            raise ConfigurationError(self._OTHER_CLIENT_ADVICE)
        self._setup(client, prefix=prefix, fail_open=fail_open, warn=True)

    def _setup(self, client: Any, *, prefix: str, fail_open: bool, warn: bool) -> None:
        if not isinstance(prefix, str):
            raise ConfigurationError(f"prefix must be a str, not {type(prefix).__name__}.")
        if not isinstance(fail_open, bool):
            raise ConfigurationError("fail_open must be True or False.")
        if isinstance(client, _PIPELINE_TYPES):
            raise ConfigurationError(
                "client is a pipeline: its commands are only queued, so no reservation could "
                "ever be answered. Pass the redis-py client itself."
            )
        if not callable(getattr(client, "evalsha", None)) or not callable(
            getattr(client, "eval", None)
        ):
            raise ConfigurationError(
                f"client must be a redis-py client, not {type(client).__name__}."
            )
        self._client = client
        self.prefix = prefix
        self.fail_open = fail_open
        if warn:
            _warn_if_unbounded(type(self).__name__, client)

    @classmethod
    def from_url(
        cls: type[_Store],
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 0,
        cluster: bool = False,
        prefix: str = "hookseal:",
        fail_open: bool = False,
        **client_kwargs: Any,
    ) -> _Store:
        """A store on a new client for ``url`` whose waits are bounded by ``timeout``.

        The client (a ``redis.asyncio`` one for :class:`AsyncRedisNonceStore`) gets
        ``socket_timeout`` and ``socket_connect_timeout`` equal to ``timeout`` and
        ``retries`` immediate retries (no backoff). While Redis hangs or is unreachable, each
        store call then waits at most ``timeout x (1 + retries)`` before the delivery is
        refused with :class:`~hookseal.NonceStoreUnavailable` (503): 0.5 s with the
        defaults. A server that answers each command just under ``timeout`` can take longer
        (each reply has its own timeout, and a new connection sends a handshake first).

        With ``cluster=True`` the client is a ``redis.cluster.RedisCluster``, which connects
        at once (it raises redis-py's error if no node answers), or for
        :class:`AsyncRedisNonceStore` a ``redis.asyncio.cluster.RedisCluster``, which
        connects on first use. After a failed attempt it refreshes the cluster's layout
        before the error reaches hookseal, asking the known nodes one at a time (the failed
        node last), each within ``timeout`` (after a ``CLUSTERDOWN`` reply it first sleeps
        0.25 s). With one node hung, a store call waits at most ``2 x timeout x (1 +
        retries)`` (1 s by default); with every node hung, up to ``(1 + nodes) x timeout x
        (1 + retries)``.

        Args:
            url: ``redis://``, ``rediss://`` (TLS) or ``unix://`` (not for a cluster), with
                credentials as usual. Its query string must not set the timeouts.
            timeout: seconds to wait for each reply and each TCP connect.
            retries: immediate retries of a command that failed to connect or timed out;
                redis-py's retry of a SET whose reply was lost is safe for this store.
            cluster: build a ``redis.cluster.RedisCluster`` (Redis Cluster, or a managed
                service's cluster-mode endpoint) instead of a ``redis.Redis``.
            prefix: as for the constructor.
            fail_open: as for the constructor.
            **client_kwargs: passed on to redis-py's ``from_url`` (``username``,
                ``ssl_ca_certs``, ``max_connections``...), except the timeout and retry
                settings, which ``timeout`` and ``retries`` set.

        Raises:
            ConfigurationError: for a ``timeout`` that is not a positive finite number, a
                negative ``retries``, a timeout or retry setting in ``client_kwargs`` or in
                the URL's query string, or a URL redis-py cannot parse.
        """
        timeout = _check_timeout(timeout)
        retries = _check_retries(retries)
        url = _check_url_and_kwargs(url, client_kwargs)
        if not isinstance(cluster, bool):
            raise ConfigurationError("cluster must be True or False.")
        factory = cls._CLIENTS[cluster]
        try:
            client = factory.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=cls._RETRY(NoBackoff(), retries),
                **client_kwargs,
            )
        except ValueError as exc:
            raise _bad_url(exc) from None
        try:
            _check_built(client, timeout, retries)
        except ConfigurationError:
            cls._close_refused(client)
            raise
        # The bound was chosen with timeout= and retries=: no warning about the client.
        store = cls.__new__(cls)
        store._setup(client, prefix=prefix, fail_open=fail_open, warn=False)
        return store

    @staticmethod
    def _close_refused(client: Any) -> None:
        """Close a client ``from_url`` built and then refused."""
        client.close()

    @property
    def client(self) -> Any:
        """The redis-py client this store uses (for example, to close it at shutdown)."""
        return self._client

    def key_name(self, key: bytes) -> str:
        """The Redis key recording ``key``: the prefix followed by the key in hex."""
        return self.prefix + key.hex()

    def _reserve_script(
        self, key: bytes, expires_at: float, now: float, token: bytes | None
    ) -> _Script:
        """The reservation's script and arguments (``expires_at`` and ``now`` checked)."""
        name = self.key_name(key)
        ttl = _ttl_ms(expires_at, now)
        text = _token_text(token)
        return (_RESERVE, _RESERVE_SHA, name, f"h0:{text}", ttl, text)

    def _release_script(self, key: bytes, token: bytes, max_releases: int) -> _Script | None:
        """The release's script and arguments; None when the store fails open."""
        if self.fail_open:
            return None
        return (_RELEASE, _RELEASE_SHA, self.key_name(key), token.hex(), max_releases)

    def _unreserve_script(self, key: bytes, token: bytes) -> _Script | None:
        """The unreserve's script and arguments; None when the store fails open."""
        if self.fail_open:
            return None
        return (_UNRESERVE, _UNRESERVE_SHA, self.key_name(key), token.hex())

    def _unavailable(self, exc: Exception) -> bool:
        name = type(exc).__name__
        if self.fail_open:
            logger.warning(
                "hookseal: FAIL OPEN: the Redis nonce store failed (%s); this delivery is "
                "ACCEPTED WITHOUT REPLAY PROTECTION because fail_open=True.",
                name,
            )
            return True
        # Redis at maxmemory with the noeviction policy: full, like a full MemoryNonceStore.
        reason: Reason | None = "nonce_store_full" if isinstance(exc, OutOfMemoryError) else None
        raise NonceStoreUnavailable(
            f"The Redis replay store failed ({name}), so the delivery cannot be recorded "
            "and is refused (fail closed). Check that Redis is reachable and healthy.",
            reason=reason,
        ) from exc

    def _verdict(self, reply: object) -> bool:
        """Judge the script's reply: 1, the delivery may proceed; 0, a replay."""
        if reply == 1:
            return True
        if reply == 0:
            return False
        raise self._unexpected(reply)

    def _release_failed(self, exc: Exception) -> NonceStoreUnavailable:
        return NonceStoreUnavailable(
            f"The Redis replay store could not release an entry ({type(exc).__name__})."
        )

    @staticmethod
    def _unexpected(reply: object) -> NonceStoreUnavailable:
        return NonceStoreUnavailable(
            f"The Redis replay store gave an unexpected reply ({type(reply).__name__}) to "
            "its script; the delivery is refused."
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self.prefix!r}, fail_open={self.fail_open!r})"


class RedisNonceStore(_RedisStoreBase[SyncRedisClient]):
    """A nonce store on Redis, shared by every worker that uses the same server and prefix.

    Each :meth:`reserve` and :meth:`release` is one atomic Lua script on the record
    ``<prefix><hex key>``, which expires ``ms`` after it was written (the time left until
    the entry's expiry, rounded up, at least 1 ms): see the module's documentation.

    Build it with :meth:`from_url`, which bounds how long a hung Redis can hold a delivery.

    Args:
        client: a synchronous ``redis.Redis`` or ``redis.cluster.RedisCluster``. Give it
            short ``socket_timeout`` and ``socket_connect_timeout`` values and at most one
            retry: a slow Redis delays every delivery by up to the timeout, once per
            attempt, before it is refused. A client without a timeout, or with more than
            one retry (redis-py's default is 10), gets one WARNING at construction.
        prefix: prepended to every key. Use one prefix per endpoint (per verifier), e.g.
            ``"hookseal:github:"``, so that two endpoints never share records.
        fail_open: if Redis is unreachable, times out or answers with an error, accept the
            delivery with a WARNING on the ``hookseal`` logger instead of refusing it with
            :class:`~hookseal.NonceStoreUnavailable` (503). Off by default: with it on, an
            attacker who can make Redis unavailable can replay captured deliveries.

    Raises:
        ConfigurationError: for an asynchronous client (use :class:`AsyncRedisNonceStore`),
            a non-str prefix or a non-bool ``fail_open``.
    """

    _CLIENTS = (redis.Redis, redis.cluster.RedisCluster)
    _RETRY = redis.retry.Retry
    _OTHER_CLIENTS = _ASYNC_TYPES
    _OTHER_CLIENT_ADVICE = (
        "RedisNonceStore needs a synchronous redis.Redis client; for a "
        "redis.asyncio client use AsyncRedisNonceStore with Verifier.averify."
    )

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """Record ``key`` until ``expires_at`` unless a live record holds it (see NonceStore).

        One script: a missing record is written, a released one re-admitted, a held one
        refused. An ``expires_at`` at or before ``now`` still goes through the script with the
        minimum expiry of 1 ms, so a live record is still reported as a replay.
        """
        script = self._reserve_script(key, expires_at, now, token)
        try:
            reply = _run(self._client, *script)
        except _STORE_ERRORS as exc:
            return self._unavailable(exc)
        if inspect.isawaitable(reply):  # an asynchronous client: never awaited, so close it
            _close(reply)
            raise self._unexpected(reply)
        return self._verdict(reply)

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """Release the record ``token`` holds, at most ``max_releases`` times (one script).

        Returns False, changing nothing, when the store fails open: a delivery accepted while
        Redis was failing has no record of its own, and the record under its key belongs to
        an earlier acceptance of the same bytes, which must stay.

        Raises:
            NonceStoreUnavailable: when Redis fails (the verifier logs it and carries on).
        """
        return self._released(self._release_script(key, token, max_releases))

    def unreserve(self, key: bytes, token: bytes) -> bool:
        """Undo the reservation ``token`` made (one script; see ``NonceStore.unreserve``)."""
        return self._released(self._unreserve_script(key, token))

    def _released(self, script: _Script | None) -> bool:
        """Run a release or unreserve script (None: failing open, nothing to run)."""
        if script is None:
            return False
        try:
            reply = _run(self._client, *script)
        except _STORE_ERRORS as exc:
            raise self._release_failed(exc) from exc
        return bool(reply == 1)


class AsyncRedisNonceStore(_RedisStoreBase[AsyncRedisClient]):
    """The asynchronous form of :class:`RedisNonceStore`, for :meth:`hookseal.Verifier.averify`.

    Build it with :meth:`from_url`, which bounds how long a hung Redis can hold a delivery.

    Args:
        client: a ``redis.asyncio.Redis`` or ``redis.asyncio.cluster.RedisCluster``, with
            short timeouts and at most one retry, as for :class:`RedisNonceStore`.
        prefix: as for :class:`RedisNonceStore`.
        fail_open: as for :class:`RedisNonceStore`.

    Raises:
        ConfigurationError: for a synchronous client (use :class:`RedisNonceStore`), a
            non-str prefix or a non-bool ``fail_open``.
    """

    _CLIENTS = (redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster)
    _RETRY = redis.asyncio.retry.Retry
    _OTHER_CLIENTS = _SYNC_TYPES
    _OTHER_CLIENT_ADVICE = (
        "AsyncRedisNonceStore needs a redis.asyncio client; for a synchronous "
        "redis.Redis client use RedisNonceStore."
    )

    @staticmethod
    def _close_refused(client: Any) -> None:
        """Nothing: an asynchronous client connects on first use, so a refused one holds none."""

    async def areserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """Record ``key`` until ``expires_at`` unless a live record holds it (see NonceStore)."""
        script = self._reserve_script(key, expires_at, now, token)
        try:
            reply = await _arun(self._client, *script)
            return self._verdict(reply)
        except _STORE_ERRORS as exc:
            return self._unavailable(exc)

    async def arelease(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """The asynchronous form of :meth:`RedisNonceStore.release`.

        Raises:
            NonceStoreUnavailable: when Redis fails (the verifier logs it and carries on).
        """
        return await self._areleased(self._release_script(key, token, max_releases))

    async def aunreserve(self, key: bytes, token: bytes) -> bool:
        """The asynchronous form of :meth:`RedisNonceStore.unreserve`."""
        return await self._areleased(self._unreserve_script(key, token))

    async def _areleased(self, script: _Script | None) -> bool:
        """The asynchronous form of :meth:`RedisNonceStore._released`."""
        if script is None:
            return False
        try:
            reply = await _arun(self._client, *script)
        except _STORE_ERRORS as exc:
            raise self._release_failed(exc) from exc
        return bool(reply == 1)


def _bad_url(exc: Exception) -> ConfigurationError:
    # Only the exception's class: the message could quote the URL and its password.
    return ConfigurationError(
        f"redis-py could not use the Redis URL ({type(exc).__name__}); expected "
        "redis://[user:password@]host[:port][/db], rediss://... or unix://..."
    )


async def _awaited(pending: object) -> object:
    if not inspect.isawaitable(pending):
        raise _RedisStoreBase._unexpected(pending)
    return await pending


def _close(awaitable: object) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()
