"""WorkOS: ``WorkOS-Signature: t=<milliseconds>, v1=<hex>``, HMAC-SHA256 of ``{t}.{body}``.

The timestamp is in milliseconds; hookseal converts it and applies the same window.

Run: python examples/providers/workos.py
"""

from __future__ import annotations

import sys
import time

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import WorkOS
from hookseal.stores.memory import MemoryNonceStore

SECRET = "example-workos-webhook-secret"  # in an app: os.environ["WORKOS_WEBHOOK_SECRET"]

verifier = Verifier(WorkOS(), SECRET, nonce_store=MemoryNonceStore())


def main() -> int:
    now = int(time.time())
    body = b'{"id":"wh_01","event":"dsync.user.created"}'
    sender = Signer(WorkOS(), SECRET)
    genuine = sender.sign(body, timestamp=now)
    return run(
        "WorkOS",
        verifier,
        [
            Case("genuine event", body, genuine, "accepted"),
            Case("the same event again", body, genuine, "replayed"),
            Case(
                "one hour in the future",
                body,
                sender.sign(body, timestamp=now + 3600),
                "timestamp_in_future",
            ),
            Case(
                "signed with another secret",
                body,
                Signer(WorkOS(), "another-secret").sign(body, timestamp=now),
                "signature_mismatch",
            ),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
