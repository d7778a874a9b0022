"""Headers and header reading: case-insensitive names, text-only values, one line per name."""

from __future__ import annotations

import pytest

from hookseal import Headers, MalformedHeader, Verifier
from hookseal._headers import HeaderName, read_header, single_lines_reader
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


# -- the fast checks' reader: it must read exactly what read_header reads, or nothing -------

READER_NAMES = [HeaderName("X-Sig-Value"), HeaderName("webhook-id"), HeaderName("X-Third")]
# Each shape of a plain mapping: lower-case keys, the declared spellings, title case, an odd
# spelling only a case-insensitive scan finds, and a blank value under the first spelling.
READER_MAPPINGS: list[dict[str, str]] = [
    {"x-sig-value": "a", "webhook-id": "b", "x-third": "c"},
    {"X-Sig-Value": "a", "webhook-id": "b", "X-Third": "c"},
    {"X-Sig-Value": "a", "Webhook-Id": "b", "X-Third": "c"},
    {"x-SIG-value": "a", "WEBHOOK-ID": "b", "x-third": "c"},
    {"x-sig-value": "", "X-Sig-Value": "a", "webhook-id": "b", "x-third": "c"},
    {"x-sig-value": "a", "x-third": "c"},
    {},
]


@pytest.mark.parametrize("count", [1, 2, 3, 4])
@pytest.mark.parametrize("mapping", READER_MAPPINGS, ids=stable_repr)
def test_single_lines_reader_reads_a_mapping_as_read_header_does_or_gives_none(
    count: int, mapping: dict[str, str]
) -> None:
    names = (READER_NAMES * 2)[:count]
    values = single_lines_reader(*names)(mapping)
    assert len(values) == count
    for name, value in zip(names, values, strict=True):
        # None, or exactly what read_header reads (blank stays blank: the fast check declines).
        if value is not None:
            assert value == (read_header(mapping, name, 4096) or value)
            assert value in mapping.values()
    expected = [read_header(mapping, name, 4096) for name in names]
    if all(mapping.get(name.lower) or mapping.get(name.name) for name in names):
        # The common spellings are read without the scan (a blank value as sent: read_header
        # reads it as absent, and a fast check declines it).
        assert [value or None for value in values] == expected


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_single_lines_reader_gives_none_for_a_repeated_or_absent_line(count: int) -> None:
    names = (READER_NAMES * 2)[:count]
    lines = [("X-Sig-Value", "a"), ("x-sig-value", "again"), ("Webhook-Id", "b")]
    values = single_lines_reader(*names)(Headers(lines))
    assert values[0] is None  # sent twice: read_header refuses it, the reader declines
    if count > 1:
        assert values[1] == "b"
    if count > 2:
        assert values[2] is None  # absent
