"""Litestar: ``WebhookMiddleware`` on a layer, the verified delivery by dependency injection.

Litestar applies middleware per layer (application, router, controller, route handler) after
routing, so protection is attached to the handlers that need it, never to a spelling of their
path::

    @post("/hooks/github", middleware=[webhook_middleware(verifier)],
          dependencies={"webhook": provide_webhook})
    async def github_hook(webhook: Verified) -> None: ...

The middleware is :class:`hookseal.contrib.starlette.WebhookMiddleware` (pure ASGI: the body
read up to the limit, ``Content-Length`` first, 413 as soon as it is passed; verified with
``averify``; replayed to the handler, so ``await request.body()`` and ``data`` parameters see
the same bytes; the replay record released when the handler fails) with every request of its
layer protected by one verifier. The :class:`~hookseal.Verified` is ``request.state.webhook``;
:func:`get_webhook` (and the ready-made :data:`provide_webhook`) hands it to handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

try:
    from litestar import Request
    from litestar.di import Provide
    from litestar.middleware import DefineMiddleware
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hookseal.contrib.litestar needs Litestar: pip install 'hookseal[litestar]'"
    ) from exc

from .._delivery import Verified
from .._verifier import Verifier
from ._common import RejectHook, check_verifier
from .starlette import WebhookMiddleware as _ASGIWebhookMiddleware
from .starlette import get_webhook as _scope_webhook

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

__all__ = ["Webhook", "WebhookMiddleware", "get_webhook", "provide_webhook", "webhook_middleware"]

try:  # Litestar 2.19+: dependencies are marked, not inferred from their name
    from litestar.di import NamedDependency

    #: The annotation of a handler parameter that receives the delivery:
    #: ``async def hook(webhook: Webhook)`` (``NamedDependency[Verified]``, or ``Verified``
    #: on Litestar versions that infer dependencies from the parameter name).
    Webhook: Any = NamedDependency[Verified]
except ImportError:  # pragma: no cover - older Litestar
    Webhook = Verified


class WebhookMiddleware(_ASGIWebhookMiddleware):
    """Verify every request of the layer it is registered on with ``verifier``.

    Register it the Litestar way, with :func:`webhook_middleware` (a ``DefineMiddleware``) in
    the ``middleware`` list of a route handler, controller or router. Every request Litestar
    routes to a handler of that layer is verified, whatever path reached it; other layers are
    untouched. Registered on the application, it verifies every route.

    Args:
        app: the ASGI application Litestar wraps (given by Litestar).
        verifier: the :class:`~hookseal.Verifier` for this layer's sender.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(scope, error)``, called once per rejection.
        public_url: the public base URL the sender addresses; required when the scheme signs
            the URL (Twilio, RFC 9421).
        release_on_error: release the replay record when the handler answers 5xx, raises or
            answers nothing (default True).

    Raises:
        ConfigurationError: for any configuration mistake, at construction.
    """

    def __init__(
        self,
        app: ASGIApp,
        verifier: Verifier,
        *,
        replay_status: int = 409,
        on_reject: RejectHook | None = None,
        public_url: str | None = None,
        release_on_error: bool = True,
    ) -> None:
        checked = check_verifier(verifier)
        super().__init__(
            app,
            {"/": checked},
            replay_status=replay_status,
            on_reject=on_reject,
            public_url=public_url,
            release_on_error=release_on_error,
        )
        self._verifier = checked

    def verifier_for(self, scope: Scope) -> Verifier:
        """The layer's verifier: every request reaching the layer is protected."""
        return self._verifier

    def __repr__(self) -> str:
        return f"WebhookMiddleware(scheme={self._verifier.scheme.name!r})"


async def _no_app(scope: Scope, receive: Any, send: Any) -> None:  # pragma: no cover
    raise AssertionError("never called")


def webhook_middleware(
    verifier: Verifier,
    *,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    public_url: str | None = None,
    release_on_error: bool = True,
) -> DefineMiddleware:
    """:class:`WebhookMiddleware` for a layer's ``middleware`` list, checked now.

    The options are validated here (``ConfigurationError``), when the route handler or
    router is declared, not when Litestar builds its middleware stacks.
    """
    options: dict[str, Any] = {
        "replay_status": replay_status,
        "on_reject": on_reject,
        "public_url": public_url,
        "release_on_error": release_on_error,
    }
    WebhookMiddleware(_no_app, verifier, **options)
    return _Shared(cast(Any, WebhookMiddleware), verifier=verifier, **options)


class _Shared(DefineMiddleware):
    """A ``DefineMiddleware`` that Litestar's registration copies by reference.

    Litestar deep-copies routers and controllers (with their middleware) when it registers
    them. A copied Verifier would carry a copy of its nonce store: replay records split
    between copies, a delivery accepted by one copy accepted again by another. The
    definition, its verifier and its store are shared instead.
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self

    def __copy__(self) -> _Shared:
        return self


def get_webhook(request: Request[Any, Any, Any]) -> Verified:
    """The :class:`~hookseal.Verified` of a request verified by :class:`WebhookMiddleware`.

    Raises:
        LookupError: the request was not verified (its handler's layers hold no
            ``webhook_middleware``); as a dependency this is a 500, never an unverified call.
    """
    try:
        return _scope_webhook(request)
    except LookupError:
        raise LookupError(
            "This request carries no verified webhook: add webhook_middleware(verifier) to "
            "the middleware of the route handler (or of its controller or router)."
        ) from None


#: ``dependencies={"webhook": provide_webhook}``: the handler's ``webhook: Verified``.
provide_webhook = Provide(get_webhook, sync_to_thread=False)
