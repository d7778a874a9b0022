"""Paddle Billing: ``Paddle-Signature: ts=<seconds>;h1=<hex>``, HMAC-SHA256 of ``{ts}:{body}``.

The notification destination's secret key (``pdl_ntfset_...``) is used exactly as shown.

Run: python examples/providers/paddle.py
"""

from __future__ import annotations

import sys
import time

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import Paddle
from hookseal.stores.memory import MemoryNonceStore

SECRET = "pdl_ntfset_01example_exampleSecretKey"  # in an app: os.environ["PADDLE_WEBHOOK_SECRET"]

verifier = Verifier(Paddle(), SECRET, nonce_store=MemoryNonceStore())


def main() -> int:
    now = int(time.time())
    body = b'{"event_id":"evt_01","event_type":"transaction.completed"}'
    sender = Signer(Paddle(), SECRET)
    genuine = sender.sign(body, timestamp=now)
    return run(
        "Paddle",
        verifier,
        [
            Case("genuine notification", body, genuine, "accepted"),
            Case("the same notification again", body, genuine, "replayed"),
            Case(
                "10 minutes old", body, sender.sign(body, timestamp=now - 600), "timestamp_too_old"
            ),
            Case(
                "event type changed",
                body.replace(b"completed", b"refunded"),
                genuine,
                "signature_mismatch",
            ),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
