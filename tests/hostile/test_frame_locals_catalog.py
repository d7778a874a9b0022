"""No frame of a rejection holds a signature the attacker could use, for every catalog provider.

An error tracker records the locals of every frame of an exception (Sentry does by default).
For each provider that builds without arguments and signs the body, a forged delivery (a
genuine delivery's headers on the attacker's body) is refused, and no hookseal frame of the
rejection (nor of a chained exception) holds the signature each configured key would have
accepted for the attacker's body, in bytes or as hex or base64 text. test_frame_locals.py
does the same, in more shapes, for the original schemes' profiles.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest

import hookseal
from hookseal import Headers, Signer, VerificationError, Verifier
from hookseal.schemes._registry import PROVIDERS, Provider, load_class

HOOKSEAL = os.path.dirname(hookseal.__file__)
NOW = 1_767_000_000
BODY = b'{"event":"genuine","n":1}'
ATTACK = b'{"attacker":"chosen","amount":1000000}'
URL = "https://example.com/hooks/x?y=1"
# One of these fits each provider's secret form (text, whsec_ base64, base64, user:password).
SECRETS = (
    "s3cret-value-for-testing-0123456789",
    "whsec_" + base64.b64encode(b"k" * 32).decode(),
    base64.b64encode(b"k" * 32).decode(),
    "user:password",
)


def _signed(row: Provider) -> tuple[str, dict[str, str], dict[str, str]] | None:
    """(secret, genuine headers, the attacker's body's headers) when the signature covers it."""
    cls = load_class(row)
    for secret in SECRETS:
        with contextlib.suppress(Exception):  # a secret of another form, or no Signer support
            signer = Signer(cls(), secret)
            genuine = signer.sign(BODY, timestamp=NOW, msg_id="m1", url=URL)
            attack = signer.sign(ATTACK, timestamp=NOW, msg_id="m1", url=URL)
            verifier = Verifier(cls(), [secret], nonce_store=None, clock=lambda: NOW)
            verifier.verify(BODY, genuine, url=URL, method="POST")
            if genuine != attack:
                return secret, genuine, attack
            return None
    return None


CASES = [row for row in PROVIDERS if row.builds_alone and _signed(row) is not None]


def _frames(error: BaseException) -> Iterator[FrameType]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.startswith(HOOKSEAL):
                yield tb.tb_frame
            tb = tb.tb_next
        pending += [current.__cause__, current.__context__]


def _values(value: Any, depth: int = 0) -> Iterator[Any]:
    yield value
    if depth < 3 and isinstance(value, dict):
        for item in (*value.keys(), *value.values()):
            yield from _values(item, depth + 1)
    elif depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _values(item, depth + 1)


def _forbidden(attack: dict[str, str], genuine: dict[str, str]) -> tuple[set[str], set[bytes]]:
    """The attacker body's signatures as raw bytes and as hex and base64 text."""
    texts: set[str] = set()
    raws: set[bytes] = set()
    for name, value in attack.items():
        if genuine.get(name) == value:
            continue
        for token in re.findall(r"[A-Za-z0-9+/_=-]{20,}", value):
            texts.add(token.rstrip("="))
            padded = token + "=" * (-len(token) % 4)
            for decode in (binascii.a2b_hex, base64.b64decode, base64.urlsafe_b64decode):
                with contextlib.suppress(ValueError, binascii.Error):
                    raw = decode(token if decode is binascii.a2b_hex else padded)
                    if len(raw) >= 16:
                        raws.add(raw)
    for raw in list(raws):
        texts |= {raw.hex(), base64.b64encode(raw).decode().rstrip("=")}
    return texts, raws


def test_the_catalog_cases_cover_the_body_signing_providers() -> None:
    assert len(CASES) >= 40  # every provider whose signature covers the body


@pytest.mark.parametrize("shape", ["dict", "lines"])
@pytest.mark.parametrize("row", CASES, ids=lambda row: row.name)
def test_no_frame_of_a_forgery_rejection_holds_the_attackers_signature(row, shape) -> None:
    found = _signed(row)
    assert found is not None
    secret, genuine, attack = found
    texts, raws = _forbidden(attack, genuine)
    raws.add(secret.encode())
    verifier = Verifier(load_class(row)(), [secret], nonce_store=None, clock=lambda: NOW)
    headers: Any = dict(genuine) if shape == "dict" else Headers(list(genuine.items()))
    with pytest.raises(VerificationError) as caught:
        verifier.verify(ATTACK, headers, url=URL, method="POST")
    for frame in _frames(caught.value):
        for name, local in frame.f_locals.items():
            for value in _values(local):
                if isinstance(value, (bytes, bytearray)):
                    assert bytes(value) not in raws, (frame.f_code.co_name, name)
                text = value if isinstance(value, str) else repr(value)
                assert not any(item in text for item in texts), (frame.f_code.co_name, name)
