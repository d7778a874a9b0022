"""Discord interactions: Ed25519 over ``{timestamp}{body}``, checked with the app's public key.

The verifier holds only the PUBLIC key (as shown in the developer portal, 64 hex digits);
the private key here stands in for Discord, to sign the demo deliveries.

Run: python examples/providers/discord.py
"""

from __future__ import annotations

import sys
import time

from _demo import Case, run
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hookseal import Signer, Verifier
from hookseal.schemes import Discord
from hookseal.stores.memory import MemoryNonceStore

discord_private_key = Ed25519PrivateKey.generate()  # Discord's; never on a receiver
PUBLIC_KEY = discord_private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

verifier = Verifier(Discord(), PUBLIC_KEY, nonce_store=MemoryNonceStore())


def main() -> int:
    now = int(time.time())
    body = b'{"type":1,"id":"123","application_id":"456"}'
    discord = Signer(Discord(), discord_private_key)
    genuine = discord.sign(body, timestamp=now)
    impostor = Signer(Discord(), Ed25519PrivateKey.generate()).sign(body, timestamp=now)
    return run(
        "Discord",
        verifier,
        [
            Case("genuine PING interaction", body, genuine, "accepted"),
            Case("the same interaction again", body, genuine, "replayed"),
            Case("signed by another key", body, impostor, "signature_mismatch"),
            Case(
                "10 minutes old", body, discord.sign(body, timestamp=now - 600), "timestamp_too_old"
            ),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
