"""Starlette (and any ASGI app): ``HookSealMiddleware``, a pure ASGI middleware.

``app.add_middleware(HookSealMiddleware, routes={"/hooks/github": verifier})`` protects the
listed paths, matched the way Starlette's router matches them (``scope["path"]`` without the
``root_path`` prefix, so mounted sub-apps and ``--root-path`` deployments are covered) and in
every spelling that can route to the same endpoint (trailing or repeated slashes,
percent-encoding): such a request is verified, never passed through unverified. For each request
to one of them the middleware reads the body up to the limit
(``Content-Length`` first; it stops and answers 413 as soon as the limit is passed), verifies it
with :meth:`~hookseal.Verifier.averify_delivery` (the nonce store is awaited, never blocking
the event loop), and only then calls the app, replaying the same bytes through a wrapped
``receive`` so the handler can still ``await request.body()``. The
:class:`~hookseal.Verified` is put in ``scope["state"]["webhook"]``, i.e. ``request.state.webhook``.

It is plain ASGI and imports nothing from Starlette, so it can also wrap another ASGI
application (a Django ASGI app, for instance) to bound the body before that framework reads it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, unquote

from .._delivery import Verified
from .._errors import ConfigurationError, MalformedHeader, VerificationError
from .._headers import Headers
from .._verifier import Verifier
from ..schemes.github import GitHub
from ..schemes.slack import Slack
from ..schemes.standard_webhooks import StandardWebhooks
from ..schemes.stripe import Stripe
from ..stores.memory import MemoryNonceStore
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

__all__ = [
    "VERIFIED_BY",
    "HookSealMiddleware",
    "read_body",
    "request_url",
    "route_path",
    "scope_headers",
]

#: The ``scope["state"]`` key holding the verifier that produced ``state["webhook"]``.
VERIFIED_BY = "hookseal.verifier"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Schemes (exactly these classes, not subclasses) that read headers only through read_header:
# for them a plain dict of header lines with no repeated name is as good as ``Headers``.
_PLAIN_HEADERS: frozenset[type] = frozenset({GitHub, Slack, StandardWebhooks, Stripe})
_new_headers = Headers.__new__
# Header names as ``Headers`` spells them (Latin-1 text, lower case), per raw name: the same
# few names arrive on every request. Bounded in count and length (names are attacker-chosen).
_NAME_TEXT: dict[bytes, str] = {}
_NAME_TEXT_MAX = 256
_NAME_TEXT_LONGEST = 64


def _name_text(name: bytes) -> str:
    """``name`` decoded as Latin-1 and lower-cased, remembered for exact ``bytes`` names."""
    text = name.decode("latin-1").lower()
    if type(name) is bytes and len(name) <= _NAME_TEXT_LONGEST and len(_NAME_TEXT) < _NAME_TEXT_MAX:
        _NAME_TEXT[name] = text
    return text


class ClientDisconnected(Exception):
    """The client went away before the whole body arrived (nothing is answered)."""


def check_public_url(public_url: object) -> str | None:
    """Validate ``public_url``: an ``http(s)://host[/prefix]`` base without query or fragment."""
    if public_url is None:
        return None
    if (
        not isinstance(public_url, str)
        or not public_url.isascii()
        or _PUBLIC_URL.fullmatch(public_url) is None
    ):
        raise ConfigurationError(
            "public_url must be the public base URL the sender addresses, such as "
            "'https://hooks.example.com' (optionally with a path prefix), without query."
        )
    return public_url.rstrip("/")


_PUBLIC_URL = re.compile(r"https?://[^/?#@\s]+(/[^?#\s]*)?")


def signs_url(verifier: Verifier) -> bool:
    """Whether ``verifier``'s scheme declares that its signature covers the request URL."""
    return bool(getattr(verifier.scheme, "signs_url", False))


def check_url_origin(verifier: Verifier, public_url: str | None, where: str) -> None:
    """Refuse a URL-signing scheme without a trusted origin (``public_url``).

    A ``Host`` header is the client's claim: a URL rebuilt from it would let a delivery
    captured from another deployment (same account token, same path) be accepted here.
    """
    if public_url is None and signs_url(verifier):
        raise ConfigurationError(
            f"{where} uses a scheme that signs the request URL ({verifier.scheme.name}): pass "
            "public_url='https://your.public.host' (the base URL the sender is configured "
            "with), so the signed URL is rebuilt from configuration, not from the request's "
            "Host header."
        )


def request_url(scope: Scope, public_url: str | None = None) -> str:
    """The URL the sender addressed, for schemes that sign it (Twilio, RFC 9421).

    The path is the request target exactly as received (``raw_path``; else ``root_path +
    path``, percent-encoded), plus the query string. The scheme and host come from
    ``public_url`` when set; otherwise from the scope's scheme and the ``Host`` header (or the
    server address). Forwarding headers are never read here. The adapters call this only with
    ``public_url`` for schemes that sign the URL: a ``Host`` header is the client's claim.

    Raises:
        MalformedHeader: without ``public_url``, when the request has no ``Host`` header and
            the server reported no address (no absolute URL can be built).
    """
    raw_path = scope.get("raw_path")
    if raw_path:
        path = bytes(raw_path).decode("latin-1")
    else:
        path = quote(scope.get("root_path", "") + scope.get("path", "/"), safe="/%:@!$&'()*+,;=")
    query = scope.get("query_string") or b""
    if query:
        path = f"{path}?{bytes(query).decode('latin-1')}"
    if public_url is not None:
        return public_url + path
    scheme = scope.get("scheme") or "http"
    host = None
    for name, value in scope.get("headers") or ():
        if bytes(name).lower() == b"host":
            host = bytes(value).decode("latin-1")
            break
    if not host:
        server = scope.get("server")
        if not server:
            raise MalformedHeader(
                "The request has no Host header and the server reported no address, so the "
                "signed URL cannot be rebuilt; configure public_url.",
                header="Host",
            )
        address, port = server[0], server[1]
        if ":" in address:
            address = f"[{address}]"
        default = 443 if scheme in ("https", "wss") else 80
        host = address if port in (None, default) else f"{address}:{port}"
    return f"{scheme}://{host}{path}"


def route_path(scope: Scope) -> str:
    """``scope["path"]`` without the ``root_path`` prefix: the path Starlette routes on.

    The same rule as ``starlette._utils.get_route_path`` (Starlette 0.35 and later): servers
    started with ``--root-path`` and ``Mount`` keep the prefix in ``path``, and the router
    strips it. Older Starlette gave mounted apps a ``path`` without the prefix; this returns
    such a path unchanged, as the newer rule does.
    """
    path: str = scope["path"]
    root = scope.get("root_path")
    if not root or not isinstance(root, str) or not path.startswith(root):
        return path
    if path == root:
        return ""
    if path[len(root)] == "/":
        return path[len(root) :]
    return path


def _spelling(path: str) -> str:
    """One spelling for every path that can route to the same endpoint.

    Percent-escapes decoded (servers decode ``path`` once; an inner app that decodes again
    must not reach a protected endpoint unverified), repeated slashes collapsed and a trailing
    slash dropped (``redirect_slashes``, or a route declared with the other spelling).
    """
    if "%" in path:
        path = unquote(path)
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path or "/"


_SLASHES = re.compile("/{2,}")


async def read_body(receive: Receive, headers: Headers, limit: int) -> bytes:
    """Read the request body from ``receive``, never more than ``limit`` plus one message.

    Raises PayloadTooLarge (``Content-Length`` over the limit, or the body passing it while
    being read), MalformedHeader (a repeated or non-numeric ``Content-Length``) or
    :class:`ClientDisconnected`.
    """
    return await _read_body(receive, headers.one("content-length"), limit)


async def _read_body(receive: Receive, content_length: str | None, limit: int) -> bytes:
    """:func:`read_body`, given the single ``Content-Length`` value (or None)."""
    declared = declared_length(content_length)
    if declared is not None and declared > limit:
        raise payload_too_large(declared, limit)
    message = await receive()
    if message.get("type") == "http.request" and not message.get("more_body", False):
        # The common case: the whole body in one message.
        chunk = message.get("body") or b""
        if len(chunk) > limit:
            raise payload_too_large(None, limit)
        return chunk if type(chunk) is bytes else bytes(chunk)
    return await _read_rest(receive, message, limit)


async def _read_rest(receive: Receive, message: Message, limit: int) -> bytes:
    """The rest of :func:`read_body`, from its first message on.

    The chunks go into one ``bytearray`` that never holds more than ``limit`` bytes, whatever
    the chunking (a list of one ``bytes`` per message costs some 40 times the body for 1-byte
    chunks); the result is one ``bytes``, replayed to the application as one message.
    """
    buffer = bytearray()
    while True:
        kind = message.get("type")
        if kind == "http.disconnect":
            raise ClientDisconnected
        if kind == "http.request":
            chunk = message.get("body") or b""
            if len(buffer) + len(chunk) > limit:
                raise payload_too_large(None, limit)
            buffer += chunk
            if not message.get("more_body", False):
                return bytes(buffer)
        message = await receive()


def replaying_receive(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that first hands out ``body`` in one message, then defers to ``receive``."""
    pending = True

    async def wrapped() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


async def send_text(send: Send, status: int, text: str) -> None:
    """Answer with a short plain-text response, closing the connection (unread body)."""
    payload = f"{text}\n".encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(payload)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload, "more_body": False})


def peer_address(scope: Scope) -> str | None:
    """The peer address the server reports for the connection (``scope["client"]``)."""
    client = scope.get("client")
    if not client:
        return None
    return str(client[0])


async def verify_scope(
    scope: Scope,
    receive: Receive,
    verifier: Verifier,
    public_url: str | None,
) -> tuple[Verified, bytes]:
    """Read, bound and verify the body of the request in ``scope``.

    Every rejection, including those made before the verifier sees the body (a repeated or
    malformed ``Content-Length``, an oversized body, unusable header lines, no URL to rebuild),
    is recorded as exactly one audit event. Raises VerificationError (already recorded) or
    ClientDisconnected.
    """
    raw = scope.get("headers") or ()
    client = scope.get("client")  # as peer_address(scope)
    remote_addr = str(client[0]) if client else None
    method = str(scope.get("method", "POST"))
    headers: Mapping[str, str] | None = None
    url: str | None = None
    try:
        if signs_url(verifier):
            if public_url is None:  # the constructors refuse this; never fall back to Host
                raise ConfigurationError("a URL-signing scheme needs public_url")
            url = request_url(scope, public_url)
        elif type(verifier.scheme) in _PLAIN_HEADERS and verifier.allowlist is None:
            headers = _unrepeated_headers(raw)
        if headers is None:
            lines = scope_headers(raw)
            headers = lines
            content_length = lines.one("content-length")
        else:
            content_length = headers.get("content-length")
        # _read_body, with its common case (the whole body in one message) inline.
        limit = verifier.policy.max_body_bytes
        declared = declared_length(content_length)
        if declared is not None and declared > limit:
            raise payload_too_large(declared, limit)
        message = await receive()
        if message.get("type") == "http.request" and not message.get("more_body", False):
            body = message.get("body") or b""
            if len(body) > limit:
                raise payload_too_large(None, limit)
            if type(body) is not bytes:
                body = bytes(body)
        else:
            body = await _read_rest(receive, message, limit)
    except VerificationError as error:
        if headers is None:
            seen = Headers()
        elif isinstance(headers, Headers):
            seen = headers
        else:
            seen = Headers(headers)
        record_early_rejection(
            verifier, error, seen, method=method, url=url, remote_addr=remote_addr
        )
        raise
    # What averify_delivery(Delivery(...)) does, without building the Delivery. With no
    # store, or the in-memory one (whose areserve only calls reserve), averify and verify do
    # exactly the same work: skip the coroutine.
    store = verifier.nonce_store
    if store is None or type(store) is MemoryNonceStore:
        verified = verifier.verify(body, headers, url=url, method=method, remote_addr=remote_addr)
    else:
        verified = await verifier.averify(
            body, headers, url=url, method=method, remote_addr=remote_addr
        )
    return verified, body


def _unrepeated_headers(raw: Any) -> dict[str, str] | None:
    """The ASGI header list as a plain dict, or None if a name repeats or a line is unusual.

    Values are decoded as Latin-1, as ``Headers`` decodes ``bytes`` (a ``bytearray`` value
    decodes the same; a ``str`` value or name, or a line that is not a pair, gives None).
    """
    if type(raw) is not list:
        return None
    known = _NAME_TEXT.get
    try:
        plain = {known(name) or _name_text(name): value.decode("latin-1") for name, value in raw}
    except (AttributeError, TypeError, ValueError):
        return None
    if len(plain) != len(raw):
        return None
    return plain


def scope_headers(raw: Any) -> Headers:
    """``Headers(raw)`` for the ASGI header list, built without its per-line generality.

    Anything but a list of ``bytes`` pairs without repeated names (a repeated line, ``str``
    lines, lines that are not pairs) is handed to ``Headers`` itself, so it is kept, refused or
    decoded exactly as ``Headers`` does.
    """
    if type(raw) is not list:
        return Headers(raw)
    known = _NAME_TEXT.get
    try:
        store = {known(name) or _name_text(name): [value.decode("latin-1")] for name, value in raw}
    except (AttributeError, TypeError, ValueError):  # not pairs of bytes
        return Headers(raw)
    if len(store) != len(raw):
        return Headers(raw)  # a name sent twice: Headers keeps every line, to refuse it
    headers: Headers = _new_headers(Headers)
    headers._lines = store
    return headers


async def _run_then_release(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    verifier: Verifier,
    verified: Verified,
) -> None:
    """Run ``app`` for ``verified``, releasing its replay record if ``app`` fails.

    A failure is a 5xx answer (released before it is passed on, so the sender's retry finds
    the record gone), or an exception or cancellation before any answer, or no answer at all.
    An exception after a non-5xx answer started (a background task failing after a 200)
    releases nothing: the sender saw success and will not retry.
    """
    started = False

    async def watching_send(message: Message) -> None:
        nonlocal started
        if message.get("type") == "http.response.start" and not started:
            started = True
            if handler_failed(message.get("status")):
                await verifier.arelease(verified)
        await send(message)

    try:
        await app(scope, receive, watching_send)
    except BaseException:  # cancellation too: the sender got no answer and will retry
        if not started:
            await verifier.arelease(verified)
        raise
    if not started:
        await verifier.arelease(verified)


class HookSealMiddleware:
    """Verify deliveries to the listed paths before the application sees them.

    Paths are matched as Starlette's router matches them: on ``scope["path"]`` without the
    ``root_path`` prefix (a mounted sub-app, ``uvicorn --root-path``, ``FastAPI(root_path=...)``),
    and also on the full ``scope["path"]``. Every spelling that can route to the same endpoint
    (a trailing slash, repeated slashes, percent-escapes) is verified as the listed path: a
    request that could reach a protected endpoint is never passed through unverified.

    Args:
        app: the ASGI application to protect.
        routes: a mapping of request paths, as the wrapped application routes them (e.g.
            ``"/hooks/github"``, relative to its mount point), to the
            :class:`~hookseal.Verifier` for that sender. Other paths pass through.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(scope, error)``, called once per rejection (for metrics); its
            failures are logged and ignored.
        public_url: the public base URL the sender addresses (``"https://hooks.example.com"``),
            from which the signed URL is rebuilt; required when a route's scheme signs the
            URL (Twilio, RFC 9421). See :func:`request_url`.
        release_on_error: when the application answers 5xx, or raises or answers nothing
            before answering, release the delivery's replay record
            (:meth:`~hookseal.Verifier.arelease`) so that the sender's retry is accepted. On
            by default, bounded per delivery by the verifier's ``max_releases`` (counted in
            the nonce store); pass False to keep every record.

    Raises:
        ConfigurationError: for any configuration mistake, at construction (including a
            URL-signing scheme without ``public_url``, and two spellings of one path mapped
            to different verifiers).
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
        if not isinstance(routes, Mapping) or not routes:
            raise ConfigurationError("routes must map request paths to hookseal.Verifier objects.")
        checked: dict[str, Verifier] = {}
        spelled: dict[str, Verifier] = {}
        base_url = check_public_url(public_url)
        for path, verifier in routes.items():
            if not isinstance(path, str) or not path.startswith("/"):
                raise ConfigurationError(f"routes keys must be paths starting with '/': {path!r}.")
            checked[path] = check_verifier(verifier, f"routes[{path!r}]")
            check_url_origin(verifier, base_url, f"routes[{path!r}]")
            key = _spelling(path)
            if spelled.setdefault(key, verifier) is not verifier:
                raise ConfigurationError(
                    f"routes[{path!r}] and another key are spellings of the same path ({key!r}) "
                    "mapped to different verifiers: keep one of them."
                )
        self.app = app
        self._routes = MappingProxyType(checked)
        self._spelled = spelled
        self.replay_status = check_replay_status(replay_status)
        self.on_reject = check_on_reject(on_reject)
        self._public_url = base_url
        self.release_on_error = check_release_on_error(release_on_error)

    @property
    def routes(self) -> Mapping[str, Verifier]:
        """The protected paths and their verifiers, as given (read-only)."""
        return self._routes

    @property
    def public_url(self) -> str | None:
        """The configured public base URL (read-only: it was checked against the routes)."""
        return self._public_url

    def verifier_for(self, scope: Scope) -> Verifier | None:
        """The verifier protecting the request in ``scope``, or None if it is not protected.

        Tried in order: the path Starlette routes on (:func:`route_path`), then the full
        ``scope["path"]``, each as is and then in its canonical spelling (see the class).
        """
        spelled = self._spelled
        path: str = scope["path"]
        if scope.get("root_path"):
            candidates: tuple[str, ...] = (route_path(scope), path)
        else:
            candidates = (path,)
        for candidate in candidates:
            verifier = spelled.get(candidate)
            if verifier is None:
                verifier = spelled.get(_spelling(candidate))
            if verifier is not None:
                return verifier
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Verify requests to protected paths; pass everything else through untouched."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        verifier = self.verifier_for(scope)
        if verifier is None:
            await self.app(scope, receive, send)
            return
        try:
            verified, body = await verify_scope(scope, receive, verifier, self._public_url)
        except ClientDisconnected:
            return
        except VerificationError as error:
            run_on_reject(self.on_reject, scope, error)
            await send_text(send, status_for(error, self.replay_status), generic_body(error))
            return
        state = scope.get("state")
        scope = dict(scope)
        # Which verifier produced the verdict (VERIFIED_BY): a FastAPI dependency built with
        # another verifier must not take this verdict as its own.
        scope["state"] = (
            {**state, "webhook": verified, VERIFIED_BY: verifier}
            if state
            else {"webhook": verified, VERIFIED_BY: verifier}
        )
        if not self.release_on_error or getattr(verified, "_reservation", None) is None:
            # Nothing recorded (no nonce store, or nothing per delivery): nothing to release.
            await self.app(scope, replaying_receive(body, receive), send)
            return
        await _run_then_release(
            self.app, scope, replaying_receive(body, receive), send, verifier, verified
        )

    def __repr__(self) -> str:
        return f"HookSealMiddleware(routes={sorted(self._routes)!r})"
