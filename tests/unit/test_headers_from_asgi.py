"""``Headers.from_asgi``: an ASGI ``scope["headers"]`` list, every repeated line kept.

It must give exactly what ``Headers(raw)`` gives (lines, decoding, refusals), so that the
schemes refuse a repeated signature header read through it, and it must keep no state of its
own (nothing a client sends is remembered between requests).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import Headers, MalformedHeader, Signer, VerificationError, Verifier
from hookseal import _headers as headers_module
from hookseal.schemes import GitHub, StandardWebhooks, Stripe

NOW = 1_700_000_000
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
names = st.one_of(
    st.sampled_from([b"webhook-id", b"Webhook-Signature", b"content-length", b"host", b"X-\xc0b"]),
    st.binary(min_size=1, max_size=12),
)
raw_lines = st.lists(st.tuples(names, st.binary(max_size=20)), max_size=8)


def lines_of(headers: Headers) -> dict[str, list[str]]:
    return {name: headers.get_all(name) for name in headers}


def built(raw: Any) -> Any:
    """The lines ``from_asgi`` builds, or the class of the error it raises."""
    try:
        return lines_of(Headers.from_asgi(raw))
    except VerificationError as exc:
        return type(exc)


def constructed(raw: Any) -> Any:
    try:
        return lines_of(Headers(raw))
    except VerificationError as exc:
        return type(exc)


@given(raw=raw_lines)
def test_same_lines_as_the_constructor(raw: list[tuple[bytes, bytes]]) -> None:
    headers = Headers.from_asgi(raw)
    assert type(headers) is Headers
    assert lines_of(headers) == lines_of(Headers(raw))


def test_repeated_lines_are_all_kept() -> None:
    raw = [
        (b"host", b"example.com"),
        (b"webhook-signature", b"v1,first"),
        (b"Webhook-Signature", b"v1,second"),
    ]
    headers = Headers.from_asgi(raw)
    assert headers.get_all("webhook-signature") == ["v1,first", "v1,second"]
    with pytest.raises(MalformedHeader) as caught:
        headers.one("webhook-signature")
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize("scheme", [StandardWebhooks, GitHub, Stripe], ids=lambda s: s.__name__)
@pytest.mark.parametrize("order", ["forged-first", "genuine-first"])
def test_a_repeated_signature_line_is_refused_by_the_verifier(scheme: Any, order: str) -> None:
    body = b'{"type":"ping"}'
    signed = Signer(scheme(), SECRET).sign(body, timestamp=NOW, msg_id="msg_dup")
    signature_name = next(name for name in signed if "sign" in name.lower())
    genuine = signed[signature_name].encode()
    forged = b"v1,AAAA" if scheme is StandardWebhooks else genuine[:-4] + b"0000"
    pair = [forged, genuine] if order == "forged-first" else [genuine, forged]
    raw = [(k.lower().encode(), v.encode()) for k, v in signed.items() if k != signature_name]
    raw += [(signature_name.lower().encode(), value) for value in pair]
    verifier = Verifier(scheme(), [SECRET], nonce_store=None, clock=lambda: NOW)
    # Control: the genuine line alone is accepted.
    alone = [*raw[:-2], (signature_name.lower().encode(), genuine)]
    assert verifier.verify(body, Headers.from_asgi(alone)).body == body
    with pytest.raises(MalformedHeader) as caught:
        verifier.verify(body, Headers.from_asgi(raw))
    assert caught.value.reason == "duplicate_header"


UNUSUAL: dict[str, Any] = {
    "str": lambda: [("webhook-id", "x")],
    "bytearray-name": lambda: [(bytearray(b"webhook-id"), b"x")],
    "bytearray-value": lambda: [(b"webhook-id", bytearray(b"x"))],
    "memoryview": lambda: [(memoryview(b"webhook-id"), b"x")],
    "triple": lambda: [(b"a", b"b", b"c")],
    "triple-then-pair": lambda: [(b"a", b"b", b"c"), (b"d", b"e")],
    "pair-then-single": lambda: [(b"a", b"b"), (b"d",)],
    "newline-in-value": lambda: [(b"a", b"b\nc: d"), (b"e", b"f")],
    "empty": lambda: [],
    "int": lambda: [(b"a", 1)],
    "none": lambda: [None],
    "tuple": lambda: ((b"a", b"b"), (b"a", b"c")),
    "generator": lambda: (line for line in [(b"a", b"b"), (b"a", b"c")]),
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_lines_are_treated_as_the_constructor_treats_them(name: str) -> None:
    assert built(UNUSUAL[name]()) == constructed(UNUSUAL[name]())


def test_nothing_a_client_sends_is_remembered() -> None:
    table = dict(headers_module._ASGI_NAMES)
    for i in range(2000):
        Headers.from_asgi([(f"x-unique-{i}".encode(), b"v"), (b"host", b"h")])
    assert table == headers_module._ASGI_NAMES
