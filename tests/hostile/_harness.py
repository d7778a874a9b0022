"""The core harness: a verifier per profile with a recording store, audit events and leak checks."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field
from typing import Any

import pytest

from hookseal import Headers, VerificationError, VerificationEvent, Verified
from hookseal import Verifier as Verifier
from hookseal._events import log_event
from hookseal.stores.memory import MemoryNonceStore
from hookseal.testing import FrozenClock

from ._profiles import NOW, TOLERANCE, Profile, Request

WINDOW = 16
#: How a delivery reaches the core: verify() with header lines (duplicates detectable) and
#: averify() with a plain dict (the Mapping path and, for Standard Webhooks, its fast path).
MODES = ["verify-lines", "averify-dict"]


class RecordingStore:
    """A MemoryNonceStore that records every reserve call (a write, or an attempt at one)."""

    def __init__(self, inner: MemoryNonceStore | None = None) -> None:
        self.inner = inner if inner is not None else MemoryNonceStore()
        self.calls: list[tuple[bytes, float, float]] = []

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        self.calls.append((key, expires_at, now))
        return self.inner.reserve(key, expires_at, now)

    async def areserve(self, key: bytes, expires_at: float, now: float) -> bool:
        return self.reserve(key, expires_at, now)

    def __len__(self) -> int:
        return len(self.inner)

    def __repr__(self) -> str:
        return f"RecordingStore({len(self.calls)} calls)"


def encodings(raw: bytes) -> set[str]:
    """Every spelling of ``raw`` that could end up in text."""
    b64 = base64.b64encode(raw).decode()
    forms = {
        raw.decode("latin-1"),
        raw.hex(),
        raw.hex().upper(),
        b64,
        b64.rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "whsec_" + b64,
        repr(raw)[2:-1],
    }
    return {form for form in forms if len(form) >= 8}


def leak_forms(
    profile: Profile,
    request: Request,
    extra: list[bytes] = (),  # type: ignore[assignment]
) -> list[tuple[str, str]]:
    """What :func:`audit_text` looks for: (a text that must not appear, what it would mean).

    Every secret, token and signature in each of its spellings, the signature header, and
    each 16-byte window of the body (latin-1, hex, repr). The last answer is kept: one
    rejection audits several texts (message, repr, event, log records) for the same request,
    and signing the expected signatures again for each text was the hostile suite's main cost.
    """
    key = (
        request.body,
        tuple(request.headers),
        request.url,
        request.method,
        tuple(extra),
    )
    cached = _last_forms.get(id(profile))
    if cached is not None and cached[0] is profile and cached[1] == key:
        return cached[2]
    forms: list[tuple[str, str]] = []
    for secret in profile.leak_secrets:
        forms += [(form, f"a secret leaked ({profile.name})") for form in encodings(secret)]
    if isinstance(profile.secrets, dict):
        configured: list[object] = list(profile.secrets.values())
    else:
        configured = list(profile.secrets)
    for secret in configured:
        if isinstance(secret, (str, bytes)) and profile.encoding == "token":
            raw = secret.encode() if isinstance(secret, str) else secret
            forms += [(form, "a token leaked") for form in encodings(raw)]
    for signature in [*profile.expected_signatures(request), *extra]:
        forms += [(form, f"a signature leaked ({profile.name})") for form in encodings(signature)]
    value = None
    with contextlib.suppress(AssertionError):
        value = request.get(profile.sig_header)
    if value is not None and len(value) >= 40:
        forms.append((value, "the signature header leaked"))
    body = request.body
    for start in range(max(len(body) - WINDOW + 1, 0)):
        window = body[start : start + WINDOW]
        forms.append((window.decode("latin-1"), "body bytes leaked"))
        forms.append((window.hex(), "body bytes leaked (hex)"))
        forms.append((repr(window)[2:-1], "body bytes leaked (repr)"))
    _last_forms.clear()  # one entry: the request being audited
    _last_forms[id(profile)] = (profile, key, forms)
    return forms


_last_forms: dict[int, tuple[Profile, tuple[object, ...], list[tuple[str, str]]]] = {}


def audit_text(text: str, profile: Profile, request: Request, extra: list[bytes] = ()) -> None:  # type: ignore[assignment]
    """No secret, expected or presented signature, or 16-byte body window in ``text``."""
    for form, leaked in leak_forms(profile, request, extra):
        assert form not in text, leaked


@dataclass
class Harness:
    """One verifier for one profile, with its store, events and clock exposed."""

    profile: Profile
    mode: str = "verify-lines"
    options: dict[str, Any] = field(default_factory=dict)
    store: Any = None
    remote_addr: str | None = None

    def __post_init__(self) -> None:
        self.clock = FrozenClock(NOW)
        if self.store is None:
            self.store = RecordingStore()
        self.events: list[VerificationEvent] = []

        def sink(event: VerificationEvent) -> None:
            self.events.append(event)
            log_event(event)

        settings: dict[str, Any] = {
            "tolerance": TOLERANCE,
            "clock": self.clock,
            "nonce_store": self.store,
            "on_event": sink,
        }
        settings.update(self.options)
        self.verifier = Verifier(self.profile.make_scheme(), self.profile.secrets, **settings)

    def run(self, request: Request) -> Verified:
        headers: Any
        kwargs = {**request.kwargs(), "remote_addr": self.remote_addr}
        if self.mode == "verify-lines":
            return self.verifier.verify(request.body, request.headers, **kwargs)
        headers = {name.lower(): value for name, value in request.headers}
        if len(headers) != len(request.headers):  # repeated lines only travel as lines
            headers = Headers(request.headers)
        return asyncio.run(self.verifier.averify(request.body, headers, **kwargs))

    def reject(
        self,
        request: Request,
        error: type[VerificationError] | tuple[type[VerificationError], ...],
        reasons: str | set[str] | None = None,
        *,
        caplog: pytest.LogCaptureFixture | None = None,
        store_untouched: bool = True,
        extra_secrets: list[bytes] = (),  # type: ignore[assignment]
    ) -> VerificationError:
        """Verify ``request``, expecting a rejection; check the store, the event and leaks."""
        calls_before = len(self.store.calls) if isinstance(self.store, RecordingStore) else 0
        events_before = len(self.events)
        with pytest.raises(VerificationError) as info:
            self.run(request)
        exc = info.value
        allowed = error if isinstance(error, tuple) else (error,)
        assert type(exc) in allowed, (self.profile.name, repr(exc))
        if reasons is not None:
            wanted = {reasons} if isinstance(reasons, str) else reasons
            assert exc.reason in wanted, (self.profile.name, repr(exc))
        assert exc.status_code == type(exc).status_code
        if store_untouched and isinstance(self.store, RecordingStore):
            assert len(self.store.calls) == calls_before, "a rejected delivery wrote to the store"
        new_events = self.events[events_before:]
        assert len(new_events) == 1
        assert new_events[0].outcome == "rejected"
        assert new_events[0].reason == exc.reason
        assert new_events[0].status_code == exc.status_code
        texts = [str(exc), repr(exc), repr(self.verifier), repr(new_events[0])]
        texts.append(str(new_events[0].as_dict()))
        if caplog is not None:
            for record in caplog.records:
                texts.append(record.getMessage())
                if record.exc_text:
                    texts.append(record.exc_text)
        for text in texts:
            audit_text(text, self.profile, request, extra_secrets)
        return exc

    def accept(self, request: Request) -> Verified:
        verified = self.run(request)
        assert verified.body == request.body
        return verified


def expect_status(exc: VerificationError, status: int) -> None:
    assert exc.status_code == status, repr(exc)
