"""A Starlette receiver protected by the pure ASGI ``WebhookMiddleware``.

Run:  WEBHOOK_SECRET=whsec_... uvicorn examples.starlette_app:app --no-proxy-headers
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hookseal import Verifier
from hookseal.contrib.starlette import WebhookMiddleware, get_webhook
from hookseal.schemes import StandardWebhooks

SECRET = os.environ.get("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
verifier = Verifier(StandardWebhooks(), SECRET)


async def svix_hook(request: Request) -> Response:
    webhook = get_webhook(request)  # hookseal.Verified (also request.state.webhook)
    assert await request.body() == webhook.body  # replayed to the app, byte for byte
    print("accepted", webhook.msg_id, webhook.json().get("type"))
    return Response(status_code=204)


app = Starlette(routes=[Route("/hooks/svix", svix_hook, methods=["POST"])])
app.add_middleware(
    WebhookMiddleware,
    routes={"/hooks/svix": verifier},
    # Behind a proxy, for schemes that sign the URL (Twilio, RFC 9421):
    # public_url="https://hooks.example.com",
)
