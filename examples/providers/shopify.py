"""Shopify: ``X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>``; no timestamp.

Replays are refused by the nonce store for ``replay_retention`` seconds.

Run: python examples/providers/shopify.py
"""

from __future__ import annotations

import sys

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import Shopify
from hookseal.stores.memory import MemoryNonceStore

SECRET = "example-shopify-app-secret"  # in an app: os.environ["SHOPIFY_API_SECRET"]

verifier = Verifier(Shopify(), SECRET, nonce_store=MemoryNonceStore())


def main() -> int:
    body = b'{"id":820982911946154508,"email":"jon@example.com"}'
    genuine = Signer(Shopify(), SECRET).sign(body)
    junk = {**genuine, "X-Shopify-Hmac-Sha256": genuine["X-Shopify-Hmac-Sha256"] + "!!!"}
    return run(
        "Shopify",
        verifier,
        [
            Case("genuine order webhook", body, genuine, "accepted"),
            Case("the same delivery again", body, genuine, "replayed"),
            Case("junk after the base64 signature", body, junk, "malformed_header"),
            Case("email changed", body.replace(b"jon", b"eve"), genuine, "signature_mismatch"),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
