"""Flask integration: the ``@verify_webhook(verifier)`` decorator and the ``HookSeal`` extension.

The decorated view runs only for a delivery that passed every check; it finds the
:class:`~hookseal.Verified` at ``flask.g.webhook`` and can read the same bytes again with
``request.get_data()``. A rejection raises :class:`WebhookRejected`, an ``HTTPException``
rendered as the generic text for its status; catch it with ``@app.errorhandler`` to change
the response.
"""

from __future__ import annotations

import functools
import inspect
import io
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

try:
    from flask import Flask, Response, after_this_request, current_app, g, request
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("hookseal.contrib.flask needs Flask: pip install 'hookseal[flask]'") from exc

from .._delivery import Delivery, Verified
from .._errors import ConfigurationError, VerificationError
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

__all__ = ["HookSeal", "WebhookRejected", "verify_webhook"]

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


def _verify(verifier: Verifier, replay_status: int, on_reject: RejectHook | None) -> Verified:
    headers = Headers(list(request.headers.items()))
    remote_addr = _peer_address()
    method = request.method
    url = request.url
    try:
        try:
            body = _read_body(verifier.policy.max_body_bytes)
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


_Settings = tuple[Verifier, int, "RejectHook | None", bool]


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


def _decorate(view: F, get_settings: Callable[[], _Settings]) -> F:
    """Wrap ``view``: it runs only after the delivery is verified."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            verifier, status, hook, release = get_settings()
            verified = _verify(verifier, status, hook)
            if release:
                _release_on_failure(verifier, verified)
            return await view(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        verifier, status, hook, release = get_settings()
        verified = _verify(verifier, status, hook)
        if release:
            _release_on_failure(verifier, verified)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def verify_webhook(
    verifier: Verifier,
    *,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    release_on_error: bool = False,
) -> Callable[[F], F]:
    """Protect one view: it runs only for deliveries ``verifier`` accepts.

    Args:
        verifier: the :class:`~hookseal.Verifier` for this endpoint's sender.
        replay_status: the status answered to a replayed delivery (default 409; see the
            Flask docs page for why not 200).
        on_reject: ``on_reject(request, error)``, called once per rejection (for metrics);
            its failures are logged and ignored.
        release_on_error: when the request ends in a 5xx (the view answered one, or raised
            an exception no error handler turned into something else), forget the delivery's
            replay record (:meth:`~hookseal.Verifier.release`) so that the sender's retry is
            accepted. Off by default: read the trade-off there first. When exceptions
            propagate (``PROPAGATE_EXCEPTIONS``, testing or debug mode) there is no response
            and nothing is released.

    Works on sync and ``async def`` views (Flask's async support needs ``flask[async]``).
    """
    checked = check_verifier(verifier)
    status = check_replay_status(replay_status)
    hook = check_on_reject(on_reject)
    release = check_release_on_error(release_on_error)

    def decorator(view: F) -> F:
        return _decorate(view, lambda: (checked, status, hook, release))

    return decorator


class HookSeal:
    """The Flask extension: verifiers configured in ``app.config``, views protected by name.

    Configuration keys (defaults set with ``app.config.setdefault``):

    * ``HOOKSEAL_VERIFIERS``: a mapping of names to :class:`~hookseal.Verifier` objects;
    * ``HOOKSEAL_REPLAY_STATUS``: the status answered to a replay (default 409);
    * ``HOOKSEAL_ON_REJECT``: an ``on_reject(request, error)`` callable, or None;
    * ``HOOKSEAL_RELEASE_ON_ERROR``: release the replay record when the request ends in a
      5xx (default False; see :func:`verify_webhook`).

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
        app.config.setdefault("HOOKSEAL_RELEASE_ON_ERROR", False)
        verifiers = app.config["HOOKSEAL_VERIFIERS"]
        if not isinstance(verifiers, Mapping):
            raise ConfigurationError("HOOKSEAL_VERIFIERS must map names to hookseal.Verifier.")
        for name, verifier in verifiers.items():
            check_verifier(verifier, f"HOOKSEAL_VERIFIERS[{name!r}]")
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
            )

        def decorator(view: F) -> F:
            return _decorate(view, settings)

        return decorator
