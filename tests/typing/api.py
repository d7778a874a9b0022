"""Type-checked usage of hookseal's public API (run ``mypy --strict tests/typing/api.py``).

Never executed: pytest does not collect it (no ``test_`` prefix). It fails type checking if
the public surface changes shape.
"""

from __future__ import annotations

import io
from typing import Any

from hookseal import (
    ConfigurationError,
    Delivery,
    Headers,
    JSONLinesSink,
    MalformedHeader,
    MissingHeader,
    NonceStoreUnavailable,
    PayloadTooLarge,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    VerificationEvent,
    Verified,
    Verifier,
)
from hookseal.schemes import HMACScheme
from hookseal.stores.memory import MemoryNonceStore

scheme = HMACScheme(header="X-Signature", algorithm="sha256", encoding="hex", prefix="sha256=")
scheme2 = HMACScheme(
    header="X-Signature",
    algorithm="sha256",
    encoding="base64",
    prefix="",
    timestamp_header="X-Timestamp",
    id_header="X-Id",
    template="{id}.{timestamp}.{body}",
)
verifier = Verifier(scheme, secrets=["old-secret", "new-secret"])
verifier2 = Verifier(
    scheme2,
    secrets="new-secret",
    tolerance=300,
    max_body_bytes=1 << 20,
    max_header_bytes=4096,
    max_signatures=8,
    max_id_length=256,
    nonce_store=MemoryNonceStore(max_entries=1000),
    replay_retention=86_400,
    on_event=JSONLinesSink(io.StringIO()),
)

signed: dict[str, str] = Signer(scheme2, secret="new-secret").sign(
    b"{}", timestamp=1_700_000_000, msg_id="msg_1"
)
headers_any: dict[str, str] = Signer(scheme, secret=b"raw").sign(b"{}", url="https://x.test/")


def handle(body: bytes, headers: dict[str, str]) -> int:
    try:
        verified: Verified = verifier.verify(body, headers)
        verified = verifier.verify(
            body,
            headers,
            url="https://example.test/hooks",
            method="POST",
            remote_addr="192.0.2.1",
            now=1_700_000_000.0,
        )
    except (MissingHeader, MalformedHeader, SignatureMismatch) as err:
        reason: str = err.reason
        return err.status_code if reason else 400
    except (TimestampOutOfTolerance, ReplayedDelivery, PayloadTooLarge) as err:
        return err.status_code
    except (NonceStoreUnavailable, VerificationError) as err:
        header: str | None = err.header
        return 503 if header is None else err.status_code
    payload: Any = verified.json()
    timestamp: int | None = verified.timestamp
    msg_id: str | None = verified.msg_id
    key_index: int = verified.key_index
    raw: bytes = verified.body
    del payload, timestamp, msg_id, key_index, raw
    return 204


def handle_delivery(delivery: Delivery) -> Verified:
    return verifier.verify_delivery(delivery, now=None)


async def handle_async(body: bytes, headers: Headers) -> Verified:
    await verifier.averify_delivery(Delivery(body, headers, method="POST"))
    return await verifier.averify(body, headers, now=1_700_000_000)


def client_of(verified: Verified, error: VerificationError, event: VerificationEvent) -> str:
    addresses: list[str | None] = [verified.client_addr, error.client_addr, event.client_addr]
    return next((a for a in addresses if a is not None), "unknown")


def handler_failed(verified: Verified) -> bool:
    released: bool = verifier.release(verified)
    return released or verifier.release(verified, now=1_700_000_000.0)


async def handler_failed_async(verified: Verified) -> bool:
    return await verifier.arelease(verified, now=None)


def pairs_are_accepted() -> Verified:
    return verifier.verify(b"{}", [("X-Signature", "sha256=00"), ("X-Signature", "sha256=11")])


def on_event(event: VerificationEvent) -> None:
    as_dict: dict[str, object] = event.as_dict()
    outcome: str = event.outcome
    del as_dict, outcome


def configuration_is_a_value_error() -> ValueError:
    return ConfigurationError("bad")


Verifier(scheme, secrets="s", on_event=on_event, nonce_store=None)
