"""Flask integration: the ``@verify_webhook(verifier)`` decorator and the ``HookSeal`` extension.

The decorated view runs only for a delivery that passed every check; it finds the
:class:`~hookseal.Verified` at ``flask.g.webhook`` (or with ``get_webhook()``) and can read
the same bytes again with ``request.get_data()``. A rejection raises :class:`WebhookRejected`,
an ``HTTPException`` rendered as the generic text for its status; catch it with
``@app.errorhandler`` to change the response.

The decorator goes *below* ``@app.route``/``@app.post``: the route decorator registers the
function it is given. Placed above, it would wrap a function Flask never calls; importing
this module connects a ``request_started`` receiver that refuses (``ConfigurationError``, a
500) any request routed to a function that ``verify_webhook`` wrapped, so that mistake never
lets a delivery through unverified.
"""

from __future__ import annotations

import functools
import inspect
import io
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

try:
    from flask import Flask, Response, after_this_request, current_app, g, request
    from flask.signals import request_started
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
    from werkzeug.sansio.utils import get_current_url
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("hookseal.contrib.flask needs Flask: pip install 'hookseal[flask]'") from exc

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
from ._handshakes import handshake_reply, unsigned_handshake_reply
from ._origin import check_public_url, exact_hosts, signs_url

__all__ = ["HookSeal", "WebhookRejected", "get_webhook", "verify_webhook"]

F = TypeVar("F", bound=Callable[..., Any])
_CHUNK = 64 * 1024


class WebhookRejected(HTTPException):
    """A refused delivery, answered with the generic text for its status.

    Attributes:
        error: the :class:`~hookseal.VerificationError` (its ``reason`` is for logs and
            metrics, never for the response).
    """

    def __init__(self, error: VerificationError, status: int) -> None:
        super().__init__(description=generic_body(error))
        self.code = status
        self.error = error

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        """The generic text, without Werkzeug's HTML page."""
        return f"{self.description}\n"

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        """Plain text."""
        return [("Content-Type", "text/plain; charset=utf-8")]


def get_webhook() -> Verified:
    """The :class:`~hookseal.Verified` delivery of the current request (``flask.g.webhook``).

    Raises:
        LookupError: the current request was not verified by hookseal (its view is not
            protected).
        RuntimeError: called outside a request (Flask's "working outside of application
            context").
    """
    verified = g.get("webhook")
    if not isinstance(verified, Verified):
        raise LookupError(
            "This request was not verified by hookseal: its view is not protected. Put "
            "@verify_webhook(verifier) (or @hookseal.protect(name)) directly below the view's "
            "@app.route/@app.post decorator."
        )
    return verified


def _peer_address() -> str | None:
    """The socket peer, even when Werkzeug's ProxyFix rewrote ``REMOTE_ADDR``."""
    environ = request.environ
    original = environ.get("werkzeug.proxy_fix.orig")
    if isinstance(original, Mapping) and original.get("REMOTE_ADDR"):
        return str(original["REMOTE_ADDR"])
    address = environ.get("REMOTE_ADDR")
    return str(address) if address else None


def _read_body(limit: int) -> bytes:
    """Read at most ``limit + 1`` bytes, then let ``get_data(cache=True)`` serve them.

    ``Content-Length`` is checked first; a body without one (chunked) is read until it passes
    the limit, never truncated to it. The bytes go back in place of the consumed stream so
    ``request.get_data()``, ``request.form`` and ``request.json`` see them again. If the stream
    was already consumed by ``request.form`` the body is empty and the signature cannot match.
    """
    declared = declared_length(request.headers.get("Content-Length"))
    if declared is not None and declared > limit:
        raise payload_too_large(declared, limit)
    stream = request.stream
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            chunk = stream.read(min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge as exc:  # the app's MAX_CONTENT_LENGTH is smaller
        raise payload_too_large(None, limit) from exc
    if size > limit:
        raise payload_too_large(None, limit)
    request.stream = io.BytesIO(b"".join(chunks))
    data: bytes = request.get_data(cache=True)
    return data


#: Flask enforces ``TRUSTED_HOSTS`` (on ``request.host``) from Flask 3.1 on.
_HAS_TRUSTED_HOSTS = "TRUSTED_HOSTS" in Flask.default_config

_NO_ORIGIN = (
    "{where} uses a scheme that signs the request URL ({scheme}), and without a trusted origin "
    "the URL would be rebuilt from the request's Host header, the client's claim. Pass "
    "public_url='https://your.public.host' to verify_webhook (HOOKSEAL_PUBLIC_URL for the "
    "HookSeal extension): the base URL the sender is configured with; or set "
    "app.config['SERVER_NAME'] to the public host{trusted}."
)


def _no_origin(verifier: Verifier, where: str) -> ConfigurationError:
    trusted = ", or TRUSTED_HOSTS to exact host names" if _HAS_TRUSTED_HOSTS else ""
    return ConfigurationError(
        _NO_ORIGIN.format(where=where, scheme=verifier.scheme.name, trusted=trusted)
    )


def _has_origin(config: Mapping[str, Any]) -> bool:
    """Whether the app's configuration names the host a signed URL is rebuilt with."""
    if _HAS_TRUSTED_HOSTS and exact_hosts(config.get("TRUSTED_HOSTS")):
        return True
    return bool(config.get("SERVER_NAME"))


def _signed_url(verifier: Verifier, public_url: str | None) -> str:
    """The URL the sender addressed, from a trusted origin for schemes that sign it.

    ``public_url`` when given; else, for a URL-signing scheme, the host checked against
    ``TRUSTED_HOSTS`` (exact names, Flask 3.1+) or ``SERVER_NAME`` (which Flask 3.1 no longer
    enforces on requests, so the URL is built with it rather than with the Host header).

    Raises:
        ConfigurationError: a URL-signing scheme and no trusted origin.
    """
    if public_url is not None:
        base = urlsplit(public_url)
        root = base.path.rstrip("/") + request.root_path
        return get_current_url(base.scheme, base.netloc, root, request.path, request.query_string)
    if not signs_url(verifier):
        return request.url
    config = current_app.config
    if _HAS_TRUSTED_HOSTS and exact_hosts(config.get("TRUSTED_HOSTS")):
        return request.url  # request.host was checked against TRUSTED_HOSTS by Flask
    server_name = config.get("SERVER_NAME")
    if server_name:
        return get_current_url(
            request.scheme, server_name, request.root_path, request.path, request.query_string
        )
    raise _no_origin(verifier, "The verifier of this view")


def _verify(
    verifier: Verifier,
    replay_status: int,
    on_reject: RejectHook | None,
    public_url: str | None = None,
) -> Verified:
    url = _signed_url(verifier, public_url)
    headers = Headers(list(request.headers.items()))
    remote_addr = _peer_address()
    method = request.method
    try:
        try:
            body = _read_body(verifier.limits.max_body_bytes)
        except VerificationError as error:
            record_early_rejection(
                verifier, error, headers, method=method, url=url, remote_addr=remote_addr
            )
            raise
        verified = verifier.verify_delivery(
            Delivery(body, headers, method=method, url=url, remote_addr=remote_addr)
        )
    except VerificationError as error:
        run_on_reject(on_reject, cast(Any, request)._get_current_object(), error)
        raise WebhookRejected(error, status_for(error, replay_status)) from error
    g.webhook = verified
    return verified


_Settings = tuple[Verifier, int, "RejectHook | None", bool, "str | None"]


def _response(reply: HandshakeReply) -> Response:
    """The Flask response for a handshake reply."""
    return Response(reply.body, status=reply.status, headers=reply.all_headers())


def _unsigned_handshake(verifier: Verifier) -> Response | None:
    """The response to an unsigned handshake request (``GET ?challenge=``), or None."""
    if not verifier.answers_unsigned_handshakes:
        return None  # the scheme has none: nothing to build
    headers = Headers(list(request.headers.items()))
    reply = unsigned_handshake_reply(
        verifier, request.method, request.query_string, headers, _peer_address()
    )
    return None if reply is None else _response(reply)


def _handshake(verifier: Verifier, verified: Verified) -> Response | None:
    """The response to a verified handshake, sent instead of calling the view, or None."""
    reply = handshake_reply(verifier, verified)
    return None if reply is None else _response(reply)


def _release_on_failure(verifier: Verifier, verified: Verified) -> None:
    """Release the record if the response this request ends with is a 5xx.

    Registered with ``after_this_request``, so it sees the final response: the view's, or the
    one an error handler made of its exception (``abort(400)`` or an ``errorhandler`` answering
    4xx keeps the record; an unhandled exception is a 500 and releases it). It runs before the
    response is sent, so the sender's retry finds the record gone.
    """

    def check(response: Response) -> Response:
        if handler_failed(response.status_code):
            verifier.release(verified)
        return response

    after_this_request(check)


#: Every function ``verify_webhook`` or ``HookSeal.protect`` wrapped (and the functions those
#: wrap in turn): Flask must call the wrapper, never one of these.
_WRAPPED: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()
_UNWRAPPED = (
    "The view for endpoint {endpoint!r} is a function that @verify_webhook (or "
    "HookSeal.protect) wrapped, registered without its wrapper: the decorator was placed above "
    "@app.route/@app.post, which had already registered the bare function. Put the hookseal "
    "decorator directly below the route decorator. The request was refused."
)


def _remember(view: Callable[..., Any]) -> None:
    """Remember ``view`` and what it wraps (``__wrapped__``) as functions never to serve."""
    seen = 0
    current: Any = view
    while current is not None and seen < 100:
        try:
            _WRAPPED.add(current)
        except TypeError:  # not weak-referenceable: nothing to remember
            return
        current = getattr(current, "__wrapped__", None)
        seen += 1


def _refuse_unwrapped(sender: Any, **extra: Any) -> None:
    """``request_started`` receiver: refuse a request routed to a bare wrapped function."""
    endpoint = request.endpoint
    if endpoint is None or not _WRAPPED:
        return
    view = getattr(sender, "view_functions", {}).get(endpoint)
    if view is not None and view in _WRAPPED:
        raise ConfigurationError(_UNWRAPPED.format(endpoint=endpoint))


# Every Flask app in the process: the decorator cannot know which app it will be served by.
request_started.connect(_refuse_unwrapped, weak=False)


def _decorate(view: F, get_settings: Callable[[], _Settings]) -> F:
    """Wrap ``view``: it runs only after the delivery is verified."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            verifier, status, hook, release, public_url = get_settings()
            answer = _unsigned_handshake(verifier)
            if answer is not None:
                return answer
            verified = _verify(verifier, status, hook, public_url)
            answer = _handshake(verifier, verified)
            if answer is not None:
                return answer
            if release:
                _release_on_failure(verifier, verified)
            return await view(*args, **kwargs)

        _remember(view)
        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verifier, status, hook, release, public_url = get_settings()
        answer = _unsigned_handshake(verifier)
        if answer is not None:
            return answer
        verified = _verify(verifier, status, hook, public_url)
        answer = _handshake(verifier, verified)
        if answer is not None:
            return answer
        if release:
            _release_on_failure(verifier, verified)
        return view(*args, **kwargs)

    _remember(view)
    return wrapper  # type: ignore[return-value]


def verify_webhook(
    verifier: Verifier,
    *,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    release_on_error: bool = True,
    public_url: str | None = None,
) -> Callable[[F], F]:
    """Protect one view: it runs only for deliveries ``verifier`` accepts.

    Place it directly below ``@app.route``/``@app.post`` (see the module docstring).

    Args:
        verifier: the :class:`~hookseal.Verifier` for this endpoint's sender.
        replay_status: the status answered to a replayed delivery (default 409; see the
            Flask docs page for why not 200).
        on_reject: ``on_reject(request, error)``, called once per rejection (for metrics);
            its failures are logged and ignored.
        release_on_error: when the request ends in a 5xx (the view answered one, or raised
            an exception no error handler turned into something else), forget the delivery's
            replay record (:meth:`~hookseal.Verifier.release`) so that the sender's retry is
            accepted. On by default, bounded per delivery by the verifier's ``max_releases``
            (counted in the nonce store); False keeps every record. When exceptions
            propagate (``PROPAGATE_EXCEPTIONS``, testing or debug mode) there is no response
            and nothing is released.
        public_url: the public base URL the sender addresses (``"https://hooks.example.com"``,
            optionally with a path prefix), from which the signed URL is rebuilt. For schemes
            that sign the URL (Twilio, RFC 9421) it is required unless the app sets
            ``SERVER_NAME`` or (Flask 3.1+) ``TRUSTED_HOSTS`` to exact host names; without any
            of them each request is refused with ``ConfigurationError`` (a 500).

    Works on sync and ``async def`` views (Flask's async support needs ``flask[async]``).

    Subscription handshakes (docs/handshakes.md) are answered without calling the view: an
    unsigned one the scheme authenticates (Meta's ``GET`` with ``hub.verify_token``, Okta,
    Dropbox) before verification, a signed one (Slack's ``url_verification``, Discord's PING,
    Zoom, Twitch, an opted-in SNS confirmation) after it. Route the ``GET`` to the view too
    (``methods=["GET", "POST"]``) for providers whose handshake is a ``GET``.
    """
    checked = check_verifier(verifier)
    status = check_replay_status(replay_status)
    hook = check_on_reject(on_reject)
    release = check_release_on_error(release_on_error)
    base_url = check_public_url(public_url)

    def decorator(view: F) -> F:
        return _decorate(view, lambda: (checked, status, hook, release, base_url))

    return decorator


class HookSeal:
    """The Flask extension: verifiers configured in ``app.config``, views protected by name.

    Configuration keys (defaults set with ``app.config.setdefault``):

    * ``HOOKSEAL_VERIFIERS``: a mapping of names to :class:`~hookseal.Verifier` objects;
    * ``HOOKSEAL_REPLAY_STATUS``: the status answered to a replay (default 409);
    * ``HOOKSEAL_ON_REJECT``: an ``on_reject(request, error)`` callable, or None;
    * ``HOOKSEAL_RELEASE_ON_ERROR``: release the replay record when the request ends in a
      5xx (default True, bounded by the verifier's ``max_releases``; see
      :func:`verify_webhook`);
    * ``HOOKSEAL_PUBLIC_URL``: the public base URL the senders address, for schemes that sign
      the URL (default None; see :func:`verify_webhook`).

    ``init_app`` refuses (``ConfigurationError``) a verifier whose scheme signs the URL when
    none of ``HOOKSEAL_PUBLIC_URL``, ``SERVER_NAME`` or exact ``TRUSTED_HOSTS`` is set.

    Example::

        hookseal = HookSeal()

        @app.post("/hooks/github")
        @hookseal.protect("github")
        def github_hook():
            event = g.webhook.json()

        hookseal.init_app(app)  # or HookSeal(app)
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set config defaults, validate the configuration and register the extension."""
        app.config.setdefault("HOOKSEAL_VERIFIERS", {})
        app.config.setdefault("HOOKSEAL_REPLAY_STATUS", 409)
        app.config.setdefault("HOOKSEAL_ON_REJECT", None)
        app.config.setdefault("HOOKSEAL_RELEASE_ON_ERROR", True)
        app.config.setdefault("HOOKSEAL_PUBLIC_URL", None)
        verifiers = app.config["HOOKSEAL_VERIFIERS"]
        if not isinstance(verifiers, Mapping):
            raise ConfigurationError("HOOKSEAL_VERIFIERS must map names to hookseal.Verifier.")
        public_url = check_public_url(app.config["HOOKSEAL_PUBLIC_URL"], "HOOKSEAL_PUBLIC_URL")
        for name, verifier in verifiers.items():
            where = f"HOOKSEAL_VERIFIERS[{name!r}]"
            check_verifier(verifier, where)
            if signs_url(verifier) and public_url is None and not _has_origin(app.config):
                raise _no_origin(verifier, where)
        check_replay_status(app.config["HOOKSEAL_REPLAY_STATUS"])
        check_on_reject(app.config["HOOKSEAL_ON_REJECT"])
        check_release_on_error(app.config["HOOKSEAL_RELEASE_ON_ERROR"])
        app.extensions["hookseal"] = self

    def protect(self, name: str) -> Callable[[F], F]:
        """Protect a view with the verifier configured as ``HOOKSEAL_VERIFIERS[name]``."""

        def settings() -> _Settings:
            config = current_app.config
            if current_app.extensions.get("hookseal") is not self:
                raise ConfigurationError("HookSeal.init_app(app) was not called for this app.")
            verifier = config["HOOKSEAL_VERIFIERS"].get(name)
            if verifier is None:
                raise ConfigurationError(f"HOOKSEAL_VERIFIERS has no verifier named {name!r}.")
            return (
                verifier,
                config["HOOKSEAL_REPLAY_STATUS"],
                config["HOOKSEAL_ON_REJECT"],
                config["HOOKSEAL_RELEASE_ON_ERROR"],
                check_public_url(config.get("HOOKSEAL_PUBLIC_URL"), "HOOKSEAL_PUBLIC_URL"),
            )

        def decorator(view: F) -> F:
            return _decorate(view, settings)

        return decorator
