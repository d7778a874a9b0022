"""A FastAPI receiver: ``Depends(verify_webhook(verifier))`` returns the ``Verified``.

Run:  WEBHOOK_SECRET=whsec_... uvicorn examples.fastapi_app:app --no-proxy-headers
"""

import os
from typing import Annotated

from fastapi import Depends, FastAPI, Response

from hookseal import Verified, Verifier
from hookseal.contrib.fastapi import verify_webhook
from hookseal.schemes import StandardWebhooks

SECRET = os.environ.get("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
svix = verify_webhook(Verifier(StandardWebhooks(), SECRET))

app = FastAPI()


@app.post("/hooks/svix", status_code=204)
async def svix_hook(webhook: Annotated[Verified, Depends(svix)]) -> Response:
    # No body parameter here: FastAPI would read the whole body before the dependency runs.
    event = webhook.json()
    print("accepted", webhook.msg_id, event.get("type"))
    return Response(status_code=204)
