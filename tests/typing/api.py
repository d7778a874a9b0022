"""Type-checked usage of hookseal's public API (``mypy --strict`` and ``pyright`` in strict mode).

Never executed: pytest does not collect it (no ``test_`` prefix). It fails type checking if
the public surface changes shape.
"""

# pyright: strict
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from hookseal import (
    ConfigurationError,
    Delivery,
    HandshakeReply,
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
from hookseal.schemes.base import (
    HeaderName,
    Limits,
    Scheme,
    decode_hex,
    match_hmac,
    require_header,
)
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


# -- the scheme contract (hookseal.schemes.base) and what adapters use -------------------------


class Acme(Scheme):
    """A user-written scheme, typed against the public contract."""

    name = "acme"

    @override
    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        value = require_header(headers, HeaderName("Acme-Signature"), limits)
        presented = [decode_hex(item, "Acme-Signature") for item in value.split(",")]
        index, macs = match_hmac(keys, presented, b"", body, "Acme-Signature")
        return Verified(body, None, None, index, self.name, macs)

    @override
    def sign(
        self,
        key: Any,
        body: bytes,
        *,
        timestamp: int,
        msg_id: str,
        url: str | None,
        method: str,
    ) -> dict[str, str]:
        mac: bytes = key.digest(body)
        return {"Acme-Signature": mac.hex()}


def adapter_side(verified: Verified, limits: Limits) -> HandshakeReply | None:
    recorded: bool = verified.recorded
    max_body: int = verifier.limits.max_body_bytes + limits.max_body_bytes
    del recorded, max_body
    reply = verifier.unsigned_handshake_reply("GET", "challenge=abc", {"Accept": "*/*"})
    return reply or verifier.handshake_reply(verified)
