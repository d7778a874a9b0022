"""The client address the allowlist resolved, on Verified, on errors and in audit events.

Behind a proxy the socket peer is the proxy: counting rejections per peer would lump every
sender together. The resolved client is what an alert should key on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from hookseal import (
    ForbiddenAddress,
    NonceStoreUnavailable,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    VerificationError,
    VerificationEvent,
    Verifier,
)
from hookseal.network import IPAllowlist
from hookseal.schemes import HMACScheme
from hookseal.stores.memory import MemoryNonceStore

NOW = 1_700_000_000
SECRET = "client-address-secret-0123456789"
BODY = b'{"type":"order.paid"}'
PROXY = "10.0.0.2"
CLIENT = "203.0.113.7"
SCHEME = HMACScheme(
    "X-Signature",
    timestamp_header="X-Timestamp",
    id_header="X-Id",
    template="{id}.{timestamp}.{body}",
)


def signed(msg_id: str, forwarded_for: str = CLIENT) -> dict[str, str]:
    headers = Signer(SCHEME, SECRET).sign(BODY, timestamp=NOW, msg_id=msg_id)
    headers["X-Forwarded-For"] = forwarded_for
    return headers


def behind_proxy(events: list[VerificationEvent], **options: Any) -> Verifier:
    allowlist = IPAllowlist(["203.0.113.0/24", "::ffff:198.18.0.0/120"], trusted_proxies=[PROXY])
    settings: dict[str, Any] = {"nonce_store": MemoryNonceStore(), **options}
    return Verifier(SCHEME, SECRET, allowlist=allowlist, on_event=events.append, **settings)


def test_accepted_delivery_carries_the_forwarded_client() -> None:
    events: list[VerificationEvent] = []
    verified = behind_proxy(events).verify(BODY, signed("a"), remote_addr=PROXY, now=NOW)
    assert verified.client_addr == CLIENT
    (event,) = events
    assert (event.outcome, event.remote_addr, event.client_addr) == ("accepted", PROXY, CLIENT)
    assert event.as_dict()["client_addr"] == CLIENT


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [("198.51.100.9", "198.51.100.9"), ("::ffff:198.51.100.9", "198.51.100.9")],
    ids=["ipv4", "ipv4-mapped-canonical"],
)
def test_refused_client_is_named(forwarded_for: str, client: str) -> None:
    events: list[VerificationEvent] = []
    with pytest.raises(ForbiddenAddress) as info:
        behind_proxy(events).verify(BODY, signed("b", forwarded_for), remote_addr=PROXY, now=NOW)
    assert info.value.client_addr == client
    assert events[0].client_addr == client
    assert events[0].reason == "forbidden_address"


def test_unresolvable_client_has_no_address() -> None:
    events: list[VerificationEvent] = []
    with pytest.raises(ForbiddenAddress) as info:
        behind_proxy(events).verify(BODY, signed("c", "not-an-ip"), remote_addr=PROXY, now=NOW)
    assert info.value.client_addr is None
    assert events[0].client_addr is None


def test_rejections_after_the_allowlist_carry_the_client() -> None:
    events: list[VerificationEvent] = []
    verifier = behind_proxy(events)
    tampered = signed("d")
    with pytest.raises(SignatureMismatch) as mismatch:
        verifier.verify(BODY + b" ", tampered, remote_addr=PROXY, now=NOW)
    verifier.verify(BODY, signed("e"), remote_addr=PROXY, now=NOW)
    with pytest.raises(ReplayedDelivery) as replay:
        verifier.verify(BODY, signed("e"), remote_addr=PROXY, now=NOW)
    assert mismatch.value.client_addr == CLIENT
    assert replay.value.client_addr == CLIENT
    assert [(e.reason, e.client_addr) for e in events] == [
        ("signature_mismatch", CLIENT),
        (None, CLIENT),
        ("replayed", CLIENT),
    ]


class BrokenStore:
    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        raise ConnectionError("down")

    async def areserve(self, key: bytes, expires_at: float, now: float) -> bool:
        raise NonceStoreUnavailable("down")


def test_store_failures_carry_the_client() -> None:
    events: list[VerificationEvent] = []
    verifier = behind_proxy(events, nonce_store=BrokenStore())
    with pytest.raises(NonceStoreUnavailable) as sync_failure:
        verifier.verify(BODY, signed("f"), remote_addr=PROXY, now=NOW)
    with pytest.raises(NonceStoreUnavailable) as async_failure:
        asyncio.run(verifier.averify(BODY, signed("g"), remote_addr=PROXY, now=NOW))
    assert sync_failure.value.client_addr == CLIENT
    assert async_failure.value.client_addr == CLIENT
    assert [e.client_addr for e in events] == [CLIENT, CLIENT]


def test_async_path_carries_the_client() -> None:
    events: list[VerificationEvent] = []
    verifier = behind_proxy(events)

    async def scenario() -> None:
        verified = await verifier.averify(BODY, signed("h"), remote_addr=PROXY, now=NOW)
        assert verified.client_addr == CLIENT
        with pytest.raises(ReplayedDelivery) as replay:
            await verifier.averify(BODY, signed("h"), remote_addr=PROXY, now=NOW)
        assert replay.value.client_addr == CLIENT

    asyncio.run(scenario())
    assert [e.client_addr for e in events] == [CLIENT, CLIENT]


def test_without_an_allowlist_there_is_no_client() -> None:
    events: list[VerificationEvent] = []
    verifier = Verifier(SCHEME, SECRET, nonce_store=None, on_event=events.append)
    verified = verifier.verify(BODY, signed("i"), remote_addr=PROXY, now=NOW)
    assert verified.client_addr is None
    with pytest.raises(VerificationError) as info:
        verifier.verify(BODY + b"!", signed("j"), remote_addr=PROXY, now=NOW)
    assert info.value.client_addr is None
    assert [e.client_addr for e in events] == [None, None]


def test_default_log_names_the_client_when_it_is_not_the_peer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hookseal")
    allowlist = IPAllowlist(["203.0.113.0/24", "10.0.0.0/8"], trusted_proxies=[PROXY])
    verifier = Verifier(SCHEME, SECRET, allowlist=allowlist, nonce_store=None)
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY + b"!", signed("k"), remote_addr=PROXY, now=NOW)
    with pytest.raises(SignatureMismatch):  # a direct request: client and peer are the same
        verifier.verify(BODY + b"!", signed("l"), remote_addr="10.9.9.9", now=NOW)
    proxied, direct = (r.getMessage() for r in caplog.records)
    assert f"peer={PROXY} client={CLIENT} msg_id=k" in proxied
    assert "client=" not in direct
    assert "peer=10.9.9.9 msg_id=l" in direct


def test_debug_acceptance_line_names_the_client(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hookseal")
    allowlist = IPAllowlist(["203.0.113.0/24"], trusted_proxies=[PROXY])
    verifier = Verifier(SCHEME, SECRET, allowlist=allowlist, nonce_store=None)
    verifier.verify(BODY, signed("m"), remote_addr=PROXY, now=NOW)
    (line,) = [r.getMessage() for r in caplog.records if "accepted delivery" in r.getMessage()]
    assert f"peer={PROXY} client={CLIENT} msg_id=m" in line
