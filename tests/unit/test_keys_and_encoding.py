"""HMACKey against the stdlib, RFC 4231 vectors, Secret redaction, and the strict decoders."""

from __future__ import annotations

import base64
import hmac
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hookseal import ConfigurationError, MalformedHeader
from hookseal._encoding import decode_base64, decode_hex, encode_base64, parse_timestamp
from hookseal._keys import HMACKey, Secret, secret_bytes

ALGORITHMS = ["sha1", "sha256", "sha384", "sha512"]


@given(
    algorithm=st.sampled_from(ALGORITHMS),
    key=st.binary(min_size=1, max_size=300),  # blocks are 64 or 128 bytes: longer keys too
    prefix=st.binary(max_size=80),
    message=st.binary(max_size=600),
)
@example(algorithm="sha256", key=b"\x01" * 65, prefix=b"", message=b"block+1")
@example(algorithm="sha512", key=b"\x02" * 129, prefix=b"p", message=b"block+1")
@example(algorithm="sha384", key=b"\x03" * 128, prefix=b"", message=b"")
def test_hmac_key_equals_stdlib_hmac(algorithm, key, prefix, message):
    prepared = HMACKey(key, algorithm, allow_sha1=True)
    assert prepared.digest(message) == hmac.digest(key, message, algorithm)
    assert prepared.digest_parts(prefix, message) == hmac.digest(key, prefix + message, algorithm)
    assert prepared.digest_size == len(hmac.digest(key, b"", algorithm))


@pytest.mark.parametrize(
    ("key", "data", "algorithm", "expected"),
    [
        # RFC 4231 section 4.2, test case 1.
        (
            b"\x0b" * 20,
            b"Hi There",
            "sha256",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        # RFC 4231 section 4.7, test case 6 (a 131-byte key, longer than the block size).
        (
            b"\xaa" * 131,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "sha256",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            b"\xaa" * 131,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "sha512",
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
            "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
        ),
    ],
)
def test_rfc4231_vectors(key, data, algorithm, expected):
    # Source: https://www.rfc-editor.org/rfc/rfc4231 (HMAC-SHA-2 identifiers and test vectors).
    assert HMACKey(key, algorithm).digest(data).hex() == expected


def test_sha1_key_needs_opt_in():
    with pytest.raises(ConfigurationError, match="SHA-1"):
        HMACKey(b"k", "sha1")


def test_secret_and_key_reprs_are_redacted():
    secret = Secret(b"hunter2")
    assert secret.value == b"hunter2"
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in repr(HMACKey(b"hunter2"))
    assert secret_bytes(secret) == b"hunter2"
    assert secret_bytes("caf\u00e9") == "caf\u00e9".encode()
    assert secret_bytes(memoryview(b" raw ")) == b" raw "


# -- strict decoders ---------------------------------------------------------------------------


@given(st.binary(max_size=80))
def test_hex_and_base64_round_trip(raw):
    assert decode_hex(raw.hex(), "h") == raw
    assert decode_hex(raw.hex().upper(), "h") == raw
    if raw:
        assert decode_base64(encode_base64(raw), "h") == raw


@given(st.text(max_size=40))
def test_base64_decoder_accepts_only_canonical_text(text):
    canonical = text.isascii() and re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) is not None
    if canonical:
        try:
            canonical = base64.b64encode(base64.b64decode(text, validate=True)).decode() == text
        except ValueError:
            canonical = False
    if canonical:  # "" is canonical too (an empty signature is refused before decoding)
        assert base64.b64encode(decode_base64(text, "h")).decode("ascii") == text
    else:
        with pytest.raises(MalformedHeader):
            decode_base64(text, "h")


@given(st.text(max_size=40))
def test_hex_decoder_accepts_only_hex_digits(text):
    try:
        raw = decode_hex(text, "h")
    except MalformedHeader:
        assert not re.fullmatch(r"(?:[0-9a-fA-F]{2})*", text)
    else:
        assert raw.hex() == text.lower()


@pytest.mark.parametrize("value", ["ab cd", " abcd", "abcd\n", "0xab", "abc", "ab\u0660"])
def test_hex_decoder_refuses(value):
    with pytest.raises(MalformedHeader):
        decode_hex(value, "h")


@pytest.mark.parametrize("suffix", ["!!!", "==", " ", "\n", "A", "AAAA="])
def test_base64_decoder_refuses_junk(suffix):
    # Control: the lenient stdlib default (validate=False) accepts sig + "!!!".
    assert base64.b64decode(encode_base64(b"\x01" * 32) + "!!!") == b"\x01" * 32
    good = encode_base64(b"\x01" * 32)
    with pytest.raises(MalformedHeader):
        decode_base64(good + suffix, "h")


TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,11}")  # one spelling per number: no leading zero


@given(st.text(max_size=20))
@example("00")
@example("01")
@example("0")
def test_timestamp_parser_accepts_exactly_ascii_digits(text):
    if TIMESTAMP.fullmatch(text):
        assert parse_timestamp(text, "t") == int(text)
    else:
        with pytest.raises(MalformedHeader) as info:
            parse_timestamp(text, "t")
        assert info.value.reason == "malformed_timestamp"


@pytest.mark.parametrize(
    "value",
    [
        "",
        " 1700000000",
        "1700000000.5",
        "1e9",
        "-1",
        "0x65",
        "\uff11\uff17\uff10\uff10",
        "9" * 5000,
        "nan",
        "inf",
        "1_000",
        "\u0661\u0662",
        # Leading zeros: with "{id}{timestamp}" the bytes "evt_1" + "001700000000" would read
        # as "evt_100" + "1700000000", another id with the same signature.
        "00",
        "01",
        "01700000000",
        "001700000000",
        "0000000000",
    ],
)
def test_timestamp_parser_refuses(value):
    with pytest.raises(MalformedHeader) as info:
        parse_timestamp(value, "X-Timestamp")
    assert (info.value.reason, info.value.header) == ("malformed_timestamp", "X-Timestamp")


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_timestamp_parser_accepts_each_number_in_its_one_spelling(number):
    assert parse_timestamp(str(number), "X-Ts") == number


# Keys shorter than, equal to and longer than the block size (64 for SHA-256, 128 for
# SHA-384/512): a longer key is hashed first, as RFC 2104 says.
@given(
    key=st.binary(min_size=1, max_size=200),
    first=st.binary(max_size=3000),
    second=st.binary(max_size=3000),
)
def test_hmac_key_prepared_states_are_not_consumed_between_calls(key, first, second):
    prepared = HMACKey(key)
    prepared.digest_parts(first, second)
    assert prepared.digest_parts(second, first) == hmac.digest(key, second + first, "sha256")


def test_hmac_key_hashes_a_utf8_megabyte_as_the_exact_bytes():
    body = ("\N{GRINNING FACE}" * (1 << 18)).encode()
    assert len(body) == 1 << 20
    key = b"k" * 32
    prefix = b"msg_1.1700000000."
    assert HMACKey(key).digest_parts(prefix, body) == hmac.digest(key, prefix + body, "sha256")
