"""The one endpoint the end-to-end benchmark (bench_e2e.py) serves under uvicorn.

``uvicorn --factory e2e_app:create_app`` with ``HOOKSEAL_BENCH_VARIANT`` naming what guards
``POST /hook`` and ``HOOKSEAL_BENCH_SECRET`` the Standard Webhooks secret (``whsec_...``):

- ``bare``: no verification; the handler reads the body and answers ``ok``;
- ``middleware``: hookseal's Starlette middleware in front of that same handler;
- ``handler``: ``verifier.verify(body, request.headers.items())`` called in the handler;
- ``svix`` / ``standardwebhooks``: the SDK's ``verify`` called in the handler.

The hookseal variants keep replay protection on with its default (the per-process
``MemoryNonceStore``); the SDKs have none. Every variant answers 200 to a genuine delivery and
401 to a forged one (bench_e2e.py checks both before it measures).
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

VARIANTS = ("bare", "middleware", "handler", "svix", "standardwebhooks")


def middleware_class() -> Any:
    """hookseal's Starlette middleware class."""
    from hookseal.contrib.starlette import WebhookMiddleware

    return WebhookMiddleware


def create_app() -> Starlette:
    """The application for the variant named in ``HOOKSEAL_BENCH_VARIANT``."""
    variant = os.environ["HOOKSEAL_BENCH_VARIANT"]
    secret = os.environ["HOOKSEAL_BENCH_SECRET"]
    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")

    async def bare(request: Request) -> Response:
        await request.body()
        return Response(b"ok")

    if variant == "bare":
        return Starlette(routes=[Route("/hook", bare, methods=["POST"])])

    if variant == "middleware":
        from hookseal import Verifier
        from hookseal.schemes import StandardWebhooks

        verifier = Verifier(StandardWebhooks(), [secret])
        return Starlette(
            routes=[Route("/hook", bare, methods=["POST"])],
            middleware=[Middleware(middleware_class(), routes={"/hook": verifier})],
        )

    if variant == "handler":
        from hookseal import VerificationError, Verifier
        from hookseal.schemes import StandardWebhooks

        verifier = Verifier(StandardWebhooks(), [secret])

        async def with_hookseal(request: Request) -> Response:
            body = await request.body()
            try:
                # Header pairs, as the getting-started page advises: repeated lines are refused.
                verifier.verify(body, request.headers.items())
            except VerificationError as error:
                return Response(b"refused", status_code=error.status_code)
            return Response(b"ok")

        return Starlette(routes=[Route("/hook", with_hookseal, methods=["POST"])])

    if variant == "svix":
        import svix.webhooks

        svix_webhook = svix.webhooks.Webhook(secret)

        async def with_svix(request: Request) -> Response:
            body = await request.body()
            try:
                svix_webhook.verify(body, request.headers)  # type: ignore[arg-type]
            except svix.webhooks.WebhookVerificationError:
                return Response(b"refused", status_code=401)
            return Response(b"ok")

        return Starlette(routes=[Route("/hook", with_svix, methods=["POST"])])

    import standardwebhooks
    from standardwebhooks.webhooks import WebhookVerificationError

    sdk = standardwebhooks.Webhook(secret)

    async def with_standardwebhooks(request: Request) -> Response:
        body = await request.body()
        try:
            # Like hookseal and svix, no JSON parsing: the verification alone.
            sdk.verify(body, request.headers, json_parse=False)  # type: ignore[arg-type]
        except WebhookVerificationError:
            return Response(b"refused", status_code=401)
        return Response(b"ok")

    return Starlette(routes=[Route("/hook", with_standardwebhooks, methods=["POST"])])
