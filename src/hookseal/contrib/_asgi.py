"""ASGI plumbing shared by the Starlette middleware and the FastAPI dependency.

Route matching (the paths and spellings a request can reach an endpoint by), body reading
with a bounded buffer, rebuilding the signed URL, the generic plain-text response, and
releasing a replay record when the application fails. Nothing here names a particular scheme
or nonce store: what a scheme needs is read from its declarations (``Scheme.signs_url``).
It is plain ASGI; Starlette is imported only to compile path templates and to walk the
wrapped application's router.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, unquote

from .._delivery import Verified
from .._errors import ConfigurationError, MalformedHeader, VerificationError
from .._handshake import HandshakeReply
from .._headers import Headers
from .._verifier import Verifier
from ._common import (
    check_verifier,
    declared_length,
    handler_failed,
    payload_too_large,
    record_early_rejection,
)

__all__ = [
    "STATE_KEY",
    "VERIFIED_BY",
    "ASGIApp",
    "ClientDisconnected",
    "Message",
    "Receive",
    "RouteTable",
    "Scope",
    "Send",
    "check_url_origin",
    "find_router",
    "get_webhook",
    "peer_address",
    "read_body",
    "replaying_receive",
    "request_url",
    "route_path",
    "run_then_release",
    "send_reply",
    "send_text",
    "verify_scope",
]

#: The ``scope["state"]`` key holding the verified delivery (``request.state.webhook``).
STATE_KEY = "webhook"
#: The ``scope["state"]`` key holding the verifier that produced ``state["webhook"]``.
VERIFIED_BY = "hookseal.verifier"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ClientDisconnected(Exception):
    """The client went away before the whole body arrived (nothing is answered)."""


def check_url_origin(verifier: Verifier, public_url: str | None, where: str) -> None:
    """Refuse a URL-signing scheme without a trusted origin (``public_url``).

    A ``Host`` header is the client's claim: a URL rebuilt from it would let a delivery
    captured from another deployment (same account token, same path) be accepted here.
    """
    if public_url is None and verifier.scheme.signs_url:
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
    must not reach a protected endpoint unverified), repeated slashes collapsed and trailing
    slashes and newlines dropped (``redirect_slashes``, a route declared with the other
    spelling, and Starlette's route patterns, which end in ``$`` and so also match a path
    ending in one newline: ``/hooks/github%0A`` routes to ``/hooks/github``).
    """
    if "%" in path:
        path = unquote(path)
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if len(path) > 1 and path[-1] in "/\n":
        path = path.rstrip("/\n")
    return path or "/"


_SLASHES = re.compile("/{2,}")

# -- path templates and convertors (Starlette is imported only when a template key is used
# or when the wrapped application turns out to route with Starlette) -----------------------

#: How many ``.app`` / ``.router`` links are followed from the wrapped application to find
#: Starlette's router (middleware stacks are a handful deep).
_ROUTER_SEARCH_DEPTH = 64
#: How deep ``Mount`` routes are followed when resolving a path through the router.
_MOUNT_DEPTH = 16


def _template_spelling(template: str) -> str:
    """:func:`_spelling` for a path template: repeated slashes collapsed, no trailing slash.

    Percent-escapes are left alone: they are part of the template's literal text.
    """
    if "//" in template:
        template = _SLASHES.sub("/", template)
    if len(template) > 1 and template.endswith("/"):
        template = template[:-1]
    return template or "/"


def _compile_template(template: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The regular expressions Starlette routes ``template`` with: as given, and its spelling.

    Raises ConfigurationError when Starlette is not installed or refuses the template (an
    unknown convertor, a repeated parameter name).
    """
    try:
        from starlette.routing import compile_path
    except ImportError as exc:
        raise ConfigurationError(
            f"routes[{template!r}] is a path template: templates are compiled with "
            "Starlette's router (pip install starlette), or list literal paths instead."
        ) from exc
    try:
        exact = compile_path(template)[0]
        spelled = compile_path(_template_spelling(template))[0]
    except (AssertionError, ValueError, re.error) as exc:
        raise ConfigurationError(
            f"routes[{template!r}] is not a path template Starlette can route ({exc}): use "
            "the template exactly as the route declares it, e.g. '/hooks/{{tenant:int}}'."
        ) from exc
    return exact, spelled


def find_router(app: object) -> Any:
    """Starlette's ``Router`` that ``app`` routes with, or None when there is none to be found.

    Follows ``.router`` (a Starlette or FastAPI application) and ``.app`` (middleware,
    including the stack Starlette builds) from ``app``, a bounded number of links.
    """
    try:
        from starlette.routing import Router
    except ImportError:  # pragma: no cover - only without Starlette: plain ASGI apps
        return None
    current: object = app
    for _ in range(_ROUTER_SEARCH_DEPTH):
        if isinstance(current, Router):
            return current
        router = getattr(current, "router", None)
        if isinstance(router, Router):
            return router
        current = getattr(current, "app", None)
        if current is None:
            return None
    return None


def _plain_convertor(convertor: object) -> bool:
    """Whether a convertor gives back the matched text itself (``str``, ``path``)."""
    from starlette.convertors import PathConvertor, StringConvertor

    return type(convertor) in (StringConvertor, PathConvertor)


def _converted(convertors: dict[str, Any], texts: dict[str, str]) -> dict[str, Any] | None:
    """Each matched text through its convertor, or None if one fails.

    Starlette fails the request when a convertor raises: such a path reaches no endpoint.
    """
    try:
        return {name: convertors[name].convert(text) for name, text in texts.items()}
    except Exception:
        return None


def _typed_path_params(route: object) -> list[str]:
    """The path parameters a FastAPI route validates into another type than ``str``.

    FastAPI converts them with pydantic after routing (``tenant: int`` accepts ``01``,
    ``+1``, ``1.0``, `` 1``, ``1_0``...): such spellings cannot be enumerated here.
    """
    params = getattr(getattr(route, "dependant", None), "path_params", None) or ()
    typed = []
    for field in params:
        annotation = getattr(getattr(field, "field_info", None), "annotation", str)
        if annotation is not str and annotation is not Any:
            typed.append(str(getattr(field, "name", "?")))
    return typed


def _resolutions(
    routes: Any, path: str, depth: int = 0, *, key: str | None = None
) -> Iterator[tuple[tuple[int, ...], list[tuple[str, Any]], bool]]:
    """Every ``(route chain, converted parameters, converted)`` that ``path`` can route to.

    Mirrors ``Route.matches`` and ``Mount.matches`` (the route's ``path_regex``, each value
    passed through its convertor, a mount's remaining path resolved in its routes), but
    yields every matching route, not only the first: a request is protected when *any* of
    them is a protected endpoint with the same parameter values. ``converted`` says whether
    some convertor on the chain maps several spellings to one value (anything but ``str`` and
    ``path``). Routes that cannot be introspected (``Host``, custom route classes) are skipped.

    With ``key`` (resolving a literal routes key), a FastAPI route whose path parameters are
    validated into other types raises ConfigurationError (see :func:`_typed_path_params`).
    """
    if depth > _MOUNT_DEPTH:
        return
    for route in routes:
        regex = getattr(route, "path_regex", None)
        convertors = getattr(route, "param_convertors", None)
        if not isinstance(regex, re.Pattern) or not isinstance(convertors, dict):
            continue
        match = regex.match(path)
        if match is None:
            continue
        values = _converted(convertors, match.groupdict())
        if values is None:
            continue
        typed = _typed_path_params(route) if key is not None else None
        if typed:
            declared = getattr(route, "path", "?")
            raise ConfigurationError(
                f"WebhookMiddleware routes[{key!r}] is a literal path to the FastAPI route "
                f"{declared!r}, whose path parameters ({', '.join(typed)}) are validated into "
                "other types, so other spellings (a leading zero, a sign, whitespace) reach "
                f"the same endpoint with the same value. Key the template {declared!r} "
                "instead, or verify in the endpoint with Depends(verify_webhook(...))."
            )
        converted = any(not _plain_convertor(convertors[name]) for name in values if name != "path")
        sub_routes = getattr(route, "routes", None) if "path" in values else None
        if sub_routes is not None and hasattr(route, "app"):  # a Mount
            rest = "/" + str(values.pop("path"))
            params = sorted(values.items())
            for chain, inner, inner_converted in _resolutions(sub_routes, rest, depth + 1, key=key):
                yield (id(route), *chain), params + inner, converted or inner_converted
            continue
        yield (id(route),), sorted(values.items()), converted


_Routed = list[tuple[tuple[int, ...], list[tuple[str, Any]], Verifier]]


class RouteTable:
    """Which verifier protects a request: paths, their spellings, templates and the router.

    Built from a ``routes`` mapping of paths (``"/hooks/github"``) or Starlette path templates
    (``"/hooks/{tenant:int}"``) to verifiers, validated at construction. See
    :class:`hookseal.contrib.starlette.WebhookMiddleware` for the matching rules.

    Raises:
        ConfigurationError: ``routes`` is empty or not a mapping, a key is not a path, a
            value is not a Verifier, a URL-signing scheme has no ``public_url``, two
            spellings of one path map to different verifiers, a template Starlette refuses.
    """

    def __init__(self, routes: object, public_url: str | None) -> None:
        if not isinstance(routes, Mapping) or not routes:
            raise ConfigurationError("routes must map request paths to hookseal.Verifier objects.")
        checked: dict[str, Verifier] = {}
        spelled: dict[str, Verifier] = {}
        templates: list[tuple[re.Pattern[str], re.Pattern[str], Verifier]] = []
        for path, verifier in routes.items():
            if not isinstance(path, str) or not path.startswith("/"):
                raise ConfigurationError(f"routes keys must be paths starting with '/': {path!r}.")
            checked[path] = check_verifier(verifier, f"routes[{path!r}]")
            check_url_origin(verifier, public_url, f"routes[{path!r}]")
            if "{" in path:
                exact, spelled_regex = _compile_template(path)
                templates.append((exact, spelled_regex, verifier))
                continue
            key = _spelling(path)
            if spelled.setdefault(key, verifier) is not verifier:
                raise ConfigurationError(
                    f"routes[{path!r}] and another key are spellings of the same path ({key!r}) "
                    "mapped to different verifiers: keep one of them."
                )
        self.routes: Mapping[str, Verifier] = MappingProxyType(checked)
        self._spelled = spelled
        self._templates = tuple(templates)
        # Literal keys that reach a route through a convertor mapping several spellings to one
        # value (int, float, uuid, custom): (route chain, parameter values, verifier). Found
        # in the application's router on first use (see resolve_keys); None until then.
        self._routed: _Routed | None = None
        self._routed_routes: tuple[Any, ...] = ()

    @property
    def resolved(self) -> bool:
        """Whether :meth:`resolve_keys` has run."""
        return self._routed is not None

    def verifier_for(self, scope: Scope, app: object) -> Verifier | None:
        """The verifier protecting the request in ``scope``, or None if it is not protected.

        Tried in order: the path Starlette routes on (:func:`route_path`), then the full
        ``scope["path"]``, each as is and then in its canonical spelling: first against the
        literal keys, then against the path templates, then through ``app``'s router (a
        literal key reached through an ``int``, ``float``, ``uuid`` or custom convertor
        protects every spelling of the same parameter values).
        """
        routed = self._routed
        if routed is None:
            routed = self.resolve_keys(app)
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
        for exact, spelled_regex, verifier in self._templates:
            for candidate in candidates:
                if exact.match(candidate) or spelled_regex.match(_spelling(candidate)):
                    return verifier
        if routed:
            for candidate in candidates:
                for variant in {candidate, _spelling(candidate)}:
                    for chain, params, _ in _resolutions(self._routed_routes, variant):
                        for key_chain, key_params, verifier in routed:
                            if chain == key_chain and params == key_params:
                                return verifier
        return None

    def resolve_keys(self, app: object) -> _Routed:
        """Resolve each literal key through ``app``'s router, once.

        A literal key such as ``"/hooks/1"`` that routes to ``Route("/hooks/{tenant:int}")``
        is remembered with its parameter values (``tenant=1``): every other path routing to
        the same route with the same values (``/hooks/01``, ``/hooks/%30%31``) is then
        verified with that key's verifier. Without a Starlette router (another ASGI
        framework) only the literal spellings are known.

        Raises:
            ConfigurationError: a literal key routes to a FastAPI endpoint whose path
                parameters are validated into another type (``tenant: int``): pydantic
                accepts spellings that cannot be enumerated, so the template must be keyed.
                Raised again for every request until the configuration is fixed.
        """
        routed: _Routed = []
        router = find_router(app)
        routes = tuple(getattr(router, "routes", None) or ()) if router is not None else ()
        by_id = {id(route): route for route in routes}
        top: set[int] = set()
        for key, verifier in self.routes.items():
            if "{" in key:
                continue
            for variant in {key, _spelling(key)}:
                for chain, params, converted in _resolutions(routes, variant, key=key):
                    if converted:
                        routed.append((chain, params, verifier))
                        top.add(chain[0])
        self._routed_routes = tuple(by_id[route_id] for route_id in top)
        self._routed = routed
        return routed


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


async def send_reply(send: Send, reply: HandshakeReply) -> None:
    """Answer with a subscription handshake's reply (closing the connection: unread body)."""
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in reply.all_headers()
    ]
    headers.append((b"content-length", str(len(reply.body)).encode("ascii")))
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body, "more_body": False})


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
    is recorded as exactly one audit event. The nonce store is awaited
    (:meth:`~hookseal.Verifier.averify`), never blocking the event loop.

    Raises:
        VerificationError: the delivery is refused (already recorded as an audit event).
        ClientDisconnected: the client went away before the whole body arrived.
    """
    client = scope.get("client")  # as peer_address(scope)
    remote_addr = str(client[0]) if client else None
    method = str(scope.get("method", "POST"))
    headers: Headers | None = None
    url: str | None = None
    try:
        if verifier.scheme.signs_url:
            if public_url is None:  # the constructors refuse this; never fall back to Host
                raise ConfigurationError("a URL-signing scheme needs public_url")
            url = request_url(scope, public_url)
        headers = Headers.from_asgi(scope.get("headers") or [])
        limit = verifier.limits.max_body_bytes
        body = await _read_body(receive, headers.one("content-length"), limit)
    except VerificationError as error:
        seen = Headers() if headers is None else headers
        record_early_rejection(
            verifier, error, seen, method=method, url=url, remote_addr=remote_addr
        )
        raise
    verified = await verifier.averify(
        body, headers, url=url, method=method, remote_addr=remote_addr
    )
    return verified, body


def get_webhook(request: Any) -> Verified:
    """The :class:`~hookseal.Verified` delivery of ``request`` (``request.state.webhook``).

    ``request`` is a Starlette/FastAPI ``Request`` (anything with a ``scope``) or an ASGI
    scope itself.

    Raises:
        LookupError: the request was not verified by hookseal (its route is not protected).
    """
    scope = request if isinstance(request, Mapping) else getattr(request, "scope", None)
    state = scope.get("state") if isinstance(scope, Mapping) else None
    verified = state.get(STATE_KEY) if isinstance(state, Mapping) else None
    if not isinstance(verified, Verified):
        raise LookupError(
            "This request was not verified by hookseal: its route is not protected. Add its "
            "path to WebhookMiddleware(routes={...}), or declare "
            "Depends(verify_webhook(verifier)) on the endpoint, before reading the webhook."
        )
    return verified


async def run_then_release(
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
