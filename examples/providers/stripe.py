"""Stripe: ``Stripe-Signature: t=<seconds>,v1=<hex>``, HMAC-SHA256 of ``{t}.{body}``.

The ``whsec_`` endpoint secret is used whole, as raw text (unlike Standard Webhooks, nothing
is base64-decoded). Future-dated timestamps are refused too, which stripe-python never does.

Run: python examples/providers/stripe.py
"""

from __future__ import annotations

import sys
import time

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import Stripe
from hookseal.stores.memory import MemoryNonceStore

SECRET = "whsec_exampleStripeEndpointSecret0"  # in an app: os.environ["STRIPE_WEBHOOK_SECRET"]

verifier = Verifier(Stripe(), SECRET, tolerance=300, nonce_store=MemoryNonceStore())


def main() -> int:
    now = int(time.time())
    body = b'{\n  "id": "evt_1",\n  "type": "payment_intent.succeeded"\n}'
    sender = Signer(Stripe(), SECRET)
    genuine = sender.sign(body, timestamp=now)
    v0_only = {"Stripe-Signature": genuine["Stripe-Signature"].replace("v1=", "v0=")}
    return run(
        "Stripe",
        verifier,
        [
            Case("genuine delivery", body, genuine, "accepted"),
            Case("the same delivery again", body, genuine, "replayed"),
            Case(
                "retry re-signed with a new timestamp",
                body,
                sender.sign(body, timestamp=now + 1),
                "accepted",
            ),
            Case(
                "one hour in the future",
                body,
                sender.sign(body, timestamp=now + 3600),
                "timestamp_in_future",
            ),
            Case("only a v0 (test-mode) signature", body, v0_only, "no_supported_signature"),
            Case(
                "signed with another secret",
                body,
                Signer(Stripe(), "whsec_someOtherSecret").sign(body, timestamp=now),
                "signature_mismatch",
            ),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
