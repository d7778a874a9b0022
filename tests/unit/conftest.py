"""Factory fixtures for the core unit tests: schemes, verifiers and signed deliveries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hookseal import Signer, Verifier
from hookseal._keys import HMACKey
from hookseal.schemes import HMACScheme

from ._support import BODY, NOW, SECRET, MacCounter


@pytest.fixture
def make_scheme() -> Callable[..., HMACScheme]:
    """Build an HMACScheme on header X-Signature with any options."""

    def make(**options: Any) -> HMACScheme:
        options.setdefault("header", "X-Signature")
        return HMACScheme(**options)

    return make


@pytest.fixture
def make_verifier() -> Callable[..., Verifier]:
    """Build a Verifier with the test secret; replay protection off unless asked for."""

    def make(scheme: HMACScheme, secrets: object = SECRET, **options: Any) -> Verifier:
        options.setdefault("nonce_store", None)
        return Verifier(scheme, secrets=secrets, **options)

    return make


@pytest.fixture
def sign() -> Callable[..., dict[str, str]]:
    """Sign BODY (or another body) for a scheme at NOW with the test secret."""

    def do_sign(
        scheme: HMACScheme,
        body: bytes = BODY,
        *,
        secret: object = SECRET,
        timestamp: int = NOW,
        msg_id: str | None = "msg1",
    ) -> dict[str, str]:
        return Signer(scheme, secret=secret).sign(body, timestamp=timestamp, msg_id=msg_id)

    return do_sign


@pytest.fixture
def mac_counter(monkeypatch: pytest.MonkeyPatch) -> MacCounter:
    """Count every MAC the core computes during the test."""
    counter = MacCounter()
    real_digest = HMACKey.digest
    real_parts = HMACKey.digest_parts

    def digest(self: HMACKey, message: bytes) -> bytes:
        counter.calls += 1
        return real_digest(self, message)

    def digest_parts(self: HMACKey, prefix: bytes, message: bytes) -> bytes:
        counter.calls += 1
        return real_parts(self, prefix, message)

    monkeypatch.setattr(HMACKey, "digest", digest)
    monkeypatch.setattr(HMACKey, "digest_parts", digest_parts)
    return counter
