"""An aiohttp receiver: one handler protected by ``@verify_webhook``, others by the middleware.

Run:  WEBHOOK_SECRET=whsec_... python examples/aiohttp_app.py serve
(without ``serve`` it only builds the application, which is what the examples test does).
"""

from __future__ import annotations

import os
import sys

from aiohttp import web

from hookseal import Verifier
from hookseal.contrib.aiohttp import WebhookMiddleware, get_webhook, verify_webhook
from hookseal.schemes import GitHub, StandardWebhooks

SECRET = os.environ.get("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
GITHUB_SECRET = os.environ.get("GITHUB_WEBHOOK_SECRET", "It's a Secret to Everybody")


def count_rejection(request: web.Request, error: Exception) -> None:
    """Metrics hook: called once per rejection (the verifier already logged it)."""
    # e.g. statsd.increment("webhooks.rejected", tags=[f"reason:{error.reason}"])


@verify_webhook(Verifier(StandardWebhooks(), SECRET), on_reject=count_rejection)
async def svix_hook(request: web.Request) -> web.Response:
    webhook = get_webhook(request)  # the Verified delivery
    assert await request.read() == webhook.body  # the raw bytes are still readable
    print("accepted", webhook.msg_id, webhook.json().get("type"))
    return web.Response(status=204)


async def github_hook(request: web.Request) -> web.Response:
    webhook = get_webhook(request)  # verified by the middleware: this route is listed
    print("accepted", request.headers.get("X-GitHub-Event"), webhook.json().get("action"))
    return web.Response(status=204)


def make_app() -> web.Application:
    """The application; ``web.run_app(make_app())`` serves it."""
    hooks = WebhookMiddleware(
        {"/hooks/github": Verifier(GitHub(), GITHUB_SECRET)},
        # Behind a proxy, for schemes that sign the URL (Twilio, RFC 9421):
        # public_url="https://hooks.example.com",
    )
    app = web.Application(middlewares=[hooks])
    app.router.add_post("/hooks/svix", svix_hook)
    app.router.add_post("/hooks/github", github_hook)
    return app


app = make_app()

if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    web.run_app(app, host="127.0.0.1", port=8080)
