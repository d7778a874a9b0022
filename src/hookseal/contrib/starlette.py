"""Starlette (and any ASGI app): ``WebhookMiddleware``, a pure ASGI middleware.

``app.add_middleware(WebhookMiddleware, routes={"/hooks/github": verifier})`` protects the
listed paths, matched the way Starlette's router matches them (``scope["path"]`` without the
``root_path`` prefix, so mounted sub-apps and ``--root-path`` deployments are covered) and in
every spelling that can route to the same endpoint (trailing or repeated slashes,
percent-encoding): such a request is verified, never passed through unverified. For each request
to one of them the middleware reads the body up to the limit
(``Content-Length`` first; it stops and answers 413 as soon as the limit is passed), verifies it
with :meth:`~hookseal.Verifier.averify_delivery` (the nonce store is awaited, never blocking
the event loop), and only then calls the app, replaying the same bytes through a wrapped
``receive`` so the handler can still ``await request.body()``. The
:class:`~hookseal.Verified` is put in ``scope["state"]["webhook"]``, i.e. ``request.state.webhook``;
``get_webhook(request)`` returns it (or raises ``LookupError`` on an unprotected route).

Subscription handshakes (docs/handshakes.md) are answered by the middleware without calling
the app: an unsigned one the scheme authenticates (Meta's ``GET`` with ``hub.verify_token``,
Okta, Dropbox) before verification, a signed one (Slack's ``url_verification``, Discord's
PING, Zoom, Twitch, an opted-in SNS confirmation) after it.

Routes with path parameters: a key may be a Starlette path template
(``"/hooks/{tenant:int}"``), matched exactly as Starlette's router matches it; a literal key
that the application's router reaches through a convertor (``int``, ``float``, ``uuid``,
custom) protects every spelling of the same parameter values (``/hooks/01`` for
``/hooks/1``); a literal key to a FastAPI endpoint whose path parameters pydantic converts
(``tenant: int``) is a ConfigurationError (key the template instead).

It is plain ASGI and needs nothing from Starlette (imported only for template keys, or when
the wrapped application routes with Starlette), so it can also wrap another ASGI application
(a Django ASGI app, for instance) to bound the body before that framework reads it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from .._errors import VerificationError
from .._headers import Headers
from .._verifier import Verifier
from . import _asgi
from ._asgi import (
    STATE_KEY,
    ASGIApp,
    ClientDisconnected,
    Receive,
    RouteTable,
    Scope,
    Send,
    get_webhook,
    peer_address,
    replaying_receive,
    run_then_release,
    send_reply,
    send_text,
    verify_scope,
)
from ._asgi import VERIFIED_BY as _VERIFIED_BY
from ._common import (
    RejectHook,
    check_on_reject,
    check_release_on_error,
    check_replay_status,
    generic_body,
    run_on_reject,
    status_for,
)
from ._handshakes import ahandshake_reply, unsigned_handshake_reply
from ._origin import check_public_url

__all__ = ["WebhookMiddleware", "get_webhook"]


class WebhookMiddleware:
    """Verify deliveries to the listed paths before the application sees them.

    Paths are matched as Starlette's router matches them: on ``scope["path"]`` without the
    ``root_path`` prefix (a mounted sub-app, ``uvicorn --root-path``, ``FastAPI(root_path=...)``),
    and also on the full ``scope["path"]``. Every spelling that can route to the same endpoint
    (a trailing slash, repeated slashes, percent-escapes, a trailing newline, another
    spelling of a converted path parameter) is verified as the listed path: a request that
    could reach a protected endpoint is never passed through unverified. A key containing
    ``{`` is a Starlette path template (``"/hooks/{tenant:int}"``).

    Args:
        app: the ASGI application to protect.
        routes: a mapping of request paths, as the wrapped application routes them (e.g.
            ``"/hooks/github"``, relative to its mount point), or of Starlette path templates
            (``"/hooks/{tenant:int}"``), to the :class:`~hookseal.Verifier` for that sender.
            Other paths pass through.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(scope, error)``, called once per rejection (for metrics); its
            failures are logged and ignored.
        public_url: the public base URL the sender addresses (``"https://hooks.example.com"``),
            from which the signed URL is rebuilt; required when a route's scheme signs the
            URL (Twilio, RFC 9421); the path and query are the request target as received.
        release_on_error: when the application answers 5xx, or raises or answers nothing
            before answering, release the delivery's replay record
            (:meth:`~hookseal.Verifier.arelease`) so that the sender's retry is accepted. On
            by default, bounded per delivery by the verifier's ``max_releases`` (counted in
            the nonce store); pass False to keep every record.

    Raises:
        ConfigurationError: for any configuration mistake, at construction (including a
            URL-signing scheme without ``public_url``, two spellings of one path mapped to
            different verifiers, a template Starlette refuses); on the first request or at
            startup, a literal key to a FastAPI endpoint with typed path parameters.
    """

    def __init__(
        self,
        app: ASGIApp,
        routes: Mapping[str, Verifier],
        *,
        replay_status: int = 409,
        on_reject: RejectHook | None = None,
        public_url: str | None = None,
        release_on_error: bool = True,
    ) -> None:
        self.app = app
        self._public_url = check_public_url(public_url)
        self._table = RouteTable(routes, self._public_url)
        self.replay_status = check_replay_status(replay_status)
        self.on_reject = check_on_reject(on_reject)
        self.release_on_error = check_release_on_error(release_on_error)

    @property
    def routes(self) -> Mapping[str, Verifier]:
        """The protected paths and their verifiers, as given (read-only)."""
        return self._table.routes

    @property
    def public_url(self) -> str | None:
        """The configured public base URL (read-only: it was checked against the routes)."""
        return self._public_url

    def verifier_for(self, scope: Scope) -> Verifier | None:
        """The verifier protecting the request in ``scope``, or None if it is not protected.

        Tried in order: the path Starlette routes on (``scope["path"]`` without
        ``root_path``), then the full ``scope["path"]``, each as is and then in its canonical
        spelling (see the class): first against the literal keys, then against the path
        templates, then through the application's router (a literal key reached through an
        ``int``, ``float``, ``uuid`` or custom convertor protects every spelling of the same
        parameter values).
        """
        return self._table.verifier_for(scope, self.app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Verify requests to protected paths; pass everything else through untouched."""
        if scope["type"] != "http":
            if scope["type"] == "lifespan" and not self._table.resolved:
                self._table.resolve_keys(self.app)  # at startup, when the server runs the lifespan
            await self.app(scope, receive, send)
            return
        verifier = self.verifier_for(scope)
        if verifier is None:
            await self.app(scope, receive, send)
            return
        if verifier.answers_unsigned_handshakes:
            try:
                unsigned = unsigned_handshake_reply(
                    verifier,
                    str(scope.get("method", "GET")),
                    bytes(scope.get("query_string") or b""),
                    Headers.from_asgi(scope.get("headers") or []),
                    peer_address(scope),
                )
            except VerificationError:
                unsigned = None  # unusable header lines: verification refuses them, says why
            if unsigned is not None:
                await send_reply(send, unsigned)
                return
        try:
            verified, body = await verify_scope(scope, receive, verifier, self._public_url)
        except ClientDisconnected:
            return
        except VerificationError as error:
            run_on_reject(self.on_reject, scope, error)
            await send_text(send, status_for(error, self.replay_status), generic_body(error))
            return
        if verifier.answers_handshakes:
            reply = await ahandshake_reply(verifier, verified)
            if reply is not None:
                await send_reply(send, reply)
                return
        state = scope.get("state")
        scope = dict(scope)
        # Which verifier produced the verdict (_VERIFIED_BY): a FastAPI dependency built with
        # another verifier must not take this verdict as its own.
        scope["state"] = (
            {**state, STATE_KEY: verified, _VERIFIED_BY: verifier}
            if state
            else {STATE_KEY: verified, _VERIFIED_BY: verifier}
        )
        if not self.release_on_error or not verified.recorded:
            # Nothing recorded (no nonce store, or nothing per delivery): nothing to release.
            await self.app(scope, replaying_receive(body, receive), send)
            return
        await run_then_release(
            self.app, scope, replaying_receive(body, receive), send, verifier, verified
        )

    def __repr__(self) -> str:
        return f"WebhookMiddleware(routes={sorted(self._table.routes)!r})"


_INTERNAL = "it is an internal detail of the middleware, no longer part of the public API"

#: Names this module exported before 0.2: (what to use instead, the object). Removed in 0.3.
_DEPRECATED: dict[str, tuple[str, Any]] = {
    "HookSealMiddleware": ("use WebhookMiddleware (the same class)", WebhookMiddleware),
    "VERIFIED_BY": (_INTERNAL, _VERIFIED_BY),
    "read_body": (_INTERNAL, _asgi.read_body),
    "request_url": (_INTERNAL, _asgi.request_url),
    "route_path": (_INTERNAL, _asgi.route_path),
    "scope_headers": ("use hookseal.Headers.from_asgi", Headers.from_asgi),
}


def __getattr__(name: str) -> Any:
    """Serve a deprecated name, with a ``DeprecationWarning`` saying what replaces it."""
    entry = _DEPRECATED.get(name)
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    instead, value = entry
    warnings.warn(
        f"hookseal.contrib.starlette.{name} is deprecated and will be removed in 0.3: {instead}.",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
