"""A Flask receiver for Standard Webhooks deliveries (Svix, and every sender following the spec).

Run:  WEBHOOK_SECRET=whsec_... flask --app examples/flask_app.py run
"""

from __future__ import annotations

import os

from flask import Flask, request

from hookseal import Verifier
from hookseal.contrib.flask import HookSeal, get_webhook, verify_webhook
from hookseal.schemes import StandardWebhooks

SECRET = os.environ.get("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

verifier = Verifier(StandardWebhooks(), SECRET)
app = Flask(__name__)


def count_rejection(req: object, error: Exception) -> None:
    """Metrics hook: called once per rejection (the verifier already logged it)."""
    # e.g. statsd.increment("webhooks.rejected", tags=[f"reason:{error.reason}"])


@app.post("/hooks/svix")
@verify_webhook(verifier, on_reject=count_rejection)
def svix_hook() -> tuple[str, int]:
    webhook = get_webhook()  # the Verified delivery (also flask.g.webhook)
    event = webhook.json()  # the verified bytes, parsed
    assert request.get_data() == webhook.body  # the raw bytes are still readable
    print("accepted", webhook.msg_id, event.get("type"))
    return "", 204


# The extension form: verifiers live in app.config, views name them.
hookseal = HookSeal()
app.config["HOOKSEAL_VERIFIERS"] = {"billing": Verifier(StandardWebhooks(), SECRET)}


@app.post("/hooks/billing")
@hookseal.protect("billing")
def billing_hook() -> tuple[str, int]:
    return "", 204


hookseal.init_app(app)
