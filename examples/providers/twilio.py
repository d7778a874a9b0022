"""Twilio: ``X-Twilio-Signature``, HMAC-SHA1 (base64) of the URL plus the sorted form fields.

Twilio signs the URL it requested. Behind a proxy, pass the PUBLIC URL (https, public host,
no internal port, with the query string), not the one the app sees; ``hookseal explain``
finds the difference when they disagree.

Run: python examples/providers/twilio.py
"""

from __future__ import annotations

import sys

from _demo import Case, run

from hookseal import Signer, Verifier
from hookseal.schemes import Twilio
from hookseal.stores.memory import MemoryNonceStore

AUTH_TOKEN = "example-twilio-auth-token"  # in an app: os.environ["TWILIO_AUTH_TOKEN"]
PUBLIC_URL = "https://hooks.example.com/sms?tenant=7"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

verifier = Verifier(Twilio(), AUTH_TOKEN, nonce_store=MemoryNonceStore())


def main() -> int:
    body = b"AccountSid=AC123&Body=Hello&From=%2B15550001111&To=%2B15550002222"
    genuine = {**Signer(Twilio(), AUTH_TOKEN).sign(body, url=PUBLIC_URL), **FORM}
    internal = "http://10.0.0.5:8080/sms?tenant=7"  # what the app sees behind the proxy
    return run(
        "Twilio",
        verifier,
        [
            Case("genuine SMS webhook", body, genuine, "accepted", {"url": PUBLIC_URL}),
            Case("the same request again", body, genuine, "replayed", {"url": PUBLIC_URL}),
            Case(
                "verified against the internal URL",
                body,
                genuine,
                "signature_mismatch",
                {"url": internal},
            ),
            Case(
                "message text changed",
                body.replace(b"Hello", b"Hullo"),
                genuine,
                "signature_mismatch",
                {"url": PUBLIC_URL},
            ),
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
