"""The scheme docs/writing-a-scheme.md writes gives the guarantees built-in schemes give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hookseal import (
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    Verifier,
)
from hookseal.stores.memory import MemoryNonceStore

PAGE = Path(__file__).parents[2] / "docs" / "writing-a-scheme.md"
NOW = 1_700_000_000
BODY = b'{"id": 1}'


@pytest.fixture(scope="module")
def acme() -> Any:
    text = PAGE.read_text(encoding="utf-8")
    first = text.split("```python\n", 1)[1].split("\n```", 1)[0]
    assert len(first.splitlines()) < 40  # the page promises a complete scheme under 40 lines
    namespace: dict[str, Any] = {}
    exec(compile(first, str(PAGE), "exec"), namespace)
    return namespace["Acme"]


def sign(acme: Any, secret: str, body: bytes = BODY, at: int = NOW) -> dict[str, str]:
    return Signer(acme(), secret).sign(body, timestamp=at)


def test_genuine_accepted_then_replay_refused(acme) -> None:
    verifier = Verifier(acme(), ["s1"], nonce_store=MemoryNonceStore())
    headers = sign(acme, "s1")
    assert verifier.verify(BODY, headers, now=NOW).timestamp == NOW
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, headers, now=NOW)


def test_rotation_shares_the_replay_identity_across_workers(acme) -> None:
    store = MemoryNonceStore()
    old_worker = Verifier(acme(), ["old"], nonce_store=store)
    new_worker = Verifier(acme(), ["old", "new"], nonce_store=store)
    headers = sign(acme, "old")
    old_worker.verify(BODY, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        new_worker.verify(BODY, headers, now=NOW)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda h: {**h, "Acme-Signature": h["Acme-Signature"][:-2] + "00"}, SignatureMismatch),
        (lambda h: {k: v for k, v in h.items() if k != "Acme-Timestamp"}, MissingHeader),
        (lambda h: {**h, "Acme-Signature": "v2=" + "00" * 32}, MalformedHeader),
        (lambda h: {**h, "Acme-Signature": ",".join([h["Acme-Signature"]] * 9)}, MalformedHeader),
        (lambda h: {**h, "Acme-Timestamp": str(NOW - 3600)}, TimestampOutOfTolerance),
        (lambda h: {**h, "Acme-Timestamp": "+1700000000"}, MalformedHeader),
    ],
)
def test_hostile_deliveries_are_refused_with_the_right_error(acme, change, error) -> None:
    verifier = Verifier(acme(), ["s1"], nonce_store=None)
    with pytest.raises(error):
        verifier.verify(BODY, change(sign(acme, "s1")), now=NOW)


def test_a_tampered_body_or_wrong_secret_is_a_mismatch(acme) -> None:
    verifier = Verifier(acme(), ["s1"], nonce_store=None)
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY + b" ", sign(acme, "s1"), now=NOW)
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, sign(acme, "other"), now=NOW)
