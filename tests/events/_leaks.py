"""The leak audit applied to every audit event: no secret, signature or body bytes."""

from __future__ import annotations

import base64
import json

from hookseal import VerificationEvent

WINDOW = 16


def encodings(raw: bytes) -> set[str]:
    """Every spelling of ``raw`` that could end up in a log line."""
    forms = {
        raw.decode("latin-1"),
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        repr(raw)[2:-1],
    }
    return {form for form in forms if form}


def assert_no_leak(
    text: str,
    *,
    secrets: list[bytes],
    signatures: list[bytes],
    body: bytes,
    header_values: list[str] = (),  # type: ignore[assignment]
) -> None:
    """Assert that ``text`` holds no secret, signature, header value or 16-byte body window."""
    for secret in secrets:
        for form in encodings(secret):
            assert form not in text, "a secret leaked"
    for signature in signatures:
        for form in encodings(signature):
            assert form not in text, "a signature leaked"
    for value in header_values:
        assert value not in text, "a header value leaked"
    for start in range(max(len(body) - WINDOW + 1, 0)):
        window = body[start : start + WINDOW]
        assert window.decode("latin-1") not in text, "body bytes leaked"
        assert window.hex() not in text, "body bytes leaked (hex)"


def event_text(event: VerificationEvent) -> str:
    """What a JSON sink would write for ``event`` (plus its repr)."""
    return json.dumps(event.as_dict()) + "\n" + repr(event)
