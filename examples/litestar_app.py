"""A Litestar receiver: ``webhook_middleware`` on the handler, the delivery by injection.

Run:  WEBHOOK_SECRET=whsec_... uvicorn examples.litestar_app:app --no-proxy-headers
"""

from __future__ import annotations

import os

from litestar import Litestar, Request, post

from hookseal import Verifier
from hookseal.contrib.litestar import Webhook, provide_webhook, webhook_middleware
from hookseal.schemes import StandardWebhooks

SECRET = os.environ.get("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
verifier = Verifier(StandardWebhooks(), SECRET)


@post(
    "/hooks/svix",
    middleware=[webhook_middleware(verifier)],
    dependencies={"webhook": provide_webhook},
    status_code=204,
)
async def svix_hook(request: Request, webhook: Webhook) -> None:  # type: ignore[type-arg]
    assert await request.body() == webhook.body  # replayed to Litestar, byte for byte
    print("accepted", webhook.msg_id, webhook.json().get("type"))


app = Litestar(route_handlers=[svix_hook])
