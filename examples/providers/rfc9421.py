"""RFC 9421 HTTP Message Signatures with an RFC 9530 ``Content-Digest``.

Needs the ``rfc9421`` extra: ``pip install 'hookseal[rfc9421]'``.

The sender signs the method, the full URL and the body digest with its Ed25519 key; the
receiver maps the ``keyid`` to the sender's public key, and that key fixes the algorithm.

Run: python examples/providers/rfc9421.py
"""

from __future__ import annotations

import sys
import time

from _demo import Case, run
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hookseal import Signer, Verifier
from hookseal.schemes import HTTPMessageSignatures
from hookseal.stores.memory import MemoryNonceStore

URL = "https://hooks.example.com/in?tenant=7"
sender_key = Ed25519PrivateKey.generate()  # the sender's; never on a receiver
SENDER_PUBLIC_PEM = (
    sender_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
)

scheme = HTTPMessageSignatures(required_components=("@method", "@target-uri", "content-digest"))
verifier = Verifier(scheme, {"sender-2024": SENDER_PUBLIC_PEM}, nonce_store=MemoryNonceStore())


def main() -> int:
    now = int(time.time())
    body = b'{"event":"order.shipped","order":"o_1"}'
    sender = Signer(scheme, ("sender-2024", sender_key))
    genuine = sender.sign(body, timestamp=now, msg_id="n-1", url=URL, method="POST")
    unknown = Signer(scheme, ("someone-else", Ed25519PrivateKey.generate())).sign(
        body, timestamp=now, msg_id="n-2", url=URL, method="POST"
    )
    target = {"url": URL, "method": "POST"}
    return run(
        "RFC 9421",
        verifier,
        [
            Case("genuine signed request", body, genuine, "accepted", target),
            Case("the same request again", body, genuine, "replayed", target),
            Case(
                "body changed (digest no longer matches)",
                body.replace(b"o_1", b"o_2"),
                genuine,
                "digest_mismatch",
                target,
            ),
            Case(
                "sent to another URL",
                body,
                genuine,
                "signature_mismatch",
                {"url": "https://hooks.example.com/in?tenant=8", "method": "POST"},
            ),
            Case("unknown keyid", body, unknown, "unknown_key_id", target),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
