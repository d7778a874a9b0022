"""The prepared-state HMAC (the basis of every fast path) agrees with ``hmac.digest``."""

from __future__ import annotations

import hmac

from hypothesis import given
from hypothesis import strategies as st

from hookseal._keys import HMACKey

# Keys shorter than, equal to and longer than the block size (64 for SHA-256, 128 for
# SHA-384/512): a longer key is hashed first, as RFC 2104 says.
keys = st.binary(min_size=1, max_size=200)
messages = st.binary(max_size=3000)
algorithms = st.sampled_from(["sha256", "sha384", "sha512"])


@given(key=keys, prefix=messages, body=messages, algorithm=algorithms)
def test_digest_parts_equals_hmac_digest_of_the_concatenation(
    key: bytes, prefix: bytes, body: bytes, algorithm: str
) -> None:
    prepared = HMACKey(key, algorithm)
    expected = hmac.digest(key, prefix + body, algorithm)
    assert prepared.digest_parts(prefix, body) == expected
    assert prepared.digest(prefix + body) == expected


@given(key=keys, first=messages, second=messages)
def test_prepared_states_are_not_consumed_between_calls(
    key: bytes, first: bytes, second: bytes
) -> None:
    prepared = HMACKey(key)
    prepared.digest_parts(first, second)
    assert prepared.digest_parts(second, first) == hmac.digest(key, second + first, "sha256")


def test_a_utf8_megabyte_is_hashed_as_the_exact_bytes() -> None:
    body = ("\N{GRINNING FACE}" * (1 << 18)).encode()
    assert len(body) == 1 << 20
    key = b"k" * 32
    prefix = b"msg_1.1700000000."
    assert HMACKey(key).digest_parts(prefix, body) == hmac.digest(key, prefix + body, "sha256")
