"""Headers and header reading: case-insensitive names, text-only values, one line per name."""

from __future__ import annotations

import pytest

from hookseal import Headers, MalformedHeader, Verifier
from hookseal._headers import HeaderName, read_header
from hookseal.schemes import Stripe
from stable_ids import stable_repr

# Header lines a caller might pass that are not (name, text) pairs; bytes(5) would be five NULs.
UNUSABLE_LINES: list[object] = [
    [("Stripe-Signature", 5.0)],
    [("Stripe-Signature", None)],
    [("Stripe-Signature", object())],
    [("Stripe-Signature", ["t=1"])],
    [("Stripe-Signature", 5)],
    [(5, "t=1,v1=00")],
    [("Stripe-Signature",)],
    [5],
    5,
]


@pytest.mark.parametrize("lines", UNUSABLE_LINES, ids=stable_repr)
def test_verify_refuses_unusable_header_lines_as_malformed(lines: object) -> None:
    verifier = Verifier(Stripe(), "whsec_abc")
    with pytest.raises(MalformedHeader) as info:
        verifier.verify(b"{}", lines, now=1_700_000_000)  # type: ignore[arg-type]
    assert info.value.reason == "malformed_header"


@pytest.mark.parametrize("value", [5, 5.0, None, object()], ids=stable_repr)
def test_headers_refuse_values_that_are_not_text(value: object) -> None:
    with pytest.raises(MalformedHeader):
        Headers([("X-Sig", value)])  # type: ignore[list-item]
    with pytest.raises(MalformedHeader):
        Headers({"X-Sig": value})  # type: ignore[dict-item]


def test_headers_take_bytes_like_names_and_values_as_latin_1_text() -> None:
    headers = Headers([(b"X-A", b"1"), ("X-B", bytearray(b"2")), ("X-C", memoryview(b"3"))])
    assert (headers["x-a"], headers["x-b"], headers["x-c"]) == ("1", "2", "3")


def test_headers_are_a_case_insensitive_mapping_of_lower_case_names() -> None:
    headers = Headers([("X-A", "1"), (b"X-B", b"2")])
    assert "x-a" in headers
    assert "X-B" in headers
    assert 3 not in headers
    assert len(headers) == 2
    assert sorted(headers) == ["x-a", "x-b"]
    assert repr(HeaderName("X-A")) == "HeaderName('X-A')"


def test_one_finds_a_mixed_case_name_and_refuses_a_repeated_one() -> None:
    assert Headers({"X-Signature": "v"}).one("X-Signature") == "v"
    with pytest.raises(MalformedHeader) as info:
        Headers([("X-Signature", "1"), ("x-signature", "2")]).one("X-Signature")
    assert info.value.reason == "duplicate_header"


def test_a_plain_mapping_with_a_value_that_is_not_text_is_malformed() -> None:
    with pytest.raises(MalformedHeader):
        read_header({"X-A": 5}, HeaderName("X-A"), 100)  # type: ignore[dict-item]
