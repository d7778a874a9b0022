"""A shared token in a header (GitLab's ``X-Gitlab-Token``, or ``Authorization: Bearer ...``).

A token is compared in constant time, but it signs nothing: a captured token authenticates
any body, and there is no timestamp and no replay detection. Use HTTPS, keep the token out
of logs, and prefer a signature scheme when the sender offers one.

Run: python examples/providers/shared_token.py
"""

from __future__ import annotations

import sys

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import GitLab, SharedToken

GITLAB_TOKEN = "example-gitlab-secret-token"  # in an app: os.environ["GITLAB_WEBHOOK_TOKEN"]
AGENT_TOKEN = "example-bearer-token"

# Nothing per delivery to record, so no nonce store is needed (and none would help).
gitlab = Verifier(GitLab(), GITLAB_TOKEN, nonce_store=None)
bearer = Verifier(SharedToken("Authorization", prefix="Bearer "), AGENT_TOKEN, nonce_store=None)


def main() -> int:
    body = b'{"object_kind":"push","ref":"refs/heads/main"}'
    genuine = Signer(GitLab(), GITLAB_TOKEN).sign(body)
    wrong = {"X-Gitlab-Token": "guessed-token"}
    first = run(
        "GitLab (X-Gitlab-Token)",
        gitlab,
        [
            Case("genuine push event", body, genuine, "accepted"),
            # The token does not cover the body: this is why a token is weaker than a signature.
            Case("other body, same token (not detectable)", b"{}", genuine, "accepted"),
            Case("wrong token", body, wrong, "signature_mismatch"),
            Case("no token", body, {}, "missing_header"),
        ],
    )
    second = run(
        "\nAuthorization: Bearer <token>",
        bearer,
        [
            Case("genuine request", body, {"Authorization": f"Bearer {AGENT_TOKEN}"}, "accepted"),
            Case(
                "token without the Bearer prefix",
                body,
                {"Authorization": AGENT_TOKEN},
                "malformed_header",
            ),
        ],
    )
    return first or second


if __name__ == "__main__":
    sys.exit(main())
