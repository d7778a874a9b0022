"""The ASGI middleware's cheaper header handling gives the same verdict as ``Headers``.

``HookSealMiddleware`` builds its headers with ``scope_headers`` (a dict comprehension
instead of ``Headers``' per-line loop) and, for schemes that read headers only through
``read_header``, a plain dict when no name repeats. Both must equal ``Headers(raw)`` in
content, and verification must reach the same verdict from each.
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hookseal import Headers, Signer, VerificationError, Verifier
from hookseal.contrib.starlette import _unrepeated_headers, scope_headers
from hookseal.schemes import GitHub, Slack, StandardWebhooks, Stripe

NOW = 1_700_000_000
STANDARD_SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
TEXT_SECRET = "whsec_asgi_text_secret"
SCHEMES = {
    "standard": (StandardWebhooks, STANDARD_SECRET),
    "github": (GitHub, TEXT_SECRET),
    "stripe": (Stripe, TEXT_SECRET),
    "slack": (Slack, TEXT_SECRET),
}
names = st.one_of(
    st.sampled_from([b"webhook-id", b"Webhook-Signature", b"content-length", b"X-\xc0b"]),
    st.binary(min_size=1, max_size=12),
)
raw_lines = st.lists(st.tuples(names, st.binary(max_size=20)), max_size=8)


def lines_of(headers: Headers) -> dict[str, list[str]]:
    return {name: headers.get_all(name) for name in headers}


@given(raw=raw_lines)
def test_scope_headers_equal_headers(raw: list[tuple[bytes, bytes]]) -> None:
    assert lines_of(scope_headers(raw)) == lines_of(Headers(raw))
    plain = _unrepeated_headers(raw)
    if plain is not None:
        assert {k: [v] for k, v in plain.items()} == lines_of(Headers(raw))
    else:
        assert len(Headers(raw)) < len(raw)  # only a repeated name declines the dict


def test_unusual_lines_are_left_to_headers() -> None:
    for raw in ([("webhook-id", "x")], [(b"a", b"b", b"c")], ((b"a", b"b"),), [(b"a", 1)]):
        assert _unrepeated_headers(raw) is None
        try:
            expected: Any = lines_of(Headers(raw))
        except VerificationError as exc:
            expected = type(exc)
        try:
            got: Any = lines_of(scope_headers(raw))
        except VerificationError as exc:
            got = type(exc)
        assert got == expected


def outcome(verifier: Verifier, body: bytes, headers: Any) -> tuple[Any, ...]:
    try:
        verified = verifier.verify(body, headers, now=NOW)
    except VerificationError as exc:
        return ("rejected", type(exc), exc.reason, exc.header)
    return ("accepted", verified.msg_id, verified.timestamp, verified.replay_key)


@given(
    name=st.sampled_from(sorted(SCHEMES)),
    body=st.binary(max_size=64),
    extra=raw_lines,
    drop=st.integers(0, 4),
)
def test_same_verdict_from_each_header_form(
    name: str, body: bytes, extra: list[tuple[bytes, bytes]], drop: int
) -> None:
    scheme, secret = SCHEMES[name]
    signed = Signer(scheme(), secret).sign(body, timestamp=NOW, msg_id="msg_asgi_1")
    raw = [(k.lower().encode(), v.encode()) for k, v in signed.items()] + extra
    raw = raw[:drop] + raw[drop + 1 :] if drop < len(signed) else raw
    verifier = Verifier(scheme(), [secret], nonce_store=None)
    expected = outcome(verifier, body, Headers(raw))
    assert outcome(verifier, body, scope_headers(raw)) == expected
    plain = _unrepeated_headers(raw)
    if plain is not None:
        assert outcome(verifier, body, plain) == expected
