"""Verifier: the fixed sequence of checks every delivery goes through."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import urllib.parse
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Protocol

from ._delivery import Delivery, Verified, mark_recorded, set_client_addr, take_record
from ._errors import (
    ConfigurationError,
    NonceStoreUnavailable,
    PayloadTooLarge,
    ReplayedDelivery,
    VerificationError,
)
from ._events import EventSink, VerificationEvent, escape_for_log, log_event
from ._handshake import HandshakeReply, HandshakeRequest
from ._headers import Headers
from ._keys import Secrets
from ._limits import Limits
from ._workers import several_workers
from .schemes.base import Scheme
from .stores.base import AsyncReservingStore, ReservingStore
from .stores.memory import MemoryNonceStore

if TYPE_CHECKING:
    from .schemes.base import FastCheck

__all__ = ["AddressPolicy", "Verifier"]

logger = logging.getLogger("hookseal")


# The clock of every verifier built without ``clock=``; the ``frozen_clock`` fixture swaps it.
_default_clock: Callable[[], float] = time.time


def default_clock() -> float:
    """The time, in Unix seconds, that verifiers without their own ``clock`` read."""
    return _default_clock()


def set_default_clock(clock: Callable[[], float] | None) -> None:
    """Make verifiers without their own ``clock`` read ``clock`` (None: the system clock)."""
    global _default_clock  # noqa: PLW0603 - the one process-wide default, by design
    _default_clock = time.time if clock is None else clock


def _new_token() -> bytes:
    """A random token naming one acceptance, so that only it can release its records.

    Random per acceptance, never derived from process state: workers forked without Python's
    fork hooks (uWSGI's default) or restored from one snapshot must never share tokens, or
    one worker's undo could remove the record another's acceptance holds.
    """
    return os.urandom(16)


class AddressPolicy(Protocol):
    """What ``Verifier(allowlist=...)`` needs, e.g. :class:`hookseal.network.IPAllowlist`."""

    def check(self, remote_addr: str | None, headers: Mapping[str, str]) -> object:
        """Return the resolved client address, or raise ForbiddenAddress."""


class _Default:
    def __repr__(self) -> str:
        return "<per-process MemoryNonceStore>"


DEFAULT_STORE: Any = _Default()
_warned_default_store = False
_default_store: MemoryNonceStore | None = None
_default_store_lock = threading.Lock()


def default_nonce_store() -> MemoryNonceStore:
    """The process-wide store every :class:`Verifier` built without ``nonce_store`` shares.

    Sharing it means a verifier built per request (a common mistake) still refuses replays
    within the process: its records do not vanish with the verifier. Replay keys are digests
    of what each secret signed, so verifiers of different endpoints never collide in it.
    """
    global _default_store  # noqa: PLW0603
    store = _default_store
    if store is None:
        with _default_store_lock:
            if _default_store is None:
                _default_store = MemoryNonceStore()
            store = _default_store
    return store


def reset_default_nonce_store() -> None:
    """Forget every record of the shared default store (for test isolation only).

    The pytest plugin (``hookseal.testing``) calls it before each test, so a delivery one test
    accepted is not refused as a replay in the next.
    """
    global _default_store  # noqa: PLW0603
    with _default_store_lock:
        _default_store = None


def _warn_default_store_once() -> None:
    global _warned_default_store  # noqa: PLW0603
    if _warned_default_store:
        return
    _warned_default_store = True
    server = several_workers()
    if server is not None:
        # Each worker has a store of its own: a delivery accepted by one is accepted again
        # by another. Said once per process, at WARNING, which default logging shows.
        logger.warning(
            "hookseal: this process is one of several workers (%s), and replay protection "
            "uses the per-process default store, so a replayed delivery sent to another "
            "worker is accepted. Pass a shared store: SQLiteNonceStore (one machine, no "
            "server), RedisNonceStore or PostgresNonceStore (hookseal.stores).",
            server,
        )
        return
    logger.info(
        "hookseal: replay protection uses a per-process MemoryNonceStore. With several "
        "worker processes or machines, pass a shared store (hookseal.stores: SQLite for one "
        "machine, Redis or PostgreSQL for several) so a delivery accepted by one worker is "
        "refused by the others."
    )


class Verifier:
    """Verify webhook deliveries for one scheme with one or more secrets.

    Args:
        scheme: the sender's signing scheme, e.g. ``StandardWebhooks()`` or ``GitHub()``.
        secrets: one secret or a list of them; during rotation list old and new, and any one
            may match (the newest, listed last, is tried first).
        tolerance: seconds a signed timestamp may be old or in the future (default 300): the
            default of ``max_age`` and ``max_future``.
        max_age: seconds a signed timestamp may be old (default: ``tolerance``). Replay
            records of timestamped deliveries live until ``timestamp + max_age``.
        max_future: seconds a signed timestamp may be ahead of this server's clock, the
            clock skew allowed (default: ``tolerance``; 0 refuses any future timestamp).
        max_body_bytes: the largest body accepted. By default the scheme's
            ``default_max_body_bytes`` (the most its provider documents sending, e.g. 25 MiB
            for GitHub), else 1 MiB; see each provider's page.
        max_header_bytes: the longest header value accepted (default 4096).
        max_signatures: the most signatures in one header (default 8).
        max_id_length: the longest message id accepted (default 256).
        nonce_store: where accepted deliveries are recorded to refuse replays. By default a
            per-process :class:`~hookseal.replay.MemoryNonceStore`; pass a shared store for
            several workers, or ``None`` to turn replay protection off explicitly.
        replay_retention: seconds a delivery is remembered when the scheme signs no
            timestamp (GitHub, Shopify, Twilio): their replay bound is this retention.
        max_releases: how many times one delivery may be accepted again after its handler
            failed (see :meth:`release`; default 3, counted in the nonce store; 0 never).
        allowlist: an :class:`~hookseal.network.IPAllowlist` checked before any signature work.
        on_event: called with a :class:`VerificationEvent` after every verification; by
            default rejections are logged on the ``hookseal`` logger. A failing callback never
            changes the verdict.
        clock: returns the current Unix time; by default the system clock. Tests use
            :class:`hookseal.testing.FrozenClock`.

    Raises:
        ConfigurationError: for any configuration mistake, at construction.

    The configuration is read-only once built (assigning an attribute raises
    ``AttributeError``): the checks are prepared from it.
    """

    __slots__ = (
        "__weakref__",
        "_allowlist",
        "_answers_handshakes",
        "_answers_unsigned_handshakes",
        "_aprepare",
        "_async_reserve",
        "_clock",
        "_custom_sink",
        "_fast_check",
        "_keys",
        "_limits",
        "_max_releases",
        "_nonce_store",
        "_on_event",
        "_releasable",
        "_replay_retention",
        "_scheme",
        "_sink_failure_logged",
        "_sync_in_async",
        "_sync_reserve",
    )
    _allowlist: AddressPolicy | None
    _answers_handshakes: bool
    _answers_unsigned_handshakes: bool
    _async_reserve: Callable[..., Awaitable[bool]] | None
    _clock: Callable[[], float] | None
    _custom_sink: bool
    _fast_check: FastCheck | None
    _aprepare: Callable[..., Awaitable[None]] | None
    _sync_in_async: bool
    _keys: tuple[Any, ...]
    _max_releases: int
    _nonce_store: Any
    _on_event: EventSink
    _limits: Limits
    _releasable: bool
    _replay_retention: int
    _scheme: Scheme
    _sink_failure_logged: bool
    _sync_reserve: Callable[..., bool] | None

    def __init__(
        self,
        scheme: Scheme,
        secrets: Secrets,
        *,
        tolerance: int = 300,
        max_body_bytes: int | None = None,
        max_header_bytes: int = 4096,
        max_signatures: int = 8,
        max_id_length: int = 256,
        max_age: int | None = None,
        max_future: int | None = None,
        nonce_store: ReservingStore | AsyncReservingStore | None = DEFAULT_STORE,
        replay_retention: int = 86400,
        max_releases: int = 3,
        allowlist: AddressPolicy | None = None,
        on_event: EventSink | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "_scheme", _checked_scheme(scheme))
        set_(
            self,
            "_limits",
            Limits(
                tolerance=tolerance,
                # None: the scheme's documented default, else the generic 1 MiB (Limits).
                max_body_bytes=(
                    scheme.default_max_body_bytes if max_body_bytes is None else max_body_bytes
                ),
                max_header_bytes=max_header_bytes,
                max_signatures=max_signatures,
                max_id_length=max_id_length,
                max_age=max_age,
                max_future=max_future,
            ),
        )
        set_(self, "_keys", _loaded_keys(scheme, secrets))
        set_(self, "_replay_retention", _count("replay_retention", replay_retention, minimum=1))
        set_(self, "_max_releases", _count("max_releases", max_releases, minimum=0))
        nonce_store = _checked_store(nonce_store)
        set_(self, "_nonce_store", nonce_store)
        # A store that can release records gets a token per acceptance (protocol v2).
        set_(
            self,
            "_releasable",
            callable(getattr(nonce_store, "release", None))
            or callable(getattr(nonce_store, "arelease", None)),
        )
        set_(self, "_sync_reserve", getattr(nonce_store, "reserve", None))
        set_(self, "_async_reserve", getattr(nonce_store, "areserve", None))
        if allowlist is not None and not callable(getattr(allowlist, "check", None)):
            raise ConfigurationError("allowlist must be an IPAllowlist (or have a check method).")
        set_(self, "_allowlist", allowlist)
        set_(self, "_on_event", _optional_callable("on_event", on_event) or log_event)
        set_(self, "_custom_sink", on_event is not None)
        set_(self, "_sink_failure_logged", False)
        set_(self, "_clock", _optional_callable("clock", clock))
        # The scheme's check prepared for these keys and limits, tried first on every delivery
        # (after the allowlist, when there is one); it accepts or declines, never refuses.
        set_(self, "_fast_check", _prepared_fast_check(scheme, self._keys, self._limits))
        # Which handshakes the scheme answers: one whose method (on its class or set on the
        # instance before it was frozen) is Scheme's own answers none.
        set_(self, "_answers_handshakes", _replaces(scheme, "handshake_reply"))
        set_(self, "_answers_unsigned_handshakes", _replaces(scheme, "unsigned_handshake_reply"))
        # Called by averify only for a scheme that has something to obtain first.
        prepares = _defining_class(type(scheme), "aprepare") is not Scheme
        set_(self, "_aprepare", scheme.aprepare if prepares else None)
        # Whether averify may run verify itself: nothing it would await could block.
        set_(
            self,
            "_sync_in_async",
            not prepares
            and (
                nonce_store is None
                or (
                    getattr(nonce_store, "reserve_blocks", True) is False
                    and callable(getattr(nonce_store, "reserve", None))
                )
            ),
        )

    # -- configuration (read-only: the checks were prepared from it) ---------------------

    @property
    def scheme(self) -> Scheme:
        """The scheme this verifier checks deliveries with."""
        return self._scheme

    @property
    def limits(self) -> Limits:
        """The limits and tolerance (read-only)."""
        return self._limits

    @property
    def policy(self) -> Limits:
        """Deprecated alias of :attr:`limits` (renamed in 0.2; removed in 0.3)."""
        warnings.warn(
            "Verifier.policy is deprecated: use Verifier.limits (the same object).",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._limits

    @property
    def nonce_store(self) -> Any:
        """Where accepted deliveries are recorded, or None when replay protection is off."""
        return self._nonce_store

    @property
    def allowlist(self) -> AddressPolicy | None:
        """The address policy checked before any signature work, or None."""
        return self._allowlist

    @property
    def answers_handshakes(self) -> bool:
        """Whether the scheme has a signed handshake (:meth:`handshake_reply` may reply).

        When False, :meth:`handshake_reply` always returns None: adapters skip asking.
        """
        return self._answers_handshakes

    @property
    def answers_unsigned_handshakes(self) -> bool:
        """Whether the scheme has an unsigned handshake (:meth:`unsigned_handshake_reply`).

        When False, :meth:`unsigned_handshake_reply` always returns None: adapters skip
        building its arguments (the headers and the query) on every request.
        """
        return self._answers_unsigned_handshakes

    @property
    def replay_retention(self) -> int:
        """Seconds a delivery is remembered when its scheme signs no timestamp."""
        return self._replay_retention

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(
            f"Verifier.{name} cannot be set: a Verifier's configuration is read-only, because "
            "its checks are prepared from it at construction. Build a new Verifier instead."
        )

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def __copy__(self) -> Verifier:
        return self  # read-only: a copy would be the same verifier

    def __deepcopy__(self, memo: object) -> Verifier:
        # Frameworks deep-copy their configuration (Litestar copies routers): a copied
        # verifier must keep the same nonce store, or the copies would not see each other's
        # deliveries.
        return self

    # -- synchronous -------------------------------------------------------------------

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        url: str | None = None,
        method: str | None = None,
        remote_addr: str | None = None,
        now: float | None = None,
    ) -> Verified:
        """Verify one delivery and return the :class:`Verified` result.

        Args:
            body: the raw request body, exactly the bytes that arrived.
            headers: the request headers (any name case); a list of ``(name, value)`` pairs
                or a :class:`~hookseal.Headers` lets repeated header lines be refused.
            url: the full request URL, for schemes that sign it (Twilio, RFC 9421).
            method: the HTTP method, for schemes that sign it (RFC 9421).
            remote_addr: the socket peer address, for the allowlist.
            now: the current time in Unix seconds (default: the system clock).

        Raises:
            VerificationError: a subclass saying why the delivery was refused.
        """
        # The default sink never reads the duration: time only for a custom sink.
        started = time.perf_counter() if self._custom_sink else 0.0
        if now is None:
            now = _default_clock() if self._clock is None else self._clock()
        try:
            # Size and address first, then the scheme's checks (averify: the same steps).
            body, header_map, client = self._admit(body, headers, remote_addr)
            verified = self._scheme_check(body, header_map, url, method, client, now)
            if self._nonce_store is not None:
                self._reserve(verified, now)
        except VerificationError as exc:
            self._emit_rejection(exc, headers, remote_addr, started)
            raise
        if self._custom_sink or logger.isEnabledFor(logging.DEBUG):
            self._emit_acceptance(verified, remote_addr, started)
        return verified

    def verify_delivery(self, delivery: Delivery, *, now: float | None = None) -> Verified:
        """Verify a :class:`~hookseal.Delivery` built by an adapter."""
        return self.verify(
            delivery.body,
            delivery.headers,
            url=delivery.url,
            method=delivery.method,
            remote_addr=delivery.remote_addr,
            now=now,
        )

    # -- asynchronous ------------------------------------------------------------------

    async def averify(
        self,
        body: bytes,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        url: str | None = None,
        method: str | None = None,
        remote_addr: str | None = None,
        now: float | None = None,
    ) -> Verified:
        """Like :meth:`verify`, but awaits the nonce store's ``areserve`` (no blocking I/O).

        With nothing that could block (no store, or one that declares ``reserve_blocks =
        False``, such as :class:`~hookseal.stores.memory.MemoryNonceStore`, and a scheme with
        nothing to download first) it is :meth:`verify`, without a coroutine's overhead.
        """
        if self._sync_in_async:
            return self.verify(
                body, headers, url=url, method=method, remote_addr=remote_addr, now=now
            )
        started = time.perf_counter()
        if now is None:
            now = _default_clock() if self._clock is None else self._clock()
        try:
            # Size and address first: a refused peer or body starts no download.
            body, header_map, client = self._admit(body, headers, remote_addr)
            if self._aprepare is not None:
                await self._aprepare(body, header_map, self._keys, self._limits, now)
            verified = self._scheme_check(body, header_map, url, method, client, now)
            if self._nonce_store is not None:
                await self._areserve(verified, now)
        except VerificationError as exc:
            self._emit_rejection(exc, headers, remote_addr, started)
            raise
        if self._custom_sink or logger.isEnabledFor(logging.DEBUG):
            self._emit_acceptance(verified, remote_addr, started)
        return verified

    async def averify_delivery(self, delivery: Delivery, *, now: float | None = None) -> Verified:
        """The asynchronous form of :meth:`verify_delivery`."""
        return await self.averify(
            delivery.body,
            delivery.headers,
            url=delivery.url,
            method=delivery.method,
            remote_addr=delivery.remote_addr,
            now=now,
        )

    # -- releasing a reservation -----------------------------------------------------------

    # -- subscription handshakes --------------------------------------------------------

    def handshake_reply(self, verified: Verified) -> HandshakeReply | None:
        """The reply to send instead of calling the handler, when ``verified`` is a handshake.

        Call it after :meth:`verify` accepted the delivery (the adapters do): Slack's
        ``url_verification``, Discord's PING, Zoom's ``endpoint.url_validation``, Twitch's
        callback verification and Amazon SNS's subscription confirmation are signed like any
        delivery, so only the provider can trigger the reply. None for every other delivery.
        """
        if not self._answers_handshakes:
            return None
        return self._scheme.handshake_reply(verified, self._keys)

    async def ahandshake_reply(self, verified: Verified) -> HandshakeReply | None:
        """:meth:`handshake_reply` for async code: a reply that does I/O runs in a thread."""
        if not self._answers_handshakes:
            return None
        if self._scheme.handshake_blocks:
            return await asyncio.to_thread(self._scheme.handshake_reply, verified, self._keys)
        return self._scheme.handshake_reply(verified, self._keys)

    def unsigned_handshake_reply(
        self,
        method: str,
        query: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        remote_addr: str | None = None,
    ) -> HandshakeReply | None:
        """The reply to an unsigned handshake request (``GET ?challenge=...``), or None.

        Call it before verifying (the adapters do). The scheme answers only what its
        provider's rules authenticate (Meta's verify token) or what proves and commits nothing
        (an echoed challenge); None means: verify the request as a delivery.

        Args:
            method: the HTTP method.
            query: the raw query string (without ``?``).
            headers: the request headers.
            remote_addr: the socket peer address. With an allowlist, a peer it refuses gets
                no reply: the request is then verified, and refused, like any delivery.
        """
        if not self._answers_unsigned_handshakes:
            return None
        if len(query) > self._limits.max_header_bytes:
            return None
        if self._allowlist is not None:
            try:
                self._allowlist.check(
                    remote_addr, Headers(headers) if not isinstance(headers, Mapping) else headers
                )
            except VerificationError:
                return None
        try:
            params = urllib.parse.parse_qs(
                query, keep_blank_values=True, strict_parsing=False, max_num_fields=16
            )
        except ValueError:  # more fields than any handshake sends
            return None
        if type(headers) is not dict and not isinstance(headers, Mapping):
            headers = Headers(headers)
        request = HandshakeRequest(method.upper(), params, headers)
        return self._scheme.unsigned_handshake_reply(request, self._keys, self._limits)

    def release(self, verified: Verified, *, now: float | None = None) -> bool:
        """Release the replay record of ``verified`` because its handling failed.

        Call it when the handler could not process a delivery this verifier accepted (it
        raised, or answered 5xx), so that the sender's retry is accepted instead of refused as
        a replay. It matters for senders whose retries are byte-identical (Shopify, GitHub's
        *Redeliver*, any scheme that signs no timestamp); a re-signed retry (Stripe, Standard
        Webhooks) gets a new record anyway. The adapters call it for you
        (``release_on_error``, on by default).

        The release is bounded: the store releases the same delivery at most
        ``max_releases`` times (``Verifier(max_releases=3)`` by default), counted in the
        store itself so that every worker sees the same count; after that, the record stays
        and further copies are refused as replays, so a "poison" delivery on which the
        handler always fails cannot be processed without limit. Only the record this
        acceptance made is released (a compare-and-set on its token), once. The trade-off:
        within that bound, a released delivery can be accepted again by anyone who holds its
        bytes, not only by the sender's retry. Make the handler's side effects before a
        failure idempotent.

        Returns:
            True if the record was released; False if there was nothing to release (no nonce
            store, a store without ``release``, a store that recorded nothing, such as a Redis
            store failing open; already released, expired or past the bound; or a
            :class:`Verified` that this verifier did not record). A store failure is logged as
            a WARNING and gives False (the retry is then refused as before); it never raises,
            so it is safe in an error handler.
        """
        release = getattr(self._nonce_store, "release", None)
        if release is None:
            return False
        reservation = self._take_reservation(verified)
        if reservation is None:
            return False
        keys, token = reservation
        released = False
        try:
            for key in keys:
                released = release(key, token, self._max_releases) is True or released
        except Exception as exc:
            return self._release_failed(exc)
        return self._released(verified, released)

    async def arelease(self, verified: Verified, *, now: float | None = None) -> bool:
        """The asynchronous form of :meth:`release` (awaits the store's ``arelease``)."""
        store = self._nonce_store
        async_release = getattr(store, "arelease", None)
        release = getattr(store, "release", None)
        if async_release is None and release is None:
            return False
        reservation = self._take_reservation(verified)
        if reservation is None:
            return False
        keys, token = reservation
        released = False
        try:
            for key in keys:
                if async_release is not None:
                    done = await async_release(key, token, self._max_releases)
                else:
                    assert release is not None  # one of the two exists (checked above)
                    # A synchronous store may block on I/O: keep it off the event loop.
                    done = await asyncio.to_thread(release, key, token, self._max_releases)
                released = done is True or released
        except Exception as exc:
            return self._release_failed(exc)
        return self._released(verified, released)

    def _take_reservation(self, verified: Verified) -> tuple[tuple[bytes, ...], bytes] | None:
        """The keys and token this verifier recorded for ``verified``, taken once."""
        if not isinstance(verified, Verified):
            raise TypeError(
                "release() takes the Verified that verify() returned, not "
                f"{type(verified).__name__}."
            )
        reservation = take_record(verified, self)
        if reservation is None or reservation[2] is None:
            return None
        return reservation[1], reservation[2]

    def _released(self, verified: Verified, removed: object) -> bool:
        if removed is False:  # the store declined (e.g. it recorded nothing): not released
            return False
        logger.info(
            "hookseal: released the replay record of a delivery whose handling failed, so "
            "its retry is accepted: scheme=%s msg_id=%s",
            self.scheme.name,
            escape_for_log(verified.msg_id),
        )
        return True

    @staticmethod
    def _release_failed(exc: Exception) -> bool:
        logger.warning(
            "hookseal: the replay record of a failed delivery could not be released (%s); "
            "the sender's identical retry will be refused as a replay until it expires.",
            type(exc).__name__,
        )
        return False

    def record_rejection(self, error: VerificationError, delivery: Delivery) -> None:
        """Emit the audit event for a rejection an adapter made before calling :meth:`verify`.

        Framework adapters refuse an oversized body from its ``Content-Length``, or while
        reading it, without buffering it for the verifier; this records that rejection exactly
        as :meth:`verify` records its own (one event; the default sink logs it once).
        ``delivery.body`` is not read.
        """
        self._emit_rejection(error, delivery.headers, delivery.remote_addr, time.perf_counter())

    # -- the checks ----------------------------------------------------------------------

    def _admit(
        self,
        body: bytes,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        remote_addr: str | None,
    ) -> tuple[bytes, Mapping[str, str], str | None]:
        """The checks before any scheme work: the body's size, then the client's address."""
        if type(body) is not bytes:
            body = _as_bytes(body)
        limits = self._limits
        if len(body) > limits.max_body_bytes:
            raise _too_large(len(body), limits.max_body_bytes)
        header_map = (
            headers if type(headers) is dict or isinstance(headers, Mapping) else Headers(headers)
        )
        client = None
        if self._allowlist is not None:
            resolved = self._allowlist.check(remote_addr, header_map)
            client = resolved if isinstance(resolved, str) else None
        return body, header_map, client

    def _scheme_check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        url: str | None,
        method: str | None,
        client: str | None,
        now: float,
    ) -> Verified:
        """The scheme's checks, after :meth:`_admit`.

        The scheme's prepared fast check is tried first, from here only: it accepts or
        declines, and a declined delivery goes to the scheme's one general check, which
        makes every rejection.
        """
        try:
            fast = self._fast_check
            verified = None if fast is None else fast(body, headers, now)
            if verified is None:
                verified = self._scheme.check(
                    body, headers, self._keys, self._limits, now, url, method
                )
        except VerificationError as exc:
            exc.client_addr = client
            raise
        if client is not None:
            set_client_addr(verified, client)
        return verified

    def _reserve(self, verified: Verified, now: float) -> None:
        """Record every replay key of ``verified``, or raise (replayed, store failure).

        :meth:`_areserve` is the same steps with the store's calls awaited.
        """
        plan = self._plan(verified, now)
        if plan is None:
            return
        keys, args, token = plan
        reserve = self._sync_reserve
        if reserve is None:
            raise self._for_client(self._async_only_store(), verified)
        # Every key sent to the store, the one in flight included: a call that failed or
        # timed out may still have written its record.
        sent: list[bytes] = []
        try:
            for key in keys:
                sent.append(key)
                try:
                    fresh = reserve(key, *args)
                except VerificationError:
                    raise
                except Exception as exc:
                    raise self._store_failure(exc) from exc
                self._refuse_replay(fresh)
        except VerificationError as exc:
            self._undo(sent, token, exc)
            raise self._for_client(exc, verified) from exc.__cause__
        except BaseException:
            self._undo(sent, token, None)
            raise
        mark_recorded(verified, (self, keys, token))

    async def _areserve(self, verified: Verified, now: float) -> None:
        """:meth:`_reserve`, awaiting the store (a synchronous store runs in a thread)."""
        plan = self._plan(verified, now)
        if plan is None:
            return
        keys, args, token = plan
        reserve = self._async_reserve or _in_thread(self._sync_reserve)
        sent: list[bytes] = []
        try:
            for key in keys:
                sent.append(key)
                try:
                    fresh = await reserve(key, *args)
                except VerificationError:
                    raise
                except Exception as exc:
                    raise self._store_failure(exc) from exc
                self._refuse_replay(fresh)
        except VerificationError as exc:
            await self._aundo(sent, token, exc)
            raise self._for_client(exc, verified) from exc.__cause__
        except BaseException:
            # Cancelled (or interrupted) part-way, perhaps after the store wrote: the handler
            # will never run, so the records this call made must not block the sender's
            # retry. Shielded: a second cancellation must not interrupt the clean-up.
            await asyncio.shield(self._aundo(sent, token, None))
            raise
        mark_recorded(verified, (self, keys, token))

    def _plan(
        self, verified: Verified, now: float
    ) -> tuple[tuple[bytes, ...], tuple[float | bytes, ...], bytes | None] | None:
        """The keys to record, the arguments after each key, and the token; None: nothing.

        No keys: the scheme has nothing per delivery to record (a shared token); recording
        anything would refuse identical genuine deliveries.
        """
        keys = verified.replay_keys
        if not keys:
            return None
        timestamp = verified.timestamp
        # The time check accepts a delivery until it is max_age old (inclusive), while stores
        # treat an entry as expired once now > expires_at: keep it one second longer. A
        # scheme that signs no timestamp: the retention.
        expires_at = (
            now + self._replay_retention
            if timestamp is None
            else float(timestamp + self._limits.max_age + 1)
        )
        token = _new_token() if self._releasable else None
        args = (expires_at, now) if token is None else (expires_at, now, token)
        return keys, args, token

    def _refuse_replay(self, fresh: object) -> None:
        if not fresh:
            raise self._replayed()

    def _undo(
        self, sent: list[bytes], token: bytes | None, error: VerificationError | None
    ) -> None:
        """Undo the records of a reservation that failed part-way (not for a replay).

        Each key's record is undone only if this reservation's token holds it (a
        compare-and-set in the store), so a key whose call failed before writing, or that
        another acceptance holds, is left alone; ``unreserve`` counts no release.
        """
        if not sent or token is None or isinstance(error, ReplayedDelivery):
            # A replay: one of its keys was recorded by an earlier acceptance, and the keys
            # recorded now identify the same signed delivery. Nothing to undo.
            return
        store = self._nonce_store
        unreserve = getattr(store, "unreserve", None)
        release = getattr(store, "release", None)
        for key in sent:
            try:
                if unreserve is not None:
                    unreserve(key, token)
                elif release is not None:
                    release(key, token, self._max_releases)
            except Exception as exc:
                self._release_failed(exc)
                return

    async def _aundo(
        self, sent: list[bytes], token: bytes | None, error: VerificationError | None
    ) -> None:
        if not sent or token is None or isinstance(error, ReplayedDelivery):
            return
        store = self._nonce_store
        aunreserve = getattr(store, "aunreserve", None)
        unreserve = getattr(store, "unreserve", None)
        arelease = getattr(store, "arelease", None)
        release = getattr(store, "release", None)
        for key in sent:
            try:
                if aunreserve is not None:
                    await aunreserve(key, token)
                elif unreserve is not None:
                    await asyncio.to_thread(unreserve, key, token)
                elif arelease is not None:
                    await arelease(key, token, self._max_releases)
                elif release is not None:
                    await asyncio.to_thread(release, key, token, self._max_releases)
            except Exception as exc:
                self._release_failed(exc)
                return

    @staticmethod
    def _for_client(error: VerificationError, verified: Verified) -> VerificationError:
        """``error``, carrying the client address the allowlist resolved for ``verified``."""
        error.client_addr = verified.client_addr
        return error

    @staticmethod
    def _replayed() -> ReplayedDelivery:
        return ReplayedDelivery(
            "This delivery was already accepted once and is refused as a replay. A sender's "
            "retry re-signed with a new timestamp or id is not affected; one that resends the "
            "identical bytes after your handler failed is, unless the failed delivery's record "
            "was released (Verifier.release, or release_on_error=True in the adapters).",
        )

    @staticmethod
    def _async_only_store() -> NonceStoreUnavailable:
        return NonceStoreUnavailable(
            "This verifier's nonce store is asynchronous only (it has areserve but no "
            "reserve): call averify() from async code, or give verify() a synchronous store "
            "such as RedisNonceStore instead of AsyncRedisNonceStore.",
        )

    @staticmethod
    def _store_failure(exc: Exception) -> NonceStoreUnavailable:
        return NonceStoreUnavailable(
            f"The replay store failed ({type(exc).__name__}), so the delivery cannot be "
            "recorded and is refused (fail closed). Check the store's health.",
        )

    # -- audit events --------------------------------------------------------------------

    def _emit(self, event: VerificationEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            # Logged once per verifier: a broken sink must not flood the log on every request.
            if not self._sink_failure_logged:
                object.__setattr__(self, "_sink_failure_logged", True)
                logger.exception(
                    "hookseal: the on_event callback failed; the verdict stands. Further "
                    "failures of this callback are not logged."
                )

    def _emit_rejection(
        self,
        exc: VerificationError,
        headers: object,
        remote_addr: str | None,
        started: float,
    ) -> None:
        msg_id = None
        if isinstance(headers, (list, tuple)):
            try:
                headers = Headers(headers)
            except Exception:  # the lines were never usable; the event simply has no id
                headers = None
        if isinstance(headers, Mapping):
            msg_id = self.scheme.message_id_for_log(headers, self.limits)
        self._emit(
            VerificationEvent(
                outcome="rejected",
                reason=exc.reason,
                scheme=self.scheme.name,
                msg_id=escape_for_log(msg_id),
                timestamp=None,
                key_index=None,
                remote_addr=escape_for_log(remote_addr),
                duration=time.perf_counter() - started if started else 0.0,
                status_code=exc.status_code,
                client_addr=escape_for_log(exc.client_addr),
            )
        )

    def _emit_acceptance(self, verified: Verified, remote_addr: str | None, started: float) -> None:
        self._emit(
            VerificationEvent(
                outcome="accepted",
                reason=None,
                scheme=verified.scheme,
                msg_id=escape_for_log(verified.msg_id),
                timestamp=verified.timestamp,
                key_index=verified.key_index,
                remote_addr=escape_for_log(remote_addr),
                duration=time.perf_counter() - started if started else 0.0,
                status_code=200,
                client_addr=escape_for_log(verified.client_addr),
            )
        )

    def __repr__(self) -> str:
        return (
            f"Verifier(scheme={self.scheme!r}, keys={len(self._keys)}, "
            f"tolerance={self.limits.tolerance}, nonce_store={self.nonce_store!r}, "
            f"allowlist={self.allowlist!r})"
        )


def _in_thread(call: Callable[..., bool] | None) -> Callable[..., Awaitable[bool]]:
    """``call`` run in a worker thread: a synchronous store may block on I/O."""
    assert call is not None  # a store has reserve() or areserve() (checked at construction)

    async def threaded(*args: object) -> bool:
        return await asyncio.to_thread(call, *args)

    return threaded


def _checked_scheme(scheme: object) -> Scheme:
    if not isinstance(scheme, Scheme):
        raise ConfigurationError(
            f"scheme must be a hookseal scheme such as GitHub() or HMACScheme(...), not "
            f"{type(scheme).__name__}."
        )
    scheme.freeze()  # its options are read from here on: no later change applies
    return scheme


def _loaded_keys(scheme: Scheme, secrets: Secrets | None) -> tuple[Any, ...]:
    if secrets is None:
        raise ConfigurationError("No secrets configured: give at least one secret.")
    if isinstance(secrets, AbstractSet):
        raise ConfigurationError(
            "secrets must be ordered: give a list such as [old, new] (newest last), not a "
            "set, whose order changes from one process to the next."
        )
    keys = scheme.load_keys(secrets)
    return keys if isinstance(keys, tuple) else tuple(keys)


def _count(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = {
            "replay_retention": "a positive number of seconds",
            "max_releases": "a number of times (0 or more) a failed delivery may be accepted again",
        }[name]
        raise ConfigurationError(f"{name} must be {what}.")
    return value


def _checked_store(nonce_store: object) -> Any:
    if nonce_store is DEFAULT_STORE:
        _warn_default_store_once()
        return default_nonce_store()
    if nonce_store is not None and not (
        hasattr(nonce_store, "reserve") or hasattr(nonce_store, "areserve")
    ):
        raise ConfigurationError(
            "nonce_store must have a reserve() or areserve() method (see hookseal.stores)."
        )
    return nonce_store


def _optional_callable(name: str, value: object) -> Any:
    if value is not None and not callable(value):
        what = {"on_event": "callable", "clock": "a callable returning Unix seconds"}[name]
        raise ConfigurationError(f"{name} must be {what}.")
    return value


def _replaces(scheme: Scheme, method: str) -> bool:
    """Whether ``scheme``'s ``method`` is another than :class:`Scheme`'s own."""
    bound = getattr(scheme, method)
    return getattr(bound, "__func__", None) is not getattr(Scheme, method)


def _defining_class(kind: type, attribute: str) -> type:
    return next(klass for klass in kind.__mro__ if attribute in vars(klass))


def _prepared_fast_check(scheme: Scheme, keys: Sequence[Any], limits: Limits) -> FastCheck | None:
    """The scheme's fast check, or None when a subclass replaced ``check`` after it was written.

    A fast check may only accept what the scheme's ``check`` accepts. A subclass that
    overrides ``check`` (to add a rule) below the class that wrote ``prepare_fast_check``
    would have its rule skipped by the inherited fast check, so none is used: its own
    ``check`` decides every delivery.
    """
    kind = type(scheme)
    if not issubclass(_defining_class(kind, "prepare_fast_check"), _defining_class(kind, "check")):
        return None
    return scheme.prepare_fast_check(keys, limits)


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The body is {size} bytes; the limit is {limit} (max_body_bytes).")


def _as_bytes(body: object) -> bytes:
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    raise TypeError(
        f"body must be the raw request bytes, not {type(body).__name__}: pass exactly what "
        "arrived (e.g. request.get_data() or await request.body()), never a decoded or "
        "re-serialised payload."
    )
