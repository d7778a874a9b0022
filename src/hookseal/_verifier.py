"""Verifier: the fixed sequence of checks every delivery goes through."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ._delivery import Delivery, Verified
from ._errors import (
    ConfigurationError,
    NonceStoreUnavailable,
    PayloadTooLarge,
    ReplayedDelivery,
    VerificationError,
)
from ._events import EventSink, VerificationEvent, escape_for_log, log_event
from ._headers import Headers
from ._policy import Policy
from .replay import MemoryNonceStore

if TYPE_CHECKING:
    from .schemes._base import Scheme

__all__ = ["AddressPolicy", "Verifier"]

logger = logging.getLogger("hookseal")
_perf_counter = time.perf_counter
_time = time.time
_debug_enabled = logger.isEnabledFor
_DEBUG = logging.DEBUG
# Seconds before a record's expiry after which it is no longer released (see Verifier.release).
_RELEASE_MARGIN = 1.0
_reservation_lock = threading.Lock()
# The logger's own memo of isEnabledFor (cleared in place whenever levels change). A False
# found there is what isEnabledFor would return; anything else asks isEnabledFor itself.
_log_memo: dict[int, bool] = getattr(logger, "_cache", {})


class AddressPolicy(Protocol):
    """What ``Verifier(allowlist=...)`` needs, e.g. :class:`hookseal.network.IPAllowlist`."""

    def check(self, remote_addr: str | None, headers: Mapping[str, str]) -> object:
        """Return the resolved client address, or raise ForbiddenAddress."""


class _Default:
    def __repr__(self) -> str:
        return "<per-process MemoryNonceStore>"


DEFAULT_STORE: Any = _Default()
_warned_default_store = False


def _warn_default_store_once() -> None:
    global _warned_default_store  # noqa: PLW0603
    if not _warned_default_store:
        _warned_default_store = True
        logger.info(
            "hookseal: replay protection uses a per-process MemoryNonceStore. With several "
            "worker processes or machines, pass nonce_store=RedisNonceStore(...) (or another "
            "shared store) so a delivery accepted by one worker is refused by the others."
        )


class Verifier:
    """Verify webhook deliveries for one scheme with one or more secrets.

    Args:
        scheme: the sender's signing scheme, e.g. ``StandardWebhooks()`` or ``GitHub()``.
        secrets: one secret or a list of them; during rotation list old and new, and any one
            may match (the newest, listed last, is tried first).
        tolerance: seconds a signed timestamp may be old or in the future (default 300).
        max_body_bytes: the largest body accepted (default 1 MiB).
        max_header_bytes: the longest header value accepted (default 4096).
        max_signatures: the most signatures in one header (default 8).
        max_id_length: the longest message id accepted (default 256).
        nonce_store: where accepted deliveries are recorded to refuse replays. By default a
            per-process :class:`~hookseal.replay.MemoryNonceStore`; pass a shared store for
            several workers, or ``None`` to turn replay protection off explicitly.
        replay_retention: seconds a delivery is remembered when the scheme signs no
            timestamp (GitHub, Shopify, Twilio): their replay bound is this retention.
        allowlist: an :class:`~hookseal.network.IPAllowlist` checked before any signature work.
        on_event: called with a :class:`VerificationEvent` after every verification; by
            default rejections are logged on the ``hookseal`` logger. A failing callback never
            changes the verdict.
        clock: returns the current Unix time; by default the system clock. Tests use
            :class:`hookseal.testing.FrozenClock`.

    Raises:
        ConfigurationError: for any configuration mistake, at construction.
    """

    def __init__(
        self,
        scheme: Scheme,
        secrets: object,
        *,
        tolerance: int = 300,
        max_body_bytes: int = 1024 * 1024,
        max_header_bytes: int = 4096,
        max_signatures: int = 8,
        max_id_length: int = 256,
        nonce_store: Any = DEFAULT_STORE,
        replay_retention: int = 86400,
        allowlist: AddressPolicy | None = None,
        on_event: EventSink | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        from .schemes._base import Scheme

        if not isinstance(scheme, Scheme):
            raise ConfigurationError(
                f"scheme must be a hookseal scheme such as GitHub() or HMACScheme(...), not "
                f"{type(scheme).__name__}."
            )
        self.scheme = scheme
        self.policy = Policy(
            tolerance=tolerance,
            max_body_bytes=max_body_bytes,
            max_header_bytes=max_header_bytes,
            max_signatures=max_signatures,
            max_id_length=max_id_length,
        )
        if secrets is None:
            raise ConfigurationError("No secrets configured: give at least one secret.")
        self._keys = scheme.load_keys(secrets)
        if (
            isinstance(replay_retention, bool)
            or not isinstance(replay_retention, int)
            or (replay_retention <= 0)
        ):
            raise ConfigurationError("replay_retention must be a positive number of seconds.")
        self.replay_retention = replay_retention
        if nonce_store is DEFAULT_STORE:
            nonce_store = MemoryNonceStore()
            _warn_default_store_once()
        elif nonce_store is not None and not (
            hasattr(nonce_store, "reserve") or hasattr(nonce_store, "areserve")
        ):
            raise ConfigurationError(
                "nonce_store must have a reserve() or areserve() method (see hookseal.replay)."
            )
        self.nonce_store = nonce_store
        self._sync_reserve = getattr(nonce_store, "reserve", None)
        self._async_reserve = getattr(nonce_store, "areserve", None)
        if allowlist is not None and not callable(getattr(allowlist, "check", None)):
            raise ConfigurationError("allowlist must be an IPAllowlist (or have a check method).")
        self.allowlist = allowlist
        if on_event is not None and not callable(on_event):
            raise ConfigurationError("on_event must be callable.")
        self._on_event: EventSink = on_event if on_event is not None else log_event
        self._custom_sink = on_event is not None
        self._sink_failure_logged = False
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock must be a callable returning Unix seconds.")
        self._clock: Callable[[], float] | None = clock
        # The scheme's check prepared for these keys and limits, tried first on every delivery
        # (after the allowlist, when there is one); it leaves anything unusual to scheme.check.
        self._fast_check = scheme.prepare_fast_check(self._keys, self.policy)
        # What verify() itself calls when nothing needs to run before the scheme.
        self._fast_verify = self._fast_check if allowlist is None else None
        self._max_body_bytes = self.policy.max_body_bytes

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
        custom_sink = self._custom_sink
        started = _perf_counter() if custom_sink else 0.0
        if now is None:
            clock = self._clock
            now = _time() if clock is None else clock()
        try:
            fast = self._fast_verify
            # The common call (raw bytes, a dict of headers, no allowlist): straight to the
            # prepared check, which returns None for anything it leaves to _check.
            if (
                fast is None
                or type(body) is not bytes
                or type(headers) is not dict
                or len(body) > self._max_body_bytes
                or (verified := fast(body, headers, now)) is None
            ):
                verified = self._check(body, headers, url, method, remote_addr, now)
            store = self.nonce_store
            if store is not None:
                if self._sync_reserve is None:
                    raise self._for_client(self._async_only_store(), verified)
                replay_key = verified.replay_key
                # An empty replay_key means the scheme has nothing per delivery to record (a
                # shared token): recording anything would refuse identical genuine deliveries.
                if replay_key:
                    timestamp = verified.timestamp
                    # As _expiry: the window is inclusive, so keep the entry one second longer.
                    expires_at = (
                        float(timestamp + self.policy.tolerance + 1)
                        if timestamp is not None
                        else now + self.replay_retention
                    )
                    try:
                        fresh = store.reserve(replay_key, expires_at, now)
                    except VerificationError as exc:
                        self._for_client(exc, verified)
                        raise
                    except Exception as exc:
                        raise self._for_client(self._store_failure(exc), verified) from exc
                    if not fresh:
                        raise self._for_client(self._replayed(), verified)
                    verified._reservation = (self, replay_key, expires_at)
        except VerificationError as exc:
            self._emit_rejection(exc, headers, remote_addr, started)
            raise
        if custom_sink or (_log_memo.get(_DEBUG, True) and _debug_enabled(_DEBUG)):
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
        """Like :meth:`verify`, but awaits the nonce store's ``areserve`` (no blocking I/O)."""
        started = _perf_counter()
        if now is None:
            now = _time() if self._clock is None else self._clock()
        try:
            verified = self._check(body, headers, url, method, remote_addr, now)
            store = self.nonce_store
            # An empty replay_key means the scheme has nothing per delivery to record (a
            # shared token): recording anything would refuse identical genuine deliveries.
            if store is not None and verified.replay_key:
                expires_at = self._expiry(verified, now)
                try:
                    if self._async_reserve is not None:
                        fresh = await self._async_reserve(verified.replay_key, expires_at, now)
                    else:
                        # A synchronous store may block on I/O: keep it off the event loop.
                        fresh = await asyncio.to_thread(
                            store.reserve, verified.replay_key, expires_at, now
                        )
                except VerificationError as exc:
                    self._for_client(exc, verified)
                    raise
                except Exception as exc:
                    raise self._for_client(self._store_failure(exc), verified) from exc
                if not fresh:
                    raise self._for_client(self._replayed(), verified)
                verified._reservation = (self, verified.replay_key, expires_at)
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

    def release(self, verified: Verified, *, now: float | None = None) -> bool:
        """Forget the replay record of ``verified`` because its handling failed.

        Call it when the handler could not process a delivery this verifier accepted (it
        raised, or answered 5xx), so that the sender's retry is accepted instead of refused as
        a replay. It matters for senders whose retries are byte-identical (Shopify, GitHub's
        *Redeliver*, any scheme that signs no timestamp); a re-signed retry (Stripe, Standard
        Webhooks) gets a new record anyway. The adapters call it for you when you opt in with
        ``release_on_error=True``.

        Only the record this verifier made for this very :class:`Verified` is removed, once,
        and only while it is still live (more than a second before it expires). The trade-off:
        once released, the delivery can be accepted again by anyone who holds its bytes, not
        only by the sender's retry, and again after every failure: a delivery on which the
        handler always fails can be processed as often as it is replayed, within the time
        window (or the retention, for schemes that sign no timestamp). Make the handler's side
        effects before a failure idempotent.

        Returns:
            True if the record was removed; False if there was nothing to remove (no nonce
            store, a store without ``release``, a store that recorded nothing, such as a Redis
            store failing open; already released or expired; or a :class:`Verified` that this
            verifier did not record). A store failure is logged as a WARNING and gives False
            (the retry is then refused as before); it never raises, so it is safe in an error
            handler.
        """
        release = getattr(self.nonce_store, "release", None)
        if release is None:
            return False
        key = self._take_live_reservation(verified, now)
        if key is None:
            return False
        try:
            removed = release(key)
        except Exception as exc:
            return self._release_failed(exc)
        return self._released(verified, removed)

    async def arelease(self, verified: Verified, *, now: float | None = None) -> bool:
        """The asynchronous form of :meth:`release` (awaits the store's ``arelease``)."""
        store = self.nonce_store
        async_release = getattr(store, "arelease", None)
        release = getattr(store, "release", None)
        if async_release is None and release is None:
            return False
        key = self._take_live_reservation(verified, now)
        if key is None:
            return False
        try:
            if async_release is not None:
                removed = await async_release(key)
            else:
                assert release is not None  # one of the two exists (checked above)
                # A synchronous store may block on I/O: keep it off the event loop.
                removed = await asyncio.to_thread(release, key)
        except Exception as exc:
            return self._release_failed(exc)
        return self._released(verified, removed)

    def _take_live_reservation(self, verified: Verified, now: float | None) -> bytes | None:
        """The key this verifier recorded for ``verified``, taken once; None if not live."""
        if not isinstance(verified, Verified):
            raise TypeError(
                "release() takes the Verified that verify() returned, not "
                f"{type(verified).__name__}."
            )
        with _reservation_lock:  # taken once, even by two threads releasing at the same time
            reservation: tuple[object, bytes, float] | None = getattr(
                verified, "_reservation", None
            )
            if reservation is None or reservation[0] is not self:
                return None
            verified._reservation = None
        if now is None:
            now = _time() if self._clock is None else self._clock()
        # A margin for the store's own clock: past it, the record may already be gone and the
        # key taken by another delivery, which must not be released.
        if not now < reservation[2] - _RELEASE_MARGIN:
            return None
        return reservation[1]

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
        self._emit_rejection(error, delivery.headers, delivery.remote_addr, _perf_counter())

    # -- the checks ----------------------------------------------------------------------

    def _check(
        self,
        body: bytes,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        url: str | None,
        method: str | None,
        remote_addr: str | None,
        now: float,
    ) -> Verified:
        if type(body) is not bytes:
            body = _as_bytes(body)
        policy = self.policy
        if len(body) > policy.max_body_bytes:
            raise _too_large(len(body), policy.max_body_bytes)
        if type(headers) is not dict and not isinstance(headers, Mapping):
            headers = Headers(headers)
        fast = self._fast_check
        if self.allowlist is None:
            if fast is not None and (verified := fast(body, headers, now)) is not None:
                return verified
            return self.scheme.check(body, headers, self._keys, policy, now, url, method)
        resolved = self.allowlist.check(remote_addr, headers)
        client = resolved if isinstance(resolved, str) else None
        try:
            if fast is None or (verified := fast(body, headers, now)) is None:
                verified = self.scheme.check(body, headers, self._keys, policy, now, url, method)
        except VerificationError as exc:
            exc.client_addr = client
            raise
        verified._client_addr = client
        return verified

    def _expiry(self, verified: Verified, now: float) -> float:
        if verified.timestamp is not None:
            # The window is inclusive (now == timestamp + tolerance still passes), while stores
            # treat an entry as expired once now >= expires_at: keep it one second longer.
            return float(verified.timestamp + self.policy.tolerance + 1)
        return now + self.replay_retention

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
                self._sink_failure_logged = True
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
            msg_id = self.scheme.message_id_for_log(headers, self.policy)
        self._emit(
            VerificationEvent(
                outcome="rejected",
                reason=exc.reason,
                scheme=self.scheme.name,
                msg_id=escape_for_log(msg_id),
                timestamp=None,
                key_index=None,
                remote_addr=escape_for_log(remote_addr),
                duration=_perf_counter() - started if started else 0.0,
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
                duration=_perf_counter() - started if started else 0.0,
                status_code=200,
                client_addr=escape_for_log(verified.client_addr),
            )
        )

    def __repr__(self) -> str:
        return (
            f"Verifier(scheme={self.scheme!r}, keys={len(self._keys)}, "
            f"tolerance={self.policy.tolerance}, nonce_store={self.nonce_store!r}, "
            f"allowlist={self.allowlist!r})"
        )


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
