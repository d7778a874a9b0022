"""hookseal quick start: sign a delivery, verify it, and watch bad ones get refused.

Run it with ``python examples/quickstart.py``. No network is used. It prints one verdict per
case and exits 0 only if every verdict is the expected one.
"""

from __future__ import annotations

import logging
import sys
import time

from hookseal import Signer, VerificationError, Verifier
from hookseal.schemes import HMACScheme

# hookseal logs each rejection (reason, peer, message id; never secrets or payload) on the
# "hookseal" logger. Show those lines under the verdicts.
logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="       log: %(message)s")

# The sender signs "{id}.{timestamp}.{body}" with HMAC-SHA256 and sends it base64-encoded in
# X-Signature, with the timestamp and the message id in their own headers.
scheme = HMACScheme(
    header="X-Signature",
    algorithm="sha256",
    encoding="base64",
    timestamp_header="X-Timestamp",
    id_header="X-Id",
    template="{id}.{timestamp}.{body}",
)
SECRET = "quickstart-demo-secret"  # in real code, read it from the environment
signer = Signer(scheme, secret=SECRET)  # what the sender does (and what your tests can do)
verifier = Verifier(scheme, secrets=[SECRET], tolerance=300)  # what your receiver does


def verdict(body: bytes, headers: dict[str, str]) -> tuple[str, str]:
    """Verify one delivery: ("accepted", details) or (reason code, details)."""
    try:
        verified = verifier.verify(body, headers)
    except VerificationError as err:
        return err.reason, f"HTTP {err.status_code}: {err}"
    return "accepted", f"msg_id={verified.msg_id} payload={verified.json()}"


def main() -> int:
    body = b'{"event":"invoice.paid","amount":4200}'
    now = int(time.time())
    genuine = signer.sign(body, timestamp=now, msg_id="msg_0001")
    forger = Signer(scheme, secret="attacker-guess")
    no_signature = signer.sign(body, msg_id="msg_0005")
    del no_signature["X-Signature"]
    cases = [
        ("genuine delivery", body, genuine, "accepted"),
        ("the same delivery again", body, genuine, "replayed"),
        (
            "tampered body",
            body.replace(b"4200", b"9999"),
            signer.sign(body, msg_id="msg_0002"),
            "signature_mismatch",
        ),
        (
            "stale: signed 10 minutes ago",
            body,
            signer.sign(body, timestamp=now - 600, msg_id="msg_0003"),
            "timestamp_too_old",
        ),
        (
            "signed with another secret",
            body,
            forger.sign(body, msg_id="msg_0004"),
            "signature_mismatch",
        ),
        ("signature header missing", body, no_signature, "missing_header"),
    ]
    failures = 0
    for name, sent_body, headers, expected in cases:
        outcome, details = verdict(sent_body, headers)
        ok = outcome == expected
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'}  {name:<30} {outcome:<20} {details}")
    if failures:
        print(f"FAILED: {failures} verdict(s) were not the expected one")
        return 1
    print("all verdicts as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
