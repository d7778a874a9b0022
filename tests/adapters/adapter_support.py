"""Shared deliveries and verifiers for the adapter tests (one case table for every framework)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from hookseal import Verifier
from hookseal.network import IPAllowlist
from hookseal.schemes import StandardWebhooks
from hookseal.stores.memory import MemoryNonceStore
from hookseal.testing import FrozenClock, SignedDelivery, sign_delivery

NOW = 1_700_000_000
TOLERANCE = 300
LIMIT = 2048
SECRET = "whsec_" + base64.b64encode(b"hookseal-adapter-test-key-32byte").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"a-different-secret-for-forgeries").decode()
BODY = b'{"type":"invoice.paid","data":{"amount":4200,"note":"caf\xc3\xa9"}}'
GENERIC = {
    400: "malformed webhook request",
    401: "invalid webhook signature",
    403: "webhook sender not allowed",
    409: "webhook delivery already received",
    413: "webhook payload too large",
}


def make_verifier(**options: object) -> Verifier:
    """A Standard Webhooks verifier with a frozen clock, a small body limit and its own store."""
    settings: dict[str, object] = {
        "clock": FrozenClock(NOW),
        "max_body_bytes": LIMIT,
        "tolerance": TOLERANCE,
        "nonce_store": MemoryNonceStore(),
    }
    settings.update(options)
    return Verifier(StandardWebhooks(), SECRET, **settings)  # type: ignore[arg-type]


def forbidding_verifier() -> Verifier:
    """Allows only 10.0.0.0/8, so every test client (127.0.0.1) is a forbidden address."""
    return make_verifier(allowlist=IPAllowlist(["10.0.0.0/8"]))


@dataclass
class Request:
    """A delivery to send: body and header lines (repeats allowed), in any client."""

    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header_dict(self) -> dict[str, str]:
        return dict(self.headers)


def _request(delivery: SignedDelivery) -> Request:
    return Request(delivery.body, list(delivery.all_headers().items()))


def signed(body: bytes = BODY, *, timestamp: int = NOW, secret: str = SECRET) -> Request:
    """A genuine delivery, signed by the pytest plugin's factory (hookseal.testing)."""
    return _request(sign_delivery(StandardWebhooks(), secret, body, timestamp=timestamp))


def _forged() -> Request:
    return signed(secret=OTHER_SECRET)


def _tampered() -> Request:
    genuine = sign_delivery(StandardWebhooks(), SECRET, BODY, timestamp=NOW)
    return _request(genuine.tampered(BODY.replace(b"4200", b"4201")))


def _missing() -> Request:
    genuine = sign_delivery(StandardWebhooks(), SECRET, BODY, timestamp=NOW)
    return _request(genuine.without("webhook-signature"))


def _duplicate() -> Request:
    genuine = signed()
    forged = sign_delivery(
        StandardWebhooks(),
        OTHER_SECRET,
        BODY,
        timestamp=NOW,
        msg_id=genuine.header_dict()["webhook-id"],
    )
    return Request(
        genuine.body, [*genuine.headers, ("webhook-signature", forged.headers["webhook-signature"])]
    )


def _oversized() -> Request:
    return signed(b"x" * (LIMIT + 1))


@dataclass
class Case:
    name: str
    build: Callable[[], Request]
    status: int


#: Rejections every adapter must give, through its own test client (handler never runs).
REJECTIONS = [
    Case("forged", _forged, 401),
    Case("tampered", _tampered, 401),
    Case("stale", lambda: signed(timestamp=NOW - TOLERANCE - 1), 401),
    Case("future", lambda: signed(timestamp=NOW + TOLERANCE + 1), 401),
    Case("missing-header", _missing, 401),
    Case("duplicate-header", _duplicate, 400),
    Case("oversized-content-length", _oversized, 413),
]
CASE_IDS = [case.name for case in REJECTIONS]


def rejection_logs(caplog: object) -> list[logging.LogRecord]:
    records: list[logging.LogRecord] = caplog.records  # type: ignore[attr-defined]
    return [r for r in records if r.name == "hookseal" and "rejected delivery" in r.getMessage()]


def assert_generic(status: int, text: str) -> None:
    assert text.strip() == GENERIC[status], text
