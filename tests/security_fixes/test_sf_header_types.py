"""Finding 5 (LOW): header values that are neither str nor bytes never escape verify()."""

from __future__ import annotations

import pytest

from hookseal import Headers, MalformedHeader, Verifier
from hookseal.schemes import Stripe

BAD_LINES: list[object] = [
    [("Stripe-Signature", 5.0)],
    [("Stripe-Signature", None)],
    [("Stripe-Signature", object())],
    [("Stripe-Signature", ["t=1"])],
    [("Stripe-Signature", 5)],  # bytes(5) would be five NUL bytes
    [(5, "t=1,v1=00")],
    [("Stripe-Signature",)],
    [5],
    5,
]


@pytest.mark.parametrize("lines", BAD_LINES, ids=repr)
def test_verify_raises_malformed_header_for_unusable_header_lines(lines: object) -> None:
    verifier = Verifier(Stripe(), "whsec_abc")
    with pytest.raises(MalformedHeader) as info:
        verifier.verify(b"{}", lines, now=1_700_000_000)  # type: ignore[arg-type]
    assert info.value.reason == "malformed_header"


@pytest.mark.parametrize("value", [5, 5.0, None, object()], ids=repr)
def test_headers_construction_refuses_non_text_values(value: object) -> None:
    with pytest.raises(MalformedHeader):
        Headers([("X-Sig", value)])  # type: ignore[list-item]
    with pytest.raises(MalformedHeader):
        Headers({"X-Sig": value})  # type: ignore[dict-item]


def test_bytes_like_values_are_still_accepted() -> None:
    headers = Headers([(b"X-A", b"1"), ("X-B", bytearray(b"2")), ("X-C", memoryview(b"3"))])
    assert (headers["x-a"], headers["x-b"], headers["x-c"]) == ("1", "2", "3")
