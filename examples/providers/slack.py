"""Slack: ``X-Slack-Signature: v0=<hex>`` over ``v0:{timestamp}:{body}``.

The signing secret is used as text; ``X-Slack-Request-Timestamp`` is checked against the
tolerance window before the signature.

Run: python examples/providers/slack.py
"""

from __future__ import annotations

import sys
import time

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import Slack
from hookseal.stores.memory import MemoryNonceStore

SECRET = "example-slack-signing-secret"  # in an app: os.environ["SLACK_SIGNING_SECRET"]

verifier = Verifier(Slack(), SECRET, nonce_store=MemoryNonceStore())


def main() -> int:
    now = int(time.time())
    body = b"token=x&team_id=T1&command=%2Fdeploy&text=prod"
    sender = Signer(Slack(), SECRET)
    genuine = sender.sign(body, timestamp=now)
    unsigned = {k: v for k, v in genuine.items() if k.lower() != "x-slack-signature"}
    return run(
        "Slack",
        verifier,
        [
            Case("genuine slash command", body, genuine, "accepted"),
            Case("the same request again", body, genuine, "replayed"),
            Case(
                "10 minutes old", body, sender.sign(body, timestamp=now - 600), "timestamp_too_old"
            ),
            Case("no signature header", body, unsigned, "missing_header"),
            Case("command changed", body.replace(b"prod", b"dev"), genuine, "signature_mismatch"),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
