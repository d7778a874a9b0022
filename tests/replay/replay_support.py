"""Helpers for the replay tests that need no optional dependency: signed deliveries."""

from __future__ import annotations

from typing import Any

from hookseal import Signer, Verifier
from hookseal.schemes import HMACScheme

SECRET = "replay-test-secret-0123456789abcdef"
BODY = b'{"type":"invoice.paid","amount":4200}'


def id_ts_scheme() -> HMACScheme:
    """A scheme signing message id and timestamp: replay key = id + signed timestamp."""
    return HMACScheme(
        "X-Signature",
        timestamp_header="X-Timestamp",
        id_header="X-Id",
        template="{id}.{timestamp}.{body}",
    )


def body_only_scheme() -> HMACScheme:
    """A scheme signing no timestamp (like GitHub): replay bound = replay_retention."""
    return HMACScheme("X-Signature", prefix="sha256=")


def signed(
    timestamp: int, msg_id: str, body: bytes = BODY, scheme: HMACScheme | None = None
) -> tuple[bytes, dict[str, str]]:
    scheme = scheme or id_ts_scheme()
    return body, Signer(scheme, SECRET).sign(body, timestamp=timestamp, msg_id=msg_id)


def quiet_verifier(store: Any, scheme: HMACScheme | None = None, **kwargs: Any) -> Verifier:
    """A verifier whose audit events go nowhere (32,000 WARNING lines would slow the tests)."""
    return Verifier(
        scheme or id_ts_scheme(),
        SECRET,
        nonce_store=store,
        on_event=lambda event: None,
        **kwargs,
    )
