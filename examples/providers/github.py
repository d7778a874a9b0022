"""GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``; no timestamp.

GitHub signs no timestamp, so a replay is refused by the nonce store for
``replay_retention`` seconds (default one day): use a shared store with several workers.

Run: python examples/providers/github.py
"""

from __future__ import annotations

import sys

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import GitHub
from hookseal.stores.memory import MemoryNonceStore

SECRET = "example-github-webhook-secret"  # in an app: os.environ["GITHUB_WEBHOOK_SECRET"]

verifier = Verifier(GitHub(), SECRET, nonce_store=MemoryNonceStore())


def main() -> int:
    body = b'{"action":"opened","number":42}'
    genuine = Signer(GitHub(), SECRET).sign(body)  # what GitHub sends
    forged = Signer(GitHub(), "not-the-secret").sign(body)
    sha1_only = {"X-Hub-Signature": "sha1=" + "0" * 40, "X-GitHub-Delivery": "d-1"}
    return run(
        "GitHub",
        verifier,
        [
            Case("genuine delivery", body, genuine, "accepted"),
            Case("the same delivery again", body, genuine, "replayed"),
            Case("body changed", body.replace(b"42", b"43"), genuine, "signature_mismatch"),
            Case("signed with another secret", body, forged, "signature_mismatch"),
            Case("only the legacy SHA-1 header", body, sha1_only, "missing_header"),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
