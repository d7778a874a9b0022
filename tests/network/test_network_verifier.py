"""IPAllowlist through Verifier(..., allowlist=...): refused before any signature work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from hookseal import (
    Delivery,
    ForbiddenAddress,
    Headers,
    MissingHeader,
    Signer,
    VerificationEvent,
    Verified,
    Verifier,
)
from hookseal.network import IPAllowlist
from hookseal.schemes.base import Scheme
from hookseal.schemes.generic_hmac import HMACScheme
from hookseal.stores.memory import MemoryNonceStore

SECRET = "allowlist-test-secret"
NOW = 1_700_000_000
BODY = b'{"event":"ping"}'


class CountingScheme(HMACScheme):
    """A real HMACScheme that counts how often its check (the signature work) runs."""

    def __init__(self) -> None:
        super().__init__(
            "X-Signature", timestamp_header="X-Timestamp", template="{timestamp}.{body}"
        )
        self.calls: list[None] = []  # a scheme's options are frozen; its list is not

    @property
    def checks(self) -> int:
        return len(self.calls)

    def check(self, *args: Any, **kwargs: Any) -> Verified:
        self.calls.append(None)
        return super().check(*args, **kwargs)


class AlwaysFails(Scheme):
    """A scheme whose check fails differently (MissingHeader) if it is ever reached."""

    name = "always-fails"

    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Any,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        raise MissingHeader("the scheme ran", header="X-Never")

    def sign(self, key: Any, body: bytes, **kwargs: Any) -> dict[str, str]:
        return {}


def build(allowlist: IPAllowlist) -> tuple[Verifier, CountingScheme, MemoryNonceStore, list[Any]]:
    scheme = CountingScheme()
    store = MemoryNonceStore()
    events: list[VerificationEvent] = []
    verifier = Verifier(
        scheme, SECRET, allowlist=allowlist, nonce_store=store, on_event=events.append
    )
    return verifier, scheme, store, events


def signed_headers() -> dict[str, str]:
    return Signer(CountingScheme(), SECRET).sign(BODY, timestamp=NOW)


def test_allowed_sender_is_verified() -> None:
    verifier, scheme, store, _ = build(IPAllowlist(["10.0.0.0/8"]))
    verified = verifier.verify(BODY, signed_headers(), remote_addr="10.1.2.3", now=NOW)
    assert verified.body == BODY
    assert scheme.checks == 1
    assert len(store) == 1


@pytest.mark.parametrize(
    ("peer", "extra", "reason"),
    [
        ("203.0.113.9", {}, "forbidden_address"),
        ("203.0.113.9", {"X-Forwarded-For": "10.1.2.3"}, "forbidden_address"),  # row 27
        ("::ffff:8.8.8.8", {}, "forbidden_address"),  # row 28
        ("2002:a01:203::1", {}, "forbidden_address"),  # row 28
        ("fe80::1%eth0", {}, "malformed_address"),  # row 28
        ("010.1.2.3", {}, "malformed_address"),  # row 28
        (None, {}, "forbidden_address"),
    ],
)
def test_forbidden_sender_refused_before_signature_work(
    peer: str | None, extra: dict[str, str], reason: str
) -> None:
    verifier, scheme, store, events = build(IPAllowlist(["10.0.0.0/8"]))
    headers = {**signed_headers(), **extra}
    with pytest.raises(ForbiddenAddress) as info:
        verifier.verify(BODY, headers, remote_addr=peer, now=NOW)
    assert info.value.reason == reason
    assert info.value.status_code == 403
    assert scheme.checks == 0  # the signature was never looked at
    assert len(store) == 0  # the nonce store was never written
    assert [e.reason for e in events] == [reason]


def test_forbidden_wins_over_a_scheme_that_would_fail_differently() -> None:
    allowlist = IPAllowlist(["10.0.0.0/8"])
    verifier = Verifier(AlwaysFails(), SECRET, allowlist=allowlist, nonce_store=None)
    with pytest.raises(MissingHeader):  # control: an allowed peer reaches the scheme
        verifier.verify(BODY, {}, remote_addr="10.1.2.3", now=NOW)
    with pytest.raises(ForbiddenAddress):  # a forbidden one never does
        verifier.verify(BODY, {}, remote_addr="8.8.8.8", now=NOW)
    with pytest.raises(ForbiddenAddress):  # nor does garbage
        verifier.verify(BODY, {}, remote_addr="unknown", now=NOW)


def test_mapped_control_is_allowed() -> None:
    # row 28 control: ::ffff:10.1.2.3 is in 10.0.0.0/8
    verifier, scheme, _, _ = build(IPAllowlist(["10.0.0.0/8"]))
    verifier.verify(BODY, signed_headers(), remote_addr="::ffff:10.1.2.3", now=NOW)
    assert scheme.checks == 1


def test_behind_proxies_with_header_lines() -> None:
    allowlist = IPAllowlist(["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"])
    verifier, scheme, _, _ = build(allowlist)
    lines = [
        *signed_headers().items(),
        ("X-Forwarded-For", "8.8.8.8"),
        ("X-Forwarded-For", "10.1.2.3"),
    ]
    verifier.verify(BODY, lines, remote_addr="192.168.0.5", now=NOW)
    assert scheme.checks == 1
    # Spoofed allowlisted entry followed by the attacker's real address: refused.
    spoof = [
        *signed_headers().items(),
        ("X-Forwarded-For", "10.1.2.3"),
        ("X-Forwarded-For", "8.8.8.8"),
    ]
    with pytest.raises(ForbiddenAddress):
        verifier.verify(BODY, spoof, remote_addr="192.168.0.5", now=NOW + 1)
    assert scheme.checks == 1


def test_verify_delivery_and_async() -> None:
    import asyncio

    verifier, scheme, _, _ = build(IPAllowlist(["10.0.0.0/8"], trusted_proxies=1))
    delivery = Delivery(
        BODY,
        Headers([*signed_headers().items(), ("X-Forwarded-For", "10.1.2.3")]),
        remote_addr="127.0.0.1",
    )
    assert verifier.verify_delivery(delivery, now=NOW).body == BODY
    bad = Delivery(BODY, Headers([*signed_headers().items(), ("X-Forwarded-For", "8.8.8.8")]))
    with pytest.raises(ForbiddenAddress):
        asyncio.run(verifier.averify_delivery(bad, now=NOW))
    assert scheme.checks == 1


def test_verifier_repr_shows_allowlist_counts() -> None:
    verifier, _, _, _ = build(IPAllowlist.github())
    text = repr(verifier)
    assert "IPAllowlist(networks=<4 IPv4, 2 IPv6>" in text
    assert SECRET not in text
