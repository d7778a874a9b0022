"""Resource bounds: oversized input is refused in bounded time and memory.

Memory is measured with ``tracemalloc`` (peak allocated while verifying, beyond the input,
which is built before tracing starts); the bounds are generous on purpose. Time is bounded
only by pytest-timeout: no wall-clock assertions.
"""

from __future__ import annotations

import asyncio
import base64
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from hookseal import (
    ForbiddenAddress,
    Headers,
    IPAllowlist,
    MalformedHeader,
    PayloadTooLarge,
    VerificationError,
)
from hookseal.contrib.starlette import WebhookMiddleware

from ._harness import Harness
from ._profiles import BY_NAME, PROFILES, Profile, params

MiB = 1024 * 1024
#: Memory a rejection may allocate beyond its input.
BOUND = 5 * MiB

pytestmark = pytest.mark.timeout(60)


def peak_while(call: Callable[[], object]) -> tuple[object, int]:
    """Run ``call`` under tracemalloc; return its outcome and the peak allocation in bytes."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            outcome: object = call()
        except VerificationError as exc:
            outcome = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak


def _quiet(profile: Profile, **options: Any) -> Harness:
    return Harness(profile, options={"on_event": lambda event: None, **options})


@pytest.mark.parametrize("profile", params())
def test_100_kib_signature_header(profile: Profile) -> None:
    h = _quiet(profile)
    genuine = profile.sign()
    huge = genuine.replace(profile.sig_header, "a" * (100 * 1024))
    outcome, peak = peak_while(lambda: h.run(huge))
    assert isinstance(outcome, MalformedHeader)
    assert outcome.reason == "header_too_long"
    assert peak < BOUND


@pytest.mark.parametrize(
    "name",
    [
        "standard-webhooks-v1",
        "stripe",
        "hmac-generic",
        "paddle",
        "workos",
        pytest.param("rfc9421-hmac", marks=pytest.mark.extras),
    ],
)
def test_10000_signatures(name: str) -> None:
    profile = BY_NAME[name]
    genuine = profile.sign()
    assert profile.multi is not None
    value = profile.multi(profile.sig_text(genuine), 10_000)
    request = genuine.replace(profile.sig_header, value)
    h = _quiet(profile, max_header_bytes=len(value) + 1)
    outcome, peak = peak_while(lambda: h.run(request))
    assert isinstance(outcome, MalformedHeader), outcome
    assert outcome.reason == "too_many_signatures", outcome
    # Parsing may allocate in proportion to the header it was allowed to accept; no more.
    allowed = BOUND + 4 * len(value) if name in ("hmac-generic", "rfc9421-hmac") else BOUND
    assert peak < allowed, (peak, len(value))
    # With the default header cap the same header is refused for its length, nearly for free.
    h = _quiet(profile)
    outcome, peak = peak_while(lambda: h.run(request))
    assert isinstance(outcome, MalformedHeader)
    assert outcome.reason == "header_too_long"
    assert peak < MiB


@pytest.mark.parametrize("forwarded_header", ["x-forwarded-for", "forwarded"])
def test_5000_entry_forwarded_chain(forwarded_header: str) -> None:
    profile = BY_NAME["standard-webhooks-v1"]
    allowlist = IPAllowlist(
        ["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"], forwarded_header=forwarded_header
    )
    h = _quiet(profile, allowlist=allowlist, max_header_bytes=1 << 20)
    h.remote_addr = "192.168.1.1"
    entry = "10.1.2.3" if forwarded_header == "x-forwarded-for" else "for=10.1.2.3"
    chain = ", ".join([entry] * 5000)
    name = "X-Forwarded-For" if forwarded_header == "x-forwarded-for" else "Forwarded"
    request = profile.sign().replace(name, chain)
    outcome, peak = peak_while(lambda: h.run(request))
    assert isinstance(outcome, ForbiddenAddress)
    assert outcome.reason == "forbidden_address"
    assert peak < BOUND
    # Split over many header lines, the entries are counted over all of them.
    lines = Headers([*request.headers[:-1], *[(name, entry)] * 5000])
    outcome, peak = peak_while(lambda: allowlist.check("192.168.1.1", lines))
    assert isinstance(outcome, ForbiddenAddress)
    assert peak < BOUND


@pytest.mark.parametrize("profile", [p for p in PROFILES if p.id_header], ids=lambda p: p.name)
def test_10_mb_message_id(profile: Profile) -> None:
    assert profile.id_header is not None
    request = profile.sign().replace(profile.id_header, "m" * (10 * MiB))
    for options in ({}, {"max_header_bytes": 20 * MiB}):
        h = _quiet(profile, **options)
        outcome, peak = peak_while(lambda h=h: h.run(request))  # type: ignore[misc]
        assert isinstance(outcome, MalformedHeader), outcome
        assert peak < BOUND


def test_10_mb_body_is_refused_by_length_before_anything_else() -> None:
    profile = BY_NAME["standard-webhooks-v1"]
    body = b"x" * (10 * MiB)
    request = profile.sign(body)
    h = _quiet(profile)
    outcome, peak = peak_while(lambda: h.run(request))
    assert isinstance(outcome, PayloadTooLarge)
    assert peak < MiB


# -- a 1 GB streamed body through the ASGI middleware ------------------------------------

GiB = 1024 * MiB
CHUNK = 64 * 1024


class Stream:
    """An ASGI receive() handing out a 1 GiB body in 64 KiB chunks, counting what was read."""

    def __init__(self, total: int = GiB) -> None:
        self.total = total
        self.sent = 0
        self.chunk = b"\0" * CHUNK

    async def __call__(self) -> dict[str, Any]:
        if self.sent >= self.total:
            return {"type": "http.disconnect"}
        self.sent += CHUNK
        return {"type": "http.request", "body": self.chunk, "more_body": self.sent < self.total}


def _asgi(
    headers: list[tuple[bytes, bytes]], stream: Stream, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    profile = BY_NAME["standard-webhooks-v1"]
    h = _quiet(profile, max_body_bytes=limit)
    called = False

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal called
        called = True

    middleware = WebhookMiddleware(app, {"/hook": h.verifier})
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/hook",
        "raw_path": b"/hook",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "scheme": "http",
    }
    asyncio.run(middleware(scope, stream, send))
    return sent, called


def _signed_headers() -> list[tuple[bytes, bytes]]:
    genuine = BY_NAME["standard-webhooks-v1"].sign()
    return [(k.lower().encode(), v.encode()) for k, v in genuine.headers]


@pytest.mark.parametrize("declared", [False, True])
def test_1_gb_streamed_body_through_the_asgi_middleware(declared: bool) -> None:
    limit = MiB
    headers = _signed_headers()
    if declared:
        headers.append((b"content-length", str(GiB).encode()))
    stream = Stream()
    outcome, peak = peak_while(lambda: _asgi(headers, stream, limit))
    sent, called = outcome  # type: ignore[misc]
    assert not called
    assert sent[0]["status"] == 413
    assert sent[1]["body"] == b"webhook payload too large\n"
    if declared:
        assert stream.sent == 0  # refused from Content-Length, nothing read
    else:
        assert stream.sent <= limit + CHUNK  # no more than the limit plus one chunk
    assert peak < limit + BOUND


def test_content_length_lies_smaller_than_the_stream() -> None:
    """A Content-Length under the limit does not let a longer stream through."""
    headers = [*_signed_headers(), (b"content-length", b"10")]
    stream = Stream()
    (sent, called), peak = peak_while(lambda: _asgi(headers, stream, MiB))  # type: ignore[misc]
    assert not called
    assert sent[0]["status"] == 413
    assert stream.sent <= MiB + CHUNK
    assert peak < MiB + BOUND


def test_malformed_content_length_is_refused_unread() -> None:
    for value in (b"-1", b"1e9", b" 10", b"0x10", b"1" * 30, "\uff11".encode()):
        stream = Stream()
        sent, called = _asgi([*_signed_headers(), (b"content-length", value)], stream, MiB)
        assert not called
        assert sent[0]["status"] == 400
        assert stream.sent == 0


def test_base64_of_a_huge_body_never_materialises() -> None:
    """Sanity check of the measuring tool itself: a large allocation is seen."""
    _, peak = peak_while(lambda: base64.b64encode(b"\0" * (8 * MiB)))
    assert peak > 8 * MiB
