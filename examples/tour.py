"""The hookseal tour: a real receiver on 127.0.0.1 and real deliveries, with a verdict for each.

Starts an HTTP receiver (the standard library's server, so nothing but hookseal is needed)
that protects three endpoints: Standard Webhooks, GitHub and Stripe. It then signs and sends
genuine, forged, tampered, stale, future-dated, replayed, oversized, unsigned and
wrong-network deliveries over HTTP, prints a table of what the receiver decided, and exits 0
only if every verdict is the expected one.

Run:  python examples/tour.py
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hookseal import Delivery, Signer, VerificationError, Verifier
from hookseal.network import IPAllowlist
from hookseal.schemes import GitHub, StandardWebhooks, Stripe

MAX_BODY = 64 * 1024
DRAIN_LIMIT = 4 * 1024 * 1024  # an oversized body is drained up to this, then cut off
STANDARD_SECRET = "whsec_" + base64.b64encode(b"tour-secret-for-standard-webhooks").decode()
GITHUB_SECRET = "tour-github-secret"
STRIPE_SECRET = "whsec_tour_stripe_secret"

# The receiver trusts one proxy (itself, 127.0.0.1) to say who the client was, and only
# accepts clients from loopback: a forwarded address outside it is refused with 403.
allowlist = IPAllowlist(["127.0.0.0/8", "::1/128"], trusted_proxies=["127.0.0.1/32"])
VERIFIERS = {
    "/hooks/standard": Verifier(
        StandardWebhooks(), [STANDARD_SECRET], max_body_bytes=MAX_BODY, allowlist=allowlist
    ),
    "/hooks/github": Verifier(GitHub(), [GITHUB_SECRET], max_body_bytes=MAX_BODY),
    "/hooks/stripe": Verifier(Stripe(), [STRIPE_SECRET], max_body_bytes=MAX_BODY),
}
handled: list[str] = []  # what the business logic saw: only verified deliveries


class Receiver(BaseHTTPRequestHandler):
    """Reads at most the limit, verifies, and only then runs the 'business logic'."""

    def do_POST(self) -> None:
        verifier = VERIFIERS.get(self.path)
        if verifier is None:
            self.answer(404, "not found", "-")
            return
        length = int(self.headers.get("Content-Length") or 0)
        # Read at most one byte more than the limit: hookseal refuses a longer body itself
        # (payload_too_large), and nothing past limit + 1 bytes is ever buffered.
        body = self.rfile.read(min(length, verifier.limits.max_body_bytes + 1))
        unread = length - len(body)
        delivery = Delivery(
            body,
            list(self.headers.items()),
            method="POST",
            url=f"http://127.0.0.1:{self.server.server_address[1]}{self.path}",
            remote_addr=self.client_address[0],
        )
        try:
            verified = verifier.verify_delivery(delivery)
        except VerificationError as err:
            self.answer(err.status_code, "rejected", err.reason)
            if unread:
                # The client is still sending: drain in small chunks, up to a bound, so that
                # it reads the answer, then close the connection.
                self.discard(min(unread, DRAIN_LIMIT))
                self.close_connection = True
            return
        handled.append(verified.msg_id or f"({verified.scheme}: no message id)")
        self.answer(200, "ok", "accepted")

    def discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                return
            length -= len(chunk)

    def answer(self, status: int, text: str, reason: str) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Tour-Reason", reason)  # for the tour's table only: never do this
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the tour's output to the verdict table."""


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("X-Tour-Reason") or "-"
    finally:
        connection.close()


def main() -> int:
    logging.getLogger("hookseal").setLevel(logging.ERROR)  # the table says it all
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"receiver listening on http://127.0.0.1:{port}\n")

    now = int(time.time())
    event = json.dumps({"type": "invoice.paid", "id": "evt_1"}).encode()
    standard = Signer(StandardWebhooks(), STANDARD_SECRET)
    forger = Signer(StandardWebhooks(), "whsec_" + base64.b64encode(b"not-the-secret").decode())
    github = Signer(GitHub(), GITHUB_SECRET)
    stripe = Signer(Stripe(), STRIPE_SECRET)
    genuine = standard.sign(event, timestamp=now, msg_id="msg_tour_1")
    reserialised = json.dumps(json.loads(event), indent=2).encode()
    std = "/hooks/standard"

    cases: list[tuple[str, str, bytes, dict[str, str], int, str]] = [
        ("genuine (Standard Webhooks)", std, event, genuine, 200, "accepted"),
        ("replayed (same delivery again)", std, event, genuine, 409, "replayed"),
        ("forged (wrong secret)", std, event,
         forger.sign(event, timestamp=now, msg_id="msg_tour_2"), 401, "signature_mismatch"),
        ("tampered body", std, event.replace(b"evt_1", b"evt_2"),
         standard.sign(event, timestamp=now, msg_id="msg_tour_3"), 401, "signature_mismatch"),
        ("re-serialised JSON body", std, reserialised,
         standard.sign(event, timestamp=now, msg_id="msg_tour_4"), 401, "signature_mismatch"),
        ("stale (10 minutes old)", std, event,
         standard.sign(event, timestamp=now - 600, msg_id="msg_tour_5"), 401, "timestamp_too_old"),
        ("future-dated (+1 hour)", std, event,
         standard.sign(event, timestamp=now + 3600, msg_id="msg_tour_6"), 401,
         "timestamp_in_future"),
        ("unsigned (no signature header)", std, event,
         {k: v for k, v in standard.sign(event, timestamp=now, msg_id="msg_tour_7").items()
          if k.lower() != "webhook-signature"}, 401, "missing_header"),
        ("malformed signature (junk after base64)", std, event,
         {**standard.sign(event, timestamp=now, msg_id="msg_tour_8"),
          "webhook-signature": "v1,AAAA!!!"}, 400, "malformed_header"),
        ("oversized body (1 MiB, limit 64 KiB)", std, b"x" * (1024 * 1024),
         standard.sign(b"x", timestamp=now, msg_id="msg_tour_9"), 413, "payload_too_large"),
        ("from a forbidden network (via proxy)", std, event,
         {**standard.sign(event, timestamp=now, msg_id="msg_tour_10"),
          "X-Forwarded-For": "203.0.113.7"}, 403, "forbidden_address"),
        ("genuine (GitHub)", "/hooks/github", event, github.sign(event), 200, "accepted"),
        ("GitHub replayed", "/hooks/github", event, github.sign(event), 409, "replayed"),
        ("genuine (Stripe)", "/hooks/stripe", event, stripe.sign(event, timestamp=now), 200,
         "accepted"),
        ("Stripe, signed with the wrong secret", "/hooks/stripe", event,
         Signer(Stripe(), "whsec_other").sign(event, timestamp=now), 401, "signature_mismatch"),
    ]

    failures = 0
    print(f"{'delivery':42} {'status':>6}  {'reason':22} verdict")
    print("-" * 80)
    for name, path, body, headers, want_status, want_reason in cases:
        status, reason = post(port, path, body, headers)
        ok = status == want_status and reason == want_reason
        failures += not ok
        verdict = "as expected" if ok else f"UNEXPECTED (wanted {want_status} {want_reason})"
        print(f"{name:42} {status:>6}  {reason:22} {verdict}")
    server.shutdown()

    print("-" * 80)
    print(f"the handler ran {len(handled)} times: {', '.join(handled)}")
    if failures or len(handled) != 3:
        print(f"FAILED: {failures} unexpected verdict(s)")
        return 1
    print("every verdict was the expected one: only genuine, fresh, first-time deliveries "
          "from an allowed network reached the handler")
    return 0


if __name__ == "__main__":
    sys.exit(main())
