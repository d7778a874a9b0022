"""Django integration: ``@webhook_view``, ``HookSealMiddleware`` and ``DjangoCacheNonceStore``.

``@webhook_view(verifier)`` protects one view (sync or async, under WSGI or ASGI) and exempts
that view alone from CSRF checks; ``HookSealMiddleware`` protects the URL paths listed in
``settings.HOOKSEAL``. Either way the view runs only for a delivery that passed every check,
finds the :class:`~hookseal.Verified` at ``request.webhook``, and can read the same bytes again
from ``request.body``. Rejections get the generic text for their status.

What Django lets an adapter bound: the body is read at most ``max_body_bytes + 1`` bytes at
a time into memory, and a ``Content-Length`` over the limit is refused before reading. Under
ASGI, Django's handler has already spooled the whole body (to memory up to
``FILE_UPLOAD_MAX_MEMORY_SIZE``, then to a temporary file) before any middleware runs; limit
the upload in front of Django (proxy ``client_max_body_size``, or wrap the ASGI application in
:class:`hookseal.contrib.starlette.HookSealMiddleware`). Under WSGI, Django reads only
``Content-Length`` bytes, so a chunked body without one arrives empty and is refused.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

try:
    from asgiref.sync import iscoroutinefunction, markcoroutinefunction
    from django.conf import settings
    from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
    from django.http import Http404, HttpRequest, HttpResponse
    from django.http.multipartparser import MultiPartParserError
    from django.utils.module_loading import import_string
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hookseal.contrib.django needs Django: pip install 'hookseal[django]'"
    ) from exc

from .._delivery import Delivery, Verified
from .._errors import ConfigurationError, NonceStoreUnavailable, VerificationError
from .._headers import Headers
from .._verifier import Verifier
from ._common import (
    RejectHook,
    check_on_reject,
    check_release_on_error,
    check_replay_status,
    check_verifier,
    declared_length,
    generic_body,
    handler_failed,
    payload_too_large,
    record_early_rejection,
    run_on_reject,
    status_for,
)

__all__ = ["DjangoCacheNonceStore", "HookSealMiddleware", "webhook_view"]

F = TypeVar("F", bound=Callable[..., Any])


# -- reading and verifying ------------------------------------------------------------------


def _headers(request: HttpRequest) -> Headers:
    """Header lines as received: raw ASGI lines (repeats kept), else Django's WSGI headers."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, Mapping) and scope.get("headers") is not None:
        return Headers(scope["headers"])
    return Headers(list(request.headers.items()))


def _read_body(request: HttpRequest, limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes and leave them as ``request.body`` for the view."""
    declared = declared_length(request.META.get("CONTENT_LENGTH") or None)
    if declared is not None and declared > limit:
        raise payload_too_large(declared, limit)
    if hasattr(request, "_body"):  # already read (request.body or a urlencoded request.POST)
        cached: bytes = request.body
        return cached
    if getattr(request, "_read_started", False):  # consumed, e.g. by a multipart request.POST
        return b""
    data: bytes = request.read(limit + 1)
    if len(data) > limit:
        raise payload_too_large(None, limit)
    # What HttpRequest.body does after reading: cache the bytes and serve them again.
    request._body = data
    request._stream = io.BytesIO(data)
    return data


def _delivery_parts(request: HttpRequest) -> tuple[Headers, str, str, str | None]:
    remote_addr = request.META.get("REMOTE_ADDR") or None
    return _headers(request), request.method or "POST", request.build_absolute_uri(), remote_addr


def _prepare(request: HttpRequest, verifier: Verifier) -> Delivery:
    headers, method, url, remote_addr = _delivery_parts(request)
    try:
        body = _read_body(request, verifier.policy.max_body_bytes)
    except VerificationError as error:
        record_early_rejection(
            verifier, error, headers, method=method, url=url, remote_addr=remote_addr
        )
        raise
    return Delivery(body, headers, method=method, url=url, remote_addr=remote_addr)


def _rejection(
    request: HttpRequest, error: VerificationError, replay_status: int, hook: RejectHook | None
) -> HttpResponse:
    run_on_reject(hook, request, error)
    return HttpResponse(
        f"{generic_body(error)}\n",
        status=status_for(error, replay_status),
        content_type="text/plain; charset=utf-8",
    )


def verify_request(
    request: HttpRequest,
    verifier: Verifier,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
) -> HttpResponse | None:
    """Verify ``request``: set ``request.webhook`` and return None, or return the rejection."""
    try:
        request.webhook = verifier.verify_delivery(_prepare(request, verifier))
    except VerificationError as error:
        return _rejection(request, error, replay_status, on_reject)
    return None


async def averify_request(
    request: HttpRequest,
    verifier: Verifier,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
) -> HttpResponse | None:
    """The asynchronous form of :func:`verify_request` (awaits the async nonce store)."""
    try:
        delivery = _prepare(request, verifier)
        request.webhook = await verifier.averify_delivery(delivery)
    except VerificationError as error:
        return _rejection(request, error, replay_status, on_reject)
    return None


# -- the view decorator ---------------------------------------------------------------------


# Exceptions Django answers with a 4xx (django.core.handlers.exception): the handler refused
# the delivery, it did not fail.
_CLIENT_ERRORS = (BadRequest, Http404, MultiPartParserError, PermissionDenied, SuspiciousOperation)


def _release_if_failed(
    verifier: Verifier, verified: Verified, response: Any, exc: Exception | None
) -> None:
    """Release the replay record when the handler raised (not a 4xx exception) or gave 5xx."""
    if exc is not None:
        if not isinstance(exc, _CLIENT_ERRORS):
            verifier.release(verified)
    elif handler_failed(getattr(response, "status_code", None)):
        verifier.release(verified)


async def _arelease_if_failed(
    verifier: Verifier, verified: Verified, response: Any, exc: Exception | None
) -> None:
    """The asynchronous form of :func:`_release_if_failed`."""
    if exc is not None:
        if not isinstance(exc, _CLIENT_ERRORS):
            await verifier.arelease(verified)
    elif handler_failed(getattr(response, "status_code", None)):
        await verifier.arelease(verified)


def webhook_view(
    verifier: Verifier,
    *,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    release_on_error: bool = False,
) -> Callable[[F], F]:
    """Protect one view (sync or async): it runs only for deliveries ``verifier`` accepts.

    The view is exempt from CSRF checks (a webhook carries a signature, not a session
    cookie); no other view is affected.

    Args:
        verifier: the :class:`~hookseal.Verifier` for this endpoint's sender.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(request, error)``, called once per rejection (for metrics);
            its failures are logged and ignored.
        release_on_error: when the view raises (other than the exceptions Django answers
            with a 4xx) or answers 5xx, forget the delivery's replay record
            (:meth:`~hookseal.Verifier.release`) so that the sender's retry is accepted. Off
            by default: read the trade-off there first. An exception that a middleware's
            ``process_exception`` turns into a 4xx still counts as a failure here; the
            middleware form sees the final response instead.
    """
    checked = check_verifier(verifier)
    status = check_replay_status(replay_status)
    hook = check_on_reject(on_reject)
    release = check_release_on_error(release_on_error)

    def decorator(view: F) -> F:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                rejection = await averify_request(request, checked, status, hook)
                if rejection is not None:
                    return rejection
                if not release:
                    return await view(request, *args, **kwargs)
                try:
                    response = await view(request, *args, **kwargs)
                except Exception as exc:
                    await _arelease_if_failed(checked, request.webhook, None, exc)
                    raise
                await _arelease_if_failed(checked, request.webhook, response, None)
                return response

            wrapped: Any = async_wrapper
        else:

            @functools.wraps(view)
            def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                rejection = verify_request(request, checked, status, hook)
                if rejection is not None:
                    return rejection
                if not release:
                    return view(request, *args, **kwargs)
                try:
                    response = view(request, *args, **kwargs)
                except Exception as exc:
                    _release_if_failed(checked, request.webhook, None, exc)
                    raise
                _release_if_failed(checked, request.webhook, response, None)
                return response

            wrapped = wrapper
        wrapped.csrf_exempt = True  # what django's csrf_exempt sets, for this view only
        return wrapped  # type: ignore[no-any-return]

    return decorator


# -- the middleware -------------------------------------------------------------------------


def _load(value: object, what: str) -> object:
    if isinstance(value, str):
        try:
            return import_string(value)
        except ImportError as exc:
            raise ConfigurationError(f"{what}: cannot import {value!r} ({exc}).") from exc
    return value


def _routes_from_settings() -> dict[str, Verifier]:
    configured = getattr(settings, "HOOKSEAL", None)
    if not isinstance(configured, Mapping) or not configured:
        raise ConfigurationError(
            "settings.HOOKSEAL must map URL paths (request.path_info, e.g. '/hooks/github/') to "
            "hookseal.Verifier objects or their dotted import paths."
        )
    routes: dict[str, Verifier] = {}
    for path, target in configured.items():
        if not isinstance(path, str) or not path.startswith("/"):
            raise ConfigurationError(
                f"settings.HOOKSEAL keys must be paths starting with '/': {path!r}."
            )
        where = f"settings.HOOKSEAL[{path!r}]"
        routes[path] = check_verifier(_load(target, where), where)
    return routes


class HookSealMiddleware:
    """Verify deliveries to the paths in ``settings.HOOKSEAL`` before any view runs.

    Settings:

    * ``HOOKSEAL``: ``{"/hooks/github/": "myproject.webhooks.github_verifier", ...}``, exact
      ``request.path_info`` values mapped to :class:`~hookseal.Verifier` objects or dotted
      paths to them;
    * ``HOOKSEAL_REPLAY_STATUS``: the status answered to a replay (default 409);
    * ``HOOKSEAL_ON_REJECT``: an ``on_reject(request, error)`` callable or its dotted path;
    * ``HOOKSEAL_RELEASE_ON_ERROR``: when the response is 5xx (Django turns a view's
      exception into a 500 before the middleware sees it), forget the delivery's replay record
      so that the sender's retry is accepted (default False; see
      :meth:`~hookseal.Verifier.release`).

    Works in sync and async stacks. Views behind it must still be CSRF-exempt
    (``@csrf_exempt``) when ``CsrfViewMiddleware`` is installed; ``@webhook_view`` does that.

    Raises:
        ConfigurationError: for any configuration mistake, when Django loads the middleware.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.routes = _routes_from_settings()
        self.replay_status = check_replay_status(getattr(settings, "HOOKSEAL_REPLAY_STATUS", 409))
        hook = _load(getattr(settings, "HOOKSEAL_ON_REJECT", None), "settings.HOOKSEAL_ON_REJECT")
        self.on_reject = check_on_reject(hook)
        self.release_on_error = check_release_on_error(
            getattr(settings, "HOOKSEAL_RELEASE_ON_ERROR", False)
        )
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        """Verify a protected request, then hand it on; pass other requests straight through."""
        if self._async:
            return self.__acall__(request)
        verifier = self.routes.get(request.path_info)
        if verifier is not None:
            rejection = verify_request(request, verifier, self.replay_status, self.on_reject)
            if rejection is not None:
                return rejection
            if self.release_on_error:
                try:
                    response = self.get_response(request)
                except Exception as exc:  # only when DEBUG_PROPAGATE_EXCEPTIONS is set
                    _release_if_failed(verifier, request.webhook, None, exc)
                    raise
                _release_if_failed(verifier, request.webhook, response, None)
                return response
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> Any:
        """The asynchronous path."""
        verifier = self.routes.get(request.path_info)
        if verifier is not None:
            rejection = await averify_request(request, verifier, self.replay_status, self.on_reject)
            if rejection is not None:
                return rejection
            if self.release_on_error:
                try:
                    response = await self.get_response(request)
                except Exception as exc:  # only when DEBUG_PROPAGATE_EXCEPTIONS is set
                    await _arelease_if_failed(verifier, request.webhook, None, exc)
                    raise
                await _arelease_if_failed(verifier, request.webhook, response, None)
                return response
        return await self.get_response(request)


# -- the nonce store ------------------------------------------------------------------------


class DjangoCacheNonceStore:
    """A nonce store on a Django cache, for projects that already run a shared cache.

    ``cache.add(key, 1, timeout)`` records a delivery only if it is not already there. Use a
    backend shared by every worker whose ``add`` is atomic and which does not evict live
    entries: Redis (``django.core.cache.backends.redis.RedisCache`` with a ``noeviction`` or
    ``volatile-*`` policy and room to spare) or Memcached with enough memory. ``LocMemCache``
    is per process and culls entries when ``MAX_ENTRIES`` (default 300) is reached, and
    ``FileBasedCache``'s ``add`` is not atomic: both let a replay through.

    Args:
        cache_alias: the ``CACHES`` entry to use (default ``"default"``).
        key_prefix: prepended to every key (the rest is a hex digest; no secret).
    """

    def __init__(self, cache_alias: str = "default", *, key_prefix: str = "hookseal:") -> None:
        if not isinstance(cache_alias, str) or not cache_alias:
            raise ConfigurationError("cache_alias must name an entry of settings.CACHES.")
        if not isinstance(key_prefix, str) or not key_prefix.isascii() or " " in key_prefix:
            raise ConfigurationError("key_prefix must be ASCII text without spaces.")
        self.cache_alias = cache_alias
        self.key_prefix = key_prefix

    def _cache(self) -> Any:
        from django.core.cache import caches

        return caches[self.cache_alias]

    def _args(self, key: bytes, expires_at: float, now: float) -> tuple[str, int]:
        if not math.isfinite(expires_at):
            raise NonceStoreUnavailable("The replay-store expiry is not a finite time.")
        return self.key_prefix + key.hex(), max(1, math.ceil(expires_at - now))

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        """Record ``key`` until ``expires_at`` unless it is recorded (see NonceStore)."""
        name, timeout = self._args(key, expires_at, now)
        try:
            return bool(self._cache().add(name, 1, timeout))
        except Exception as exc:
            raise NonceStoreUnavailable(
                f"The Django cache {self.cache_alias!r} failed ({type(exc).__name__})."
            ) from exc

    async def areserve(self, key: bytes, expires_at: float, now: float) -> bool:
        """The asynchronous form of :meth:`reserve` (``cache.aadd``)."""
        name, timeout = self._args(key, expires_at, now)
        try:
            return bool(await self._cache().aadd(name, 1, timeout))
        except Exception as exc:
            raise NonceStoreUnavailable(
                f"The Django cache {self.cache_alias!r} failed ({type(exc).__name__})."
            ) from exc

    def release(self, key: bytes) -> bool:
        """Delete the entry for ``key`` (``cache.delete``; see ``Verifier.release``)."""
        try:
            return bool(self._cache().delete(self.key_prefix + key.hex()))
        except Exception as exc:
            raise NonceStoreUnavailable(
                f"The Django cache {self.cache_alias!r} failed ({type(exc).__name__})."
            ) from exc

    async def arelease(self, key: bytes) -> bool:
        """The asynchronous form of :meth:`release` (``cache.adelete``)."""
        try:
            return bool(await self._cache().adelete(self.key_prefix + key.hex()))
        except Exception as exc:
            raise NonceStoreUnavailable(
                f"The Django cache {self.cache_alias!r} failed ({type(exc).__name__})."
            ) from exc

    def __repr__(self) -> str:
        return f"DjangoCacheNonceStore(cache_alias={self.cache_alias!r})"
