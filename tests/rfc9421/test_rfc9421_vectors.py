"""RFC 9421's own examples, byte for byte.

Sources: RFC 9421 Appendix B.2 (B.2.1-B.2.6), B.3, B.4 and sections 2.4 and 4.3,
https://www.rfc-editor.org/rfc/rfc9421#appendix-B ; keys from Appendix B.1. The data lives in
tests/vectors/rfc9421/ (examples.json, keys/).
"""

from __future__ import annotations

import base64

import pytest
from rfc9421_support import (
    BY_ID,
    DETERMINISTIC,
    MESSAGES,
    PRIVATE_KEYS,
    PUBLIC_KEYS,
    REQUEST_EXAMPLES,
    RESPONSE_EXAMPLES,
    RFC_NOW,
    signed_headers,
    verifier,
    verify_example,
)

from hookseal import Headers, MalformedHeader, SignatureMismatch, TimestampOutOfTolerance
from hookseal.schemes._rfc9421_components import RequestContext, signature_base
from hookseal.schemes._rfc9421_keys import load_key
from hookseal.schemes.http_message_signatures import HTTPMessageSignatures

pytestmark = pytest.mark.extras


def _base_for(example_id: str) -> bytes:
    """Our signature base for an example, from the parsed Signature-Input as received."""
    example = BY_ID[example_id]
    message = MESSAGES[example["message"]]
    scheme = HTTPMessageSignatures(required_components=())
    inputs = scheme._parse_dictionary(example["signature_input_header"], "Signature-Input")
    member = inputs[example["label"]]
    sig = scheme._parse_signature(example["label"], member, (b"x", {}))
    request = RequestContext(
        message["method"], message["target_uri"], signed_headers(example_id), 4096
    )
    return signature_base(sig.components, scheme._serialize_member(member), request)


@pytest.mark.parametrize("example_id", REQUEST_EXAMPLES)
def test_signature_base_is_byte_exact(example_id: str) -> None:
    assert _base_for(example_id) == BY_ID[example_id]["signature_base"].encode("ascii")


@pytest.mark.parametrize("example_id", REQUEST_EXAMPLES)
def test_rfc_signature_verifies(example_id: str) -> None:
    example = BY_ID[example_id]
    verified = verify_example(example_id)
    assert verified.key_id == example["keyid"]
    assert verified.scheme == "http-message-signatures"
    assert verified.body == MESSAGES[example["message"]]["body"].encode()
    assert verified.timestamp == int(
        example["signature_input_header"].split("created=")[1].split(";")[0]
    )


@pytest.mark.parametrize("example_id", REQUEST_EXAMPLES)
def test_rfc_signature_with_one_flipped_bit_is_refused(example_id: str) -> None:
    example = BY_ID[example_id]
    raw = bytearray(base64.b64decode(example["signature_b64"]))
    raw[len(raw) // 2] ^= 0x01
    forged = f"{example['label']}=:{base64.b64encode(bytes(raw)).decode()}:"
    headers = signed_headers(example_id)
    lines = []
    for name in headers:
        for value in headers.get_all(name):
            lines.append((name, forged if name == "signature" else value))
    with pytest.raises(SignatureMismatch) as info:
        verify_example(example_id, headers=Headers(lines))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("example_id", DETERMINISTIC)
def test_deterministic_signature_is_reproduced_exactly(example_id: str) -> None:
    """hmac-sha256 (B.2.5), ed25519 (B.2.6, B.4) and rsa-v1_5-sha256 (4.3) re-sign exactly."""
    example = BY_ID[example_id]
    key = load_key(PRIVATE_KEYS[example["keyid"]], private=True)
    assert key.algorithm == example["algorithm"]
    signature = key.sign(example["signature_base"].encode("ascii"))
    assert base64.b64encode(signature).decode() == example["signature_b64"]


def test_deterministic_examples_cover_hmac_and_ed25519() -> None:
    assert {BY_ID[i]["algorithm"] for i in DETERMINISTIC} >= {"hmac-sha256", "ed25519"}


@pytest.mark.parametrize("example_id", RESPONSE_EXAMPLES)
def test_response_examples_verify_over_the_published_base(example_id: str) -> None:
    """B.2.4 and 2.4 sign responses (@status, ;req), which a webhook receiver never verifies.

    The ecdsa-p256-sha256 algorithm is still checked on the RFC's published base (raw r||s).
    """
    example = BY_ID[example_id]
    key = load_key(PUBLIC_KEYS[example["keyid"]], private=False)
    base = example["signature_base"].encode("ascii")
    signature = base64.b64decode(example["signature_b64"])
    assert key.algorithm == "ecdsa-p256-sha256"
    assert key.verify(signature, base)
    assert not key.verify(signature, base + b" ")
    assert not key.verify(signature[:-1], base)


@pytest.mark.parametrize("example_id", RESPONSE_EXAMPLES)
def test_response_components_are_refused_in_a_request(example_id: str) -> None:
    example = BY_ID[example_id]
    headers = Headers(
        [
            ("Signature-Input", example["signature_input_header"]),
            ("Signature", example["signature_header"]),
        ]
    )
    with pytest.raises(MalformedHeader):
        verifier(label=example["label"]).verify(
            b"", headers, url="https://example.com/foo", method="POST"
        )


@pytest.mark.parametrize("index", range(3))
def test_b4_transformations_that_keep_the_signature_valid(index: int) -> None:
    change = BY_ID["B.4"]["transformations"]["still_valid"][index]
    example = BY_ID["B.4"]
    headers = Headers(
        [tuple(pair) for pair in change["headers"]]  # type: ignore[misc]
        + [
            ("Signature-Input", example["signature_input_header"]),
            ("Signature", example["signature_header"]),
        ]
    )
    verified = verify_example(
        "B.4", headers=headers, url=change["target_uri"], method=change["method"], body=b""
    )
    assert verified.key_id == "test-key-ed25519"


@pytest.mark.parametrize("index", range(2))
def test_b4_transformations_that_break_the_signature(index: int) -> None:
    change = BY_ID["B.4"]["transformations"]["invalid"][index]
    example = BY_ID["B.4"]
    headers = Headers(
        [tuple(pair) for pair in change["headers"]]  # type: ignore[misc]
        + [
            ("Signature-Input", example["signature_input_header"]),
            ("Signature", example["signature_header"]),
        ]
    )
    with pytest.raises(SignatureMismatch):
        verify_example(
            "B.4", headers=headers, url=change["target_uri"], method=change["method"], body=b""
        )


def _section_4_3_headers() -> Headers:
    full = BY_ID["4.3-proxy_sig"]["full_headers_in_rfc"]
    lines = [tuple(pair) for pair in MESSAGES["s43_request"]["headers"]]
    lines += [("Signature-Input", full["Signature-Input"]), ("Signature", full["Signature"])]
    return Headers(lines)  # type: ignore[arg-type]


def test_section_4_3_the_named_label_is_checked() -> None:
    verified = verify_example("4.3-proxy_sig", headers=_section_4_3_headers())
    assert verified.key_id == "test-key-rsa"
    assert verified.timestamp == 1618884480


def test_section_4_3_without_a_label_two_signatures_are_ambiguous() -> None:
    with pytest.raises(MalformedHeader) as info:
        verify_example("4.3-proxy_sig", verifier(), headers=_section_4_3_headers())
    assert info.value.reason == "ambiguous_signature"


def test_section_4_3_both_labels_required_fails_on_the_client_signature() -> None:
    """sig1 was made over the client's request (authority example.com), so it fails here."""
    v = verifier(label=("proxy_sig", "sig1"))
    with pytest.raises(SignatureMismatch):
        verify_example("4.3-proxy_sig", v, headers=_section_4_3_headers())


def test_section_4_3_expires_is_enforced() -> None:
    v = verifier(label="proxy_sig", tolerance=10**9, clock=lambda: 1618884541)
    with pytest.raises(TimestampOutOfTolerance) as info:
        verify_example("4.3-proxy_sig", v)
    assert info.value.reason == "timestamp_too_old"
    v = verifier(label="proxy_sig", tolerance=10**9, clock=lambda: 1618884540)
    assert verify_example("4.3-proxy_sig", v).key_id == "test-key-rsa"


def test_b22_tag_selects_and_is_enforced() -> None:
    assert verify_example("B.2.2", verifier(tag="header-example")).key_id == "test-key-rsa-pss"
    with pytest.raises(SignatureMismatch) as info:
        verify_example("B.2.2", verifier(label="sig-b22", tag="other"))
    assert info.value.reason == "no_supported_signature"


def test_b22_covered_content_digest_binds_the_body() -> None:
    """B.2.2 covers content-digest: the digest is checked against the raw body."""
    assert verify_example("B.2.2", verifier(("content-digest",))).key_id == "test-key-rsa-pss"
    with pytest.raises(SignatureMismatch) as info:
        verify_example("B.2.2", body=b'{"hello": "world!"}')
    assert info.value.reason == "digest_mismatch"


def test_b21_nonce_is_the_message_id_and_replay_material() -> None:
    first = verify_example("B.2.1")
    assert first.msg_id == "b3k2pp5k7z-50gnwp.yemd"
    assert verify_example("B.2.1").replay_key == first.replay_key
    assert verify_example("B.2.3").replay_key != first.replay_key


def test_rfc_time_window_applies() -> None:
    with pytest.raises(TimestampOutOfTolerance) as info:
        verify_example("B.2.6", verifier(label="sig-b26", clock=lambda: RFC_NOW + 400))
    assert info.value.reason == "timestamp_too_old"
    with pytest.raises(TimestampOutOfTolerance) as info:
        verify_example("B.2.6", verifier(label="sig-b26", clock=lambda: 1618884473 - 301))
    assert info.value.reason == "timestamp_in_future"
