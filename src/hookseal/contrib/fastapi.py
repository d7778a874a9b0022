"""FastAPI integration: ``Depends(verify_webhook(verifier))`` returns the ``Verified``.

The dependency reads the body up to the verifier's limit (``Content-Length`` first, then
chunk by chunk, stopping as soon as the limit is passed), verifies it with
:meth:`~hookseal.Verifier.averify_delivery`, and leaves the bytes cached on the request so the
endpoint can still ``await request.body()``; the delivery is also stored as
``request.state.webhook``, which ``get_webhook(request)`` returns. A rejection raises
:class:`WebhookRejected`, an ``HTTPException`` whose detail is the generic text for its status.

Declare no body parameter (``payload: Model``) on a protected endpoint: FastAPI would read
the whole body before any dependency runs. Parse ``webhook.json()`` instead, or put
:class:`hookseal.contrib.starlette.WebhookMiddleware` in front, which bounds the body before
FastAPI sees it (the dependency then returns the middleware's result without verifying twice).
``Form(...)`` parameters (Twilio) need the middleware: FastAPI parses a form before any
dependency runs and keeps no raw bytes, so the dependency alone cannot verify them; it then
refuses to run with a :class:`~hookseal.ConfigurationError` that says so.

The dependency is attached to the endpoint, so it protects it under every path that routes
there (mounts, ``root_path``, ``APIRouter(prefix=...)``).

The dependency uses ``yield``: when the endpoint raises, it releases the delivery's replay
record (bounded by the verifier's ``max_releases``) so that the sender's retry is accepted. It
cannot see a 5xx the endpoint returns; put the middleware in front for that (see
:meth:`hookseal.Verifier.release`).
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

try:
    from fastapi import HTTPException, Request
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import ClientDisconnect
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hookseal.contrib.fastapi needs FastAPI: pip install 'hookseal[fastapi]'"
    ) from exc

from .._delivery import Verified
from .._errors import ConfigurationError, ReplayedDelivery, VerificationError
from .._verifier import Verifier
from ._asgi import (
    STATE_KEY,
    VERIFIED_BY,
    ClientDisconnected,
    Message,
    Receive,
    check_url_origin,
    get_webhook,
    verify_scope,
)
from ._common import (
    RejectHook,
    check_on_reject,
    check_release_on_error,
    check_replay_status,
    check_verifier,
    generic_body,
    run_on_reject,
    status_for,
)
from ._origin import check_public_url

__all__ = ["WebhookRejected", "get_webhook", "verify_webhook"]


class WebhookRejected(HTTPException):
    """A refused delivery: an ``HTTPException`` with the generic text as its detail.

    Attributes:
        error: the :class:`~hookseal.VerificationError` (its ``reason`` is for logs and
            metrics, never for the response).
    """

    def __init__(self, error: VerificationError, status: int) -> None:
        super().__init__(status_code=status, detail=generic_body(error))
        self.error = error


_CONSUMED = (
    "hookseal: the body of {path} was read before verify_webhook() ran (FastAPI parses "
    "Form(...) parameters before any dependency, and keeps no raw bytes). Put "
    "WebhookMiddleware(app, routes={{'{path}': verifier}}, public_url=...) in front for this "
    "path: it verifies the raw body and replays it, so the form still parses and this "
    "dependency returns the middleware's Verified."
)


def _stream_receive(request: Request) -> Receive:
    """An ASGI ``receive`` over ``request.stream()``, which also serves an already-cached body.

    Raises ConfigurationError when the stream was consumed without being cached (FastAPI
    parsed a ``Form(...)`` parameter first): there is nothing left to verify, so the request
    is refused (a 500), never accepted.
    """
    chunks = request.stream().__aiter__()

    async def receive() -> Message:
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        except ClientDisconnect:
            return {"type": "http.disconnect"}
        except RuntimeError:  # Starlette: "Stream consumed" (read, and no body cached)
            raise ConfigurationError(_CONSUMED.format(path=request.url.path)) from None
        return {"type": "http.request", "body": chunk, "more_body": True}

    return receive


def verify_webhook(
    verifier: Verifier,
    *,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    public_url: str | None = None,
    release_on_error: bool = True,
) -> Callable[[Request], AsyncIterator[Verified]]:
    """Build a dependency that verifies the delivery and returns the :class:`~hookseal.Verified`.

    Args:
        verifier: the :class:`~hookseal.Verifier` for this endpoint's sender.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(request, error)``, called once per rejection (for metrics); its
            failures are logged and ignored.
        public_url: the public base URL the sender addresses, from which the signed URL is
            rebuilt; required when the scheme signs the URL (Twilio, RFC 9421). See
            the path and query are the request target as received.
        release_on_error: when the endpoint raises (anything but an ``HTTPException`` below
            500, which is the endpoint's own verdict), release the delivery's replay record
            (:meth:`~hookseal.Verifier.arelease`) so that the sender's retry is accepted. On
            by default, bounded per delivery by the verifier's ``max_releases``. A dependency
            cannot see a 5xx the endpoint *returns*; put ``WebhookMiddleware`` in front to
            release on those too.

    Returns:
        The dependency: ``Depends(verify_webhook(verifier))`` gives the endpoint the
        :class:`~hookseal.Verified` delivery (also at ``request.state.webhook``).

    Raises:
        ConfigurationError: for any configuration mistake, when called (including a
            URL-signing scheme without ``public_url``).
    """
    checked = check_verifier(verifier)
    status = check_replay_status(replay_status)
    hook = check_on_reject(on_reject)
    base_url = check_public_url(public_url)
    check_url_origin(checked, base_url, "verify_webhook()")
    release = check_release_on_error(release_on_error)

    async def dependency(request: Request) -> AsyncIterator[Verified]:
        verified, ours = await _verify(request)
        if not (release and ours):
            # Nothing to release, or WebhookMiddleware verified it and decides itself.
            yield verified
            return
        try:
            yield verified
        except StarletteHTTPException as exc:
            if exc.status_code >= 500:
                await asyncio.shield(checked.arelease(verified))
            raise
        except BaseException:
            # The endpoint failed (or was cancelled): the sender will retry the same bytes.
            await asyncio.shield(checked.arelease(verified))
            raise

    async def _verify(request: Request) -> tuple[Verified, bool]:
        state = request.scope.get("state") or {}
        already = state.get(STATE_KEY)
        verified_by = state.get(VERIFIED_BY)
        if isinstance(already, Verified) and verified_by is checked:
            return already, False  # verified by WebhookMiddleware with this very verifier
        try:
            verified, body = await verify_scope(
                request.scope, _stream_receive(request), checked, base_url
            )
        except ClientDisconnected:
            raise HTTPException(status_code=400, detail="client disconnected") from None
        except VerificationError as error:
            theirs = _recorded_by_middleware(error, already, verified_by, checked)
            if theirs is not None:
                # This verifier authenticated the request (a replay is only detected after
                # the signature checks) and found the record WebhookMiddleware made for this
                # very request in the same store: the middleware's verdict stands.
                _cache_body(request, theirs.body)  # the bytes the middleware verified
                return theirs, False
            run_on_reject(hook, request, error)
            raise WebhookRejected(error, status_for(error, status)) from error
        _cache_body(request, body)
        request.state.webhook = verified
        setattr(request.state, VERIFIED_BY, checked)
        return verified, True

    return dependency


def _cache_body(request: Request, body: bytes) -> None:
    """Leave ``body`` where ``await request.body()`` finds it (the stream is consumed).

    ``Request._body`` is Starlette's body cache, the one ``Request.body()`` itself fills and
    ``Request.stream()`` serves from: Starlette offers no public setter for it.
    """
    request._body = body


def _recorded_by_middleware(
    error: VerificationError, already: object, verified_by: object, verifier: Verifier
) -> Verified | None:
    """The middleware's ``Verified`` if ``error`` is the dependency finding its record, else None.

    Returned only when ``error`` is a :class:`~hookseal.ReplayedDelivery` (raised after every
    authentication check passed), ``WebhookMiddleware`` accepted this very request (a
    ``Verified`` and its verifier in ``scope["state"]``) and recorded it (it has replay keys),
    and that verifier records deliveries in the same nonce store object with the same scheme
    (class and name, from which the replay keys are derived). A record in another store, or
    made by another scheme, is an earlier delivery: the replay is refused. (The class check
    compares the two verifiers' schemes with each other; it names no particular scheme.)
    """
    if not isinstance(error, ReplayedDelivery) or not isinstance(already, Verified):
        return None
    if not isinstance(verified_by, Verifier) or verified_by.nonce_store is None:
        return None
    if (
        verified_by.nonce_store is verifier.nonce_store
        and type(verified_by.scheme) is type(verifier.scheme)
        and verified_by.scheme.name == verifier.scheme.name == already.scheme
        and already.replay_keys
    ):
        return already
    return None


def __getattr__(name: str) -> Any:
    """Serve ``verified_webhook``, the deprecated name of :func:`verify_webhook`."""
    if name == "verified_webhook":
        warnings.warn(
            "hookseal.contrib.fastapi.verified_webhook is deprecated and will be removed in "
            "0.3: use verify_webhook (the same function), as Depends(verify_webhook(verifier)).",
            DeprecationWarning,
            stacklevel=2,
        )
        return verify_webhook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
