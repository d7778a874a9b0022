"""RFC 9530 Content-Digest: building and checking digests over the raw body.

Vectors: RFC 9530 Appendix B (https://www.rfc-editor.org/rfc/rfc9530#appendix-B) and the
digests of RFC 9421's test messages (https://www.rfc-editor.org/rfc/rfc9421#appendix-B.2),
stored in tests/vectors/rfc9421/examples.json ("content_digest_examples").
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rfc9421_support import EXAMPLES

from hookseal import ConfigurationError, MalformedHeader, SignatureMismatch
from hookseal.digest import content_digest, verify_content_digest

pytestmark = pytest.mark.extras

WITH_BODY = [e for e in EXAMPLES["content_digest_examples"] if "body" in e]


@pytest.mark.parametrize("example", WITH_BODY, ids=lambda e: e["source"])
def test_published_digest_is_reproduced(example: dict[str, str]) -> None:
    body = example["body"].encode()
    value = example["value"]
    algorithm = value.split("=", 1)[0]
    assert content_digest(body, (algorithm,)) == value
    assert verify_content_digest(body, value) == algorithm
    for extra in ("also_sha256", "also_sha512"):
        if extra in example:
            other = example[extra].split("=", 1)[0]
            assert content_digest(body, (other,)) == example[extra]
            assert verify_content_digest(body, example[extra]) == other


@pytest.mark.parametrize("example", WITH_BODY, ids=lambda e: e["source"])
def test_published_digest_refuses_another_body(example: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch) as info:
        verify_content_digest(example["body"].encode() + b"\n", example["value"])
    assert info.value.reason == "digest_mismatch"


def test_rfc9530_b4_value_parses() -> None:
    """B.4 prints only the digest of gzip content; it must parse and refuse other bytes."""
    (b4,) = [e for e in EXAMPLES["content_digest_examples"] if "body" not in e]
    with pytest.raises(SignatureMismatch):
        verify_content_digest(b"not the gzip bytes", b4["value"])


def test_both_algorithms_in_order() -> None:
    body = b'{"hello": "world"}'
    value = content_digest(body, ("sha-512", "sha-256"))
    assert value == (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmT"
        "HWXvJwew==:, sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )
    assert verify_content_digest(body, value) == "sha-512"


def test_rfc9530_over_padded_typo_is_accepted_as_the_same_bytes() -> None:
    """RFC 9530 B.5/B.6/B.11 print 'RK/0...FabDg==:' (one '=' too many); RFC 9651 4.2.7 says
    parsers SHOULD NOT fail on padding, and the decoded bytes are the same digest."""
    body = b'{"hello": "world"}\n'
    assert verify_content_digest(body, "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg==:")


def test_every_accepted_digest_must_match() -> None:
    body = b"payload"
    good = content_digest(body, ("sha-256",))
    forged_512 = content_digest(b"other", ("sha-512",))
    with pytest.raises(SignatureMismatch):
        verify_content_digest(body, f"{good}, {forged_512}")
    with pytest.raises(SignatureMismatch):
        verify_content_digest(body, f"{forged_512}, {good}")


def test_unknown_algorithms_are_ignored_but_one_accepted_is_required() -> None:
    body = b"payload"
    good = content_digest(body)
    assert verify_content_digest(body, f"md5=:AAAA:, {good}, unixsum=42") == "sha-256"
    with pytest.raises(SignatureMismatch) as info:
        verify_content_digest(body, "md5=:1B2M2Y8AsgTpgAmY7PhCfg==:")
    assert info.value.reason == "digest_mismatch"
    with pytest.raises(SignatureMismatch):
        verify_content_digest(body, good, algorithms=("sha-512",))


@pytest.mark.parametrize(
    "value",
    [
        "sha-256",  # boolean, not a byte sequence
        'sha-256="X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="',
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
        "sha-256=:!!!!:",
        "sha-256=:AAAA:, sha-256=:AAAA:",  # duplicate key
        "SHA-256=:AAAA:",
        "sha-256=:AAAA:,",
        "sha-256=:AAAA: junk",
        "sha-256=:AAAA:\x00",
        "sha-256=:AAAA:é",
        ", ".join(f"k{i}=1" for i in range(17)),
        "x" * 5000,
    ],
)
def test_malformed_values_are_refused(value: str) -> None:
    with pytest.raises(MalformedHeader):
        verify_content_digest(b"", value)


@pytest.mark.parametrize("algorithms", [(), ("md5",), ("sha-256", "sha-256"), 42])
def test_bad_algorithm_configuration(algorithms: object) -> None:
    with pytest.raises(ConfigurationError):
        content_digest(b"", algorithms)  # type: ignore[arg-type]


def test_body_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        content_digest("text")  # type: ignore[arg-type]


@given(st.binary(max_size=256), st.sampled_from(["sha-256", "sha-512"]))
def test_roundtrip(body: bytes, algorithm: str) -> None:
    assert verify_content_digest(body, content_digest(body, (algorithm,))) == algorithm


@given(st.text(max_size=80))
def test_arbitrary_values_raise_only_verification_errors(value: str) -> None:
    with contextlib.suppress(MalformedHeader, SignatureMismatch):
        verify_content_digest(b"x", value)


def test_a_single_algorithm_name_may_be_given_as_a_string() -> None:
    assert content_digest(b"", "sha-256").startswith("sha-256=:")
