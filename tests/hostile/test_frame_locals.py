"""No frame of a rejection's traceback holds an expected signature or a key.

Error trackers (Sentry's default among them) record the local variables of every frame in a
traceback. If a frame still held the MAC the verifier expected for the attacker's body, the
tracker would store a valid signature for an attacker-chosen body. Every profile is forged
with a genuine signature over another body (the attacker's), with one key and during a
rotation, through the prepared fast check (a dict of headers) and the general check (header
lines); then every local of every frame (and of chained exceptions) is searched.
"""

from __future__ import annotations

import base64
import os
import types
from typing import Any

import pytest

import hookseal
from hookseal import Headers, SignatureMismatch, Verifier

from ._profiles import BODY, NOW, PROFILES, Profile

HOOKSEAL_DIR = os.path.dirname(hookseal.__file__)
ATTACKER_BODY = b'{"attacker":"chosen","amount":1000000}'
SYMMETRIC = [p for p in PROFILES if not p.asymmetric and p.signs_body]


def _encodings(raw: bytes) -> set[str]:
    forms = {
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        repr(raw)[2:-1],
    }
    return {form for form in forms if len(form) >= 16}


def _values(value: object, depth: int = 0) -> list[object]:
    """``value`` and what it holds (containers, a few levels deep)."""
    found = [value]
    if depth >= 3:
        return found
    items: list[object] = []
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    for item in items:
        found.extend(_values(item, depth + 1))
    return found


def _frames(exc: BaseException) -> list[types.FrameType]:
    frames = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            # hookseal's frames (the test's own frame holds the test's secrets).
            if HOOKSEAL_DIR in tb.tb_frame.f_code.co_filename:
                frames.append(tb.tb_frame)
            tb = tb.tb_next
        pending.extend([current.__cause__, current.__context__])
    return frames


def _assert_no_expected_signature(exc: BaseException, forbidden: list[bytes]) -> None:
    texts = {form for raw in forbidden for form in _encodings(raw)}
    for frame in _frames(exc):
        for name, local in frame.f_locals.items():
            for value in _values(local):
                where = f"{frame.f_code.co_name}:{name}"
                if isinstance(value, (bytes, bytearray, memoryview)):
                    assert bytes(value) not in forbidden, f"{where} holds an expected MAC or key"
                text = value if isinstance(value, str) else repr(value)
                for form in texts:
                    assert form not in text, f"{where} shows an expected MAC or key"


def _cases() -> list[object]:
    cases = []
    for profile in SYMMETRIC:
        rotations = [False, True] if isinstance(profile.secrets, list) else [False]
        two = profile.multi is not None and not profile.name.startswith("rfc9421")
        shapes = ["dict", "lines"] + (["two-signatures"] if two else [])
        for rotation in rotations:
            for shape in shapes:
                name = f"{profile.name}-{'rotation' if rotation else 'one-key'}-{shape}"
                cases.append(pytest.param(profile, rotation, shape, id=name))
    return cases


@pytest.mark.parametrize(("profile", "rotation", "shape"), _cases())
def test_a_forged_delivery_leaves_no_expected_signature_in_any_frame(
    profile: Profile, rotation: bool, shape: str
) -> None:
    genuine = profile.sign(BODY)
    if shape == "two-signatures":  # several entries: the general check, whatever the path
        assert profile.multi is not None
        genuine = genuine.replace(profile.sig_header, profile.multi(profile.sig_text(genuine), 2))
    forged = genuine.with_body(ATTACKER_BODY)
    secrets = [profile.other_signing_secret, *profile.secrets] if rotation else profile.secrets
    verifier = Verifier(
        profile.make_scheme(), secrets, tolerance=300, nonce_store=None, clock=lambda: NOW
    )
    headers: Any = Headers(forged.headers) if shape == "lines" else dict(forged.headers)
    with pytest.raises(SignatureMismatch) as raised:
        verifier.verify(forged.body, headers, url=forged.url, method=forged.method)
    # What each configured key would have accepted for the attacker's body, and the keys.
    expected = [profile.sig_bytes(profile.sign(ATTACKER_BODY))]
    if rotation:
        expected.append(profile.sig_bytes(profile.sign(ATTACKER_BODY, other=True)))
    assert _frames(raised.value), "the traceback holds no hookseal frame to search"
    _assert_no_expected_signature(raised.value, expected + profile.leak_secrets)
