"""aiohttp: ``@verify_webhook(verifier)`` for one handler, ``WebhookMiddleware`` for an app.

The protected handler runs only for a delivery that passed every check. It gets a request
whose ``await request.read()`` (and ``text()``, ``json()``, ``post()``) returns exactly the bytes
that were verified, and finds the :class:`~hookseal.Verified` with ``get_webhook(request)`` (it
is stored under :data:`WEBHOOK_KEY`, named ``"webhook"``). A rejection raises
:class:`WebhookRejected`, an aiohttp ``HTTPException`` answered with the generic text for its
status; an outer middleware can catch it to shape the response.

The body is read through ``request.clone(client_max_size=limit)``: ``Content-Length`` over
``max_body_bytes`` is refused (413) before anything is read, and a body without one is read
until it passes the limit, never more than the limit plus one chunk. The handler is given that
clone (aiohttp's documented way for a middleware to hand on a changed request).

Header lines come from ``request.raw_headers``, so a repeated signature header is refused. The
allowlist gets the socket peer (the transport's ``peername``), never ``request.remote``, which a
middleware may have rewritten from a forwarding header (``clone(remote=...)``): configure
``IPAllowlist(..., trusted_proxies=...)`` to read forwarding headers from your proxies only.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, cast

try:
    from aiohttp import web
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hookseal.contrib.aiohttp needs aiohttp: pip install 'hookseal[aiohttp]'"
    ) from exc

from .._delivery import Delivery, Verified
from .._errors import ConfigurationError, VerificationError
from .._handshake import HandshakeReply
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
from ._handshakes import ahandshake_reply, unsigned_handshake_reply
from ._origin import check_public_url, signs_url

__all__ = ["WEBHOOK_KEY", "WebhookMiddleware", "WebhookRejected", "get_webhook", "verify_webhook"]

#: The request key holding the :class:`~hookseal.Verified`: ``request[WEBHOOK_KEY]``. A
#: ``web.RequestKey("webhook", Verified)`` on aiohttp 3.14+ (which warns about ``str`` keys),
#: the string ``"webhook"`` before. :func:`get_webhook` reads it on every version.
WEBHOOK_KEY: Any = web.RequestKey("webhook", Verified) if hasattr(web, "RequestKey") else "webhook"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


class WebhookRejected(web.HTTPException):
    """A refused delivery, answered with the generic text for its status.

    Attributes:
        error: the :class:`~hookseal.VerificationError` (its ``reason`` is for logs and
            metrics, never for the response).
    """

    def __init__(self, error: VerificationError, status: int) -> None:
        self.status_code = status  # read by HTTPException.__init__
        super().__init__(
            text=f"{generic_body(error)}\n",
            content_type="text/plain",
            headers={"Connection": "close"},
        )
        self.error = error


def get_webhook(request: web.Request) -> Verified:
    """The :class:`~hookseal.Verified` of a protected request (``request[WEBHOOK_KEY]``).

    Raises:
        LookupError: the request did not go through ``verify_webhook`` or a
            ``WebhookMiddleware`` route (the handler is not protected).
    """
    verified = request.get(WEBHOOK_KEY)
    if not isinstance(verified, Verified):
        raise LookupError(
            "This request carries no verified webhook: protect the handler with "
            "@verify_webhook(verifier) or list its route in WebhookMiddleware(routes=...)."
        )
    return verified


def _no_origin(verifier: Verifier, where: str) -> ConfigurationError:
    return ConfigurationError(
        f"{where} uses a scheme that signs the request URL ({verifier.scheme.name}): pass "
        "public_url='https://your.public.host' (the base URL the sender is configured with), "
        "so the signed URL is rebuilt from configuration, not from the request's Host header."
    )


def _peer_address(request: web.BaseRequest) -> str | None:
    """The socket peer, even when a middleware cloned the request with another ``remote``."""
    transport = request.transport
    if transport is None:
        return None
    peer = transport.get_extra_info("peername")
    if isinstance(peer, (list, tuple)) and peer:
        return str(peer[0])
    return None  # a Unix socket (a path, or ''), or nothing reported


async def _read_body(
    request: web.Request, limit: int, headers: Headers
) -> tuple[web.Request, bytes]:
    """The body, at most ``limit`` bytes, and the request the handler must be given.

    Returns a clone whose ``read()`` cache holds the body; when the body was already read (an
    outer middleware called ``request.read()``), the request itself and its cached bytes.
    """
    declared = declared_length(headers.one("content-length"))
    if declared is not None and declared > limit:
        raise payload_too_large(declared, limit)
    try:
        reading = request.clone(client_max_size=limit)
    except RuntimeError:  # the body was read (and cached) before: aiohttp refuses to clone
        reading = request
    try:
        body = await reading.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise payload_too_large(None, limit) from exc
    if len(body) > limit:  # already cached under a larger client_max_size
        raise payload_too_large(None, limit)
    return reading, body


class _Settings:
    __slots__ = ("on_reject", "public_url", "release", "replay_status")

    def __init__(
        self,
        replay_status: object,
        on_reject: object,
        release_on_error: object,
        public_url: object,
    ) -> None:
        self.replay_status = check_replay_status(replay_status)
        self.on_reject = check_on_reject(on_reject)
        self.release = check_release_on_error(release_on_error)
        self.public_url = check_public_url(public_url)


async def _verify(
    request: web.Request, verifier: Verifier, settings: _Settings
) -> tuple[web.Request, Verified]:
    """Read, bound and verify ``request``; the request to hand on, with ``["webhook"]`` set."""
    try:
        url = None
        if settings.public_url is not None:
            url = settings.public_url + request.raw_path
        elif signs_url(verifier):  # the constructors refuse this; never fall back to Host
            raise _no_origin(verifier, "The verifier of this handler")
        headers = Headers(list(request.raw_headers))
        remote_addr = _peer_address(request)
        method = request.method
        try:
            reading, body = await _read_body(request, verifier.limits.max_body_bytes, headers)
        except VerificationError as error:
            record_early_rejection(
                verifier, error, headers, method=method, url=url, remote_addr=remote_addr
            )
            raise
        verified = await verifier.averify_delivery(
            Delivery(body, headers, method=method, url=url, remote_addr=remote_addr)
        )
    except VerificationError as error:
        run_on_reject(settings.on_reject, request, error)
        raise WebhookRejected(error, status_for(error, settings.replay_status)) from None
    reading[WEBHOOK_KEY] = verified
    return reading, verified


def _response(reply: HandshakeReply) -> web.Response:
    """The aiohttp response for a handshake reply."""
    return web.Response(body=reply.body, status=reply.status, headers=reply.all_headers())


def _failed_status(exc: BaseException) -> bool:
    """Whether an exception out of the handler ends the request as a failure (5xx or none)."""
    if isinstance(exc, web.HTTPException):
        return handler_failed(exc.status)
    return True  # an error (a 500), or a cancellation: the sender saw no success


async def _run(
    handler: Callable[[web.Request], Awaitable[Any]],
    request: web.Request,
    verifier: Verifier,
    settings: _Settings,
) -> Any:
    """Verify ``request``, run ``handler`` with it, release the record if the handler fails.

    A subscription handshake is answered here, without running ``handler``.
    """
    if verifier.answers_unsigned_handshakes:
        reply = unsigned_handshake_reply(
            verifier,
            request.method,
            request.rel_url.raw_query_string,
            Headers(list(request.raw_headers)),
            _peer_address(request),
        )
        if reply is not None:
            return _response(reply)
    reading, verified = await _verify(request, verifier, settings)
    reply = await ahandshake_reply(verifier, verified)
    if reply is not None:
        return _response(reply)
    if not (settings.release and verified.recorded):
        return await handler(reading)
    try:
        response = await handler(reading)
    except BaseException as exc:
        if _failed_status(exc):
            await verifier.arelease(verified)
        raise
    status = getattr(response, "status", None)
    if handler_failed(status if isinstance(status, int) else None):
        await verifier.arelease(verified)
    return response


def verify_webhook(
    verifier: Verifier,
    *,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    release_on_error: bool = True,
    public_url: str | None = None,
) -> Callable[[F], F]:
    """Protect one handler: it runs only for deliveries ``verifier`` accepts.

    Works on ``async def handler(request)`` functions (extra arguments are passed on). For a
    class-based ``web.View``, use :class:`WebhookMiddleware`: the view is then built with the
    request whose body is the verified bytes.

    Args:
        verifier: the :class:`~hookseal.Verifier` for this endpoint's sender.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(request, error)``, called once per rejection (for metrics);
            its failures are logged and ignored.
        release_on_error: when the handler raises (anything but an ``HTTPException`` below
            500), is cancelled, or answers 5xx, forget the delivery's replay record
            (:meth:`~hookseal.Verifier.arelease`) so that the sender's retry is accepted. On
            by default, bounded per delivery by the verifier's ``max_releases``.
        public_url: the public base URL the sender addresses (``"https://hooks.example.com"``,
            optionally with a path prefix); the signed URL is this followed by the request
            target as received (``request.raw_path``). Required for schemes that sign the URL
            (Twilio, RFC 9421): ``ConfigurationError`` here without it.

    Raises:
        ConfigurationError: for any configuration mistake, when the decorator is built.
    """
    checked = check_verifier(verifier)
    settings = _Settings(replay_status, on_reject, release_on_error, public_url)
    if signs_url(checked) and settings.public_url is None:
        raise _no_origin(checked, "verify_webhook's verifier")

    def decorator(handler: F) -> F:
        @functools.wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            first = args[0] if args else None
            if isinstance(first, web.Request):
                return await _run(
                    lambda req: handler(req, *args[1:], **kwargs), first, checked, settings
                )
            raise ConfigurationError(
                "verify_webhook protects handlers called as handler(request); this one was "
                "called without an aiohttp request (for a class-based web.View, list its route "
                "in WebhookMiddleware instead: the view is then built with the verified request)."
            )

        return cast(F, wrapper)

    return decorator


def _prefixes(apps: Iterable[web.Application]) -> dict[int, str]:
    """Each application of the chain (root first) mapped to its full mount prefix."""
    found: dict[int, str] = {}
    prefix = ""
    parent: web.Application | None = None
    for app in apps:
        if parent is not None:
            for resource in parent.router.resources():
                info = resource.get_info()
                if info.get("app") is app and isinstance(info.get("prefix"), str):
                    prefix += str(info["prefix"])
                    break
        found[id(app)] = prefix
        parent = app
    return found


def _canonicals(app: web.Application, depth: int = 0) -> set[str]:
    """The canonical path of every resource of ``app`` and of its sub-applications."""
    found: set[str] = set()
    if depth > 16:
        return found
    for resource in app.router.resources():
        info = resource.get_info()
        sub = info.get("app")
        if isinstance(sub, web.Application):
            found |= _canonicals(sub, depth + 1)
        else:
            found.add(resource.canonical)
    return found


class WebhookMiddleware:
    r"""Verify deliveries to the listed routes before their handlers run.

    aiohttp routes before middlewares run, so the middleware matches the *route* the request
    reached, not the spelling of its path: ``routes`` keys are resource paths as the
    application declares them (``"/hooks/github"``, ``"/hooks/{tenant}"``; a regex parameter
    ``{tenant:\d+}`` is keyed ``"/hooks/{tenant}"``, aiohttp's canonical form). Every request
    routed to such a resource is verified, whatever spelling reached it. In a sub-application
    the key may be the path inside the sub-application or the full path with its prefix.

    Add it with ``app.middlewares.append(WebhookMiddleware({...}))`` (or in
    ``web.Application(middlewares=[...])``). On its first request it checks that every key
    names a resource of the application it is installed on (or of its sub-applications):
    a key matching none raises ``ConfigurationError`` (a 500) on every request until fixed,
    so a typo never leaves a webhook unprotected silently.

    Args:
        routes: resource paths mapped to the :class:`~hookseal.Verifier` for that sender.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(request, error)``, called once per rejection.
        public_url: the public base URL the sender addresses; required when a route's
            scheme signs the URL (Twilio, RFC 9421).
        release_on_error: release the replay record when the handler fails (see
            :func:`verify_webhook`); on by default.

    Raises:
        ConfigurationError: for any configuration mistake, at construction.
    """

    __middleware_version__ = 1  # a new-style middleware: __call__(request, handler)

    def __init__(
        self,
        routes: Mapping[str, Verifier],
        *,
        replay_status: int = 409,
        on_reject: RejectHook | None = None,
        public_url: str | None = None,
        release_on_error: bool = True,
    ) -> None:
        if not isinstance(routes, Mapping) or not routes:
            raise ConfigurationError("routes must map route paths to hookseal.Verifier objects.")
        self._settings = _Settings(replay_status, on_reject, release_on_error, public_url)
        checked: dict[str, Verifier] = {}
        for path, verifier in routes.items():
            if not isinstance(path, str) or not path.startswith("/"):
                raise ConfigurationError(f"routes keys must be paths starting with '/': {path!r}.")
            checked[path] = check_verifier(verifier, f"routes[{path!r}]")
            if signs_url(verifier) and self._settings.public_url is None:
                raise _no_origin(verifier, f"routes[{path!r}]")
        self._routes = MappingProxyType(checked)
        self._checked_apps: set[int] = set()

    @property
    def routes(self) -> Mapping[str, Verifier]:
        """The protected routes and their verifiers (read-only)."""
        return self._routes

    @property
    def public_url(self) -> str | None:
        """The configured public base URL (read-only)."""
        return self._settings.public_url

    def _check_keys(self, app: web.Application, prefix: str) -> None:
        if id(app) in self._checked_apps:
            return
        known = _canonicals(app)
        if prefix:
            known |= {path[len(prefix) :] or "/" for path in known if path.startswith(prefix)}
        missing = sorted(set(self._routes) - known)
        if missing:
            raise ConfigurationError(
                f"WebhookMiddleware routes {missing!r} name no route of this application: key "
                "each resource path exactly as add_route/add_post declares it (a regex "
                "parameter '{name:...}' is keyed '{name}')."
            )
        self._checked_apps.add(id(app))

    def verifier_for(self, request: web.Request) -> Verifier | None:
        """The verifier protecting the route ``request`` reached, or None."""
        match_info = request.match_info
        resource = match_info.route.resource
        apps = match_info.apps
        prefix = _prefixes(apps).get(id(request.app), "") if len(apps) > 1 else ""
        self._check_keys(request.app, prefix)
        if resource is None:  # 404/405: no handler of the application runs
            return None
        canonical = resource.canonical
        verifier = self._routes.get(canonical)
        if verifier is None and prefix and canonical.startswith(prefix):
            verifier = self._routes.get(canonical[len(prefix) :] or "/")
        return verifier

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Verify requests to protected routes; pass everything else through untouched."""
        verifier = self.verifier_for(request)
        if verifier is None:
            return await handler(request)
        response: web.StreamResponse = await _run(handler, request, verifier, self._settings)
        return response

    def __repr__(self) -> str:
        return f"WebhookMiddleware(routes={sorted(self._routes)!r})"
