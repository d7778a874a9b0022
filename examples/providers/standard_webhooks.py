"""Standard Webhooks (Svix, and every sender following standardwebhooks.com).

``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64>`` where the MAC is
HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed with the base64 part of the ``whsec_``
secret. Listing two secrets lets a rotation happen without a failed delivery.

Run: python examples/providers/standard_webhooks.py
"""

from __future__ import annotations

import base64
import sys
import time

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import StandardWebhooks
from hookseal.stores.memory import MemoryNonceStore

# As the dashboard shows them; in an app: os.environ["WEBHOOK_SECRET"].
OLD_SECRET = "whsec_" + base64.b64encode(b"example-old-standard-secret-key!").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"example-new-standard-secret-key!").decode()

verifier = Verifier(StandardWebhooks(), [OLD_SECRET, NEW_SECRET], nonce_store=MemoryNonceStore())


def main() -> int:
    now = int(time.time())
    body = b'{"type":"invoice.paid","data":{"id":"in_1"}}'
    sender = Signer(StandardWebhooks(), NEW_SECRET)
    genuine = sender.sign(body, timestamp=now, msg_id="msg_1")
    before_rotation = Signer(StandardWebhooks(), OLD_SECRET).sign(
        body, timestamp=now, msg_id="msg_2"
    )
    stale = sender.sign(body, timestamp=now - 600, msg_id="msg_3")
    moved = {**sender.sign(body, timestamp=now, msg_id="msg_4"), "webhook-timestamp": str(now - 1)}
    return run(
        "Standard Webhooks",
        verifier,
        [
            Case("genuine delivery", body, genuine, "accepted"),
            Case("the same delivery again", body, genuine, "replayed"),
            Case("signed with the old secret (rotation)", body, before_rotation, "accepted"),
            Case("10 minutes old", body, stale, "timestamp_too_old"),
            Case("timestamp header moved by 1 s", body, moved, "signature_mismatch"),
            Case(
                "trailing newline added to the body",
                body + b"\n",
                sender.sign(body, timestamp=now, msg_id="msg_5"),
                "signature_mismatch",
            ),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
