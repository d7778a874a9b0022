"""GitHub scheme: published vector, independent HMAC computation, hostile headers."""

from __future__ import annotations

import hashlib
import hmac
import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import (
    ConfigurationError,
    Headers,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    Verifier,
)
from hookseal.schemes import GitHub
from hookseal.schemes.base import make_replay_key
from hookseal.stores.memory import MemoryNonceStore

# Published example. Source: GitHub docs, "Validating webhook deliveries", section "Testing the
# webhook payload validation":
# https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
# (github/docs: content/webhooks/using-webhooks/validating-webhook-deliveries.md)
DOCS_SECRET = "It's a Secret to Everybody"
DOCS_BODY = b"Hello, World!"
DOCS_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
# Not published: the legacy SHA-1 header for the same inputs, derived (and re-derived below
# with hmac in test_derived_sha1_vector_matches_independent_hmac).
DOCS_SHA1_SIGNATURE = "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

SECRETS = st.text(
    alphabet=string.ascii_letters + string.digits + "'!_-.~é€ß", min_size=1, max_size=64
)
BODIES = st.binary(max_size=512)


def verifier(*secrets: str, allow_sha1: bool = False, **kwargs: object) -> Verifier:
    kwargs.setdefault("nonce_store", None)
    return Verifier(GitHub(allow_sha1=allow_sha1), list(secrets), **kwargs)  # type: ignore[arg-type]


def sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


# -- published and derived vectors ---------------------------------------------------------------


def test_github_docs_example_verifies() -> None:
    verified = verifier(DOCS_SECRET).verify(
        DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE, "X-GitHub-Delivery": DELIVERY}
    )
    assert verified.body == DOCS_BODY
    assert verified.msg_id == DELIVERY
    assert verified.timestamp is None
    assert verified.scheme == "github"
    assert verified.key_index == 0


def test_github_docs_example_is_what_signer_produces() -> None:
    headers = Signer(GitHub(), secret=DOCS_SECRET).sign(DOCS_BODY, msg_id=DELIVERY)
    assert headers == {"X-Hub-Signature-256": DOCS_SIGNATURE, "X-GitHub-Delivery": DELIVERY}


def test_derived_sha1_vector_matches_independent_hmac() -> None:
    expected = hmac.new(DOCS_SECRET.encode(), DOCS_BODY, hashlib.sha1).hexdigest()
    assert "sha1=" + expected == DOCS_SHA1_SIGNATURE
    verified = verifier(DOCS_SECRET, allow_sha1=True).verify(
        DOCS_BODY, {"X-Hub-Signature": DOCS_SHA1_SIGNATURE}
    )
    assert verified.msg_id is None


def test_header_names_are_case_insensitive() -> None:
    v = verifier(DOCS_SECRET)
    v.verify(DOCS_BODY, {"x-hub-signature-256": DOCS_SIGNATURE})
    v.verify(DOCS_BODY, {"X-HUB-SIGNATURE-256": DOCS_SIGNATURE})
    v.verify(DOCS_BODY, [("X-Hub-Signature-256", DOCS_SIGNATURE)])
    v.verify(DOCS_BODY, Headers([(b"x-hub-signature-256", DOCS_SIGNATURE.encode())]))


# -- independent computation (GitHub ships no Python verifier) -----------------------------------


@given(secret=SECRETS, body=BODIES)
def test_independent_hmac_verifies_and_signer_matches(secret: str, body: bytes) -> None:
    expected = "sha256=" + sha256_hex(secret, body)
    verifier(secret).verify(body, {"X-Hub-Signature-256": expected})
    assert Signer(GitHub(), secret=secret).sign(body, msg_id="d")["X-Hub-Signature-256"] == (
        expected
    )


@given(secret=SECRETS, body=BODIES, flip=st.integers(min_value=0))
def test_tampering_is_rejected(secret: str, body: bytes, flip: int) -> None:
    header = "sha256=" + sha256_hex(secret, body)
    v = verifier(secret)
    changed = (
        body + b"x"
        if not body
        else (
            body[: flip % len(body)]
            + bytes([body[flip % len(body)] ^ 1])
            + body[flip % len(body) + 1 :]
        )
    )
    with pytest.raises(SignatureMismatch):
        v.verify(changed, {"X-Hub-Signature-256": header})
    digest = bytearray(bytes.fromhex(header[7:]))
    digest[flip % 32] ^= 0x80
    with pytest.raises(SignatureMismatch):
        v.verify(body, {"X-Hub-Signature-256": "sha256=" + digest.hex()})
    with pytest.raises(SignatureMismatch):
        verifier(secret + "x").verify(body, {"X-Hub-Signature-256": header})


def test_body_json_reserialised_or_newline_is_rejected() -> None:
    body = b'{"action": "opened",  "number": 1}'
    header = {"X-Hub-Signature-256": "sha256=" + sha256_hex("s3cret", body)}
    v = verifier("s3cret")
    v.verify(body, header)
    for changed in (json.dumps(json.loads(body)).encode(), body + b"\n"):
        with pytest.raises(SignatureMismatch):
            v.verify(changed, header)


def test_non_utf8_body() -> None:
    body = b"\xff\xfe\x00binary"
    v = verifier("s3cret")
    v.verify(body, {"X-Hub-Signature-256": "sha256=" + sha256_hex("s3cret", body)})
    with pytest.raises(SignatureMismatch):
        v.verify(body, {"X-Hub-Signature-256": "sha256=" + "00" * 32})


def test_key_rotation_tries_every_secret() -> None:
    v = verifier("old-secret", "new-secret")
    for index, secret in enumerate(("old-secret", "new-secret")):
        header = {"X-Hub-Signature-256": "sha256=" + sha256_hex(secret, DOCS_BODY)}
        assert v.verify(DOCS_BODY, header).key_index == index


# -- SHA-1 opt-in and downgrades -----------------------------------------------------------------


def test_lone_sha1_header_without_opt_in_is_missing_header() -> None:
    with pytest.raises(MissingHeader) as info:
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature": DOCS_SHA1_SIGNATURE})
    assert info.value.header == "X-Hub-Signature-256"
    assert info.value.reason == "missing_header"
    assert "allow_sha1" in str(info.value)


def test_sha1_is_ignored_when_sha256_header_is_present() -> None:
    v = verifier(DOCS_SECRET, allow_sha1=True)
    forged_256 = "sha256=" + "00" * 32
    with pytest.raises(SignatureMismatch):
        v.verify(
            DOCS_BODY, {"X-Hub-Signature-256": forged_256, "X-Hub-Signature": DOCS_SHA1_SIGNATURE}
        )
    # A malformed SHA-1 header next to a valid SHA-256 one does not matter.
    v.verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE, "X-Hub-Signature": "junk"})


def test_sha1_digest_where_sha256_is_required() -> None:
    sha1_hex = DOCS_SHA1_SIGNATURE[5:]
    with pytest.raises(SignatureMismatch):
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": "sha256=" + sha1_hex})
    with pytest.raises(MalformedHeader):
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SHA1_SIGNATURE})
    # ... and a SHA-256 digest in the SHA-1 header is not accepted either.
    with pytest.raises(SignatureMismatch):
        verifier(DOCS_SECRET, allow_sha1=True).verify(
            DOCS_BODY, {"X-Hub-Signature": "sha1=" + DOCS_SIGNATURE[7:]}
        )


def test_missing_both_headers_with_opt_in_names_both() -> None:
    with pytest.raises(MissingHeader) as info:
        verifier(DOCS_SECRET, allow_sha1=True).verify(DOCS_BODY, {})
    assert "X-Hub-Signature'" in str(info.value)


def test_signer_with_opt_in_sends_both_headers_like_github() -> None:
    headers = Signer(GitHub(allow_sha1=True), secret=DOCS_SECRET).sign(DOCS_BODY, msg_id=DELIVERY)
    assert headers == {
        "X-Hub-Signature-256": DOCS_SIGNATURE,
        "X-Hub-Signature": DOCS_SHA1_SIGNATURE,
        "X-GitHub-Delivery": DELIVERY,
    }
    assert "X-Hub-Signature" not in Signer(GitHub(), secret=DOCS_SECRET).sign(DOCS_BODY)


def test_new_message_id_is_a_guid() -> None:
    msg_id = Signer(GitHub(), secret=DOCS_SECRET).sign(DOCS_BODY)["X-GitHub-Delivery"]
    assert len(msg_id) == 36
    assert msg_id.count("-") == 4


# -- replay ----------------------------------------------------------------------------------------


def test_replay_key_is_the_mac_never_the_delivery_id() -> None:
    v = verifier(DOCS_SECRET)
    first = v.verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE, "X-GitHub-Delivery": "a"})
    second = v.verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE, "X-GitHub-Delivery": "b"})
    assert (
        first.replay_key
        == second.replay_key
        == make_replay_key("github", bytes.fromhex(DOCS_SIGNATURE[7:]))
    )


def test_replay_with_changed_delivery_id_or_other_header_is_refused() -> None:
    store = MemoryNonceStore()
    v = verifier(DOCS_SECRET, allow_sha1=True, nonce_store=store)
    v.verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE, "X-GitHub-Delivery": "a"})
    with pytest.raises(ReplayedDelivery):
        v.verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE, "X-GitHub-Delivery": "b"})
    # The same delivery replayed through the legacy header alone is the same delivery.
    with pytest.raises(ReplayedDelivery):
        v.verify(DOCS_BODY, {"X-Hub-Signature": DOCS_SHA1_SIGNATURE})


def test_forged_deliveries_do_not_write_the_store() -> None:
    store = MemoryNonceStore()
    v = verifier(DOCS_SECRET, nonce_store=store)
    for i in range(50):
        with pytest.raises(SignatureMismatch):
            v.verify(DOCS_BODY, {"X-Hub-Signature-256": f"sha256={i:064x}"})
    v.verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE})
    with pytest.raises(ReplayedDelivery):
        v.verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE})


# -- hostile headers -------------------------------------------------------------------------------

GOOD_HEX = DOCS_SIGNATURE[7:]


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_header_is_missing(value: str) -> None:
    with pytest.raises(MissingHeader):
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": value})


def test_absent_header_is_missing() -> None:
    with pytest.raises(MissingHeader):
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-GitHub-Delivery": DELIVERY})


@pytest.mark.parametrize(
    "value",
    [
        "sha256=",
        GOOD_HEX,
        "SHA256=" + GOOD_HEX,
        "sha512=" + GOOD_HEX,
        "sha256:" + GOOD_HEX,
        " sha256=" + GOOD_HEX,
        "sha256= " + GOOD_HEX,
        DOCS_SIGNATURE + " ",
        DOCS_SIGNATURE + "!!!",
        DOCS_SIGNATURE + "==",
        DOCS_SIGNATURE[:-1],
        "sha256=" + GOOD_HEX[:2] + " " + GOOD_HEX[2:],
        "sha256=" + GOOD_HEX[:-2] + "zz",
        DOCS_SIGNATURE + "," + DOCS_SIGNATURE,
        DOCS_SIGNATURE + " " + DOCS_SIGNATURE,
        "sha256=0x" + GOOD_HEX,
    ],
)
def test_malformed_signature_header(value: str) -> None:
    with pytest.raises(MalformedHeader):
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": value})


@pytest.mark.parametrize(
    "value",
    [
        DOCS_SIGNATURE + "é",
        DOCS_SIGNATURE + "\x00",
        "\t",
        DOCS_SIGNATURE + "\r\n",
        "sha256=\ufffd",
        DOCS_SIGNATURE[:20] + "\n" + DOCS_SIGNATURE[20:],
    ],
)
def test_non_ascii_or_control_characters(value: str) -> None:
    with pytest.raises(MalformedHeader):
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": value})


def test_truncated_or_extended_signature_never_matches() -> None:
    v = verifier(DOCS_SECRET)
    for length in range(2, len(GOOD_HEX), 2):
        with pytest.raises(SignatureMismatch):
            v.verify(DOCS_BODY, {"X-Hub-Signature-256": "sha256=" + GOOD_HEX[:length]})
    for length in range(1, len(GOOD_HEX), 2):
        with pytest.raises(MalformedHeader):
            v.verify(DOCS_BODY, {"X-Hub-Signature-256": "sha256=" + GOOD_HEX[:length]})
    with pytest.raises(SignatureMismatch):
        v.verify(DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE + "00"})


def test_uppercase_hex_is_the_same_mac() -> None:
    verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": "sha256=" + GOOD_HEX.upper()})


@pytest.mark.parametrize(
    "lines",
    [
        [DOCS_SIGNATURE, "sha256=" + "00" * 32],
        ["sha256=" + "00" * 32, DOCS_SIGNATURE],
        [DOCS_SIGNATURE, DOCS_SIGNATURE],
    ],
)
def test_duplicated_header_lines(lines: list[str]) -> None:
    with pytest.raises(MalformedHeader) as info:
        verifier(DOCS_SECRET).verify(DOCS_BODY, [("X-Hub-Signature-256", x) for x in lines])
    assert info.value.reason == "duplicate_header"


def test_thousands_of_signatures() -> None:
    value = ",".join(["sha256=" + "00" * 32] * 999 + [DOCS_SIGNATURE])
    with pytest.raises(MalformedHeader) as info:
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": value})
    assert info.value.reason == "header_too_long"
    with pytest.raises(MalformedHeader) as info:
        verifier(DOCS_SECRET, max_header_bytes=1_000_000).verify(
            DOCS_BODY, {"X-Hub-Signature-256": value}
        )
    assert info.value.reason == "malformed_header"
    with pytest.raises(MalformedHeader):
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": "sha256=" + "a" * 102400})


@pytest.mark.parametrize("delivery", ["x" * 10_000, "a b", "id\x00", "id\r\nX: y", "idé"])
def test_hostile_delivery_id_is_refused_before_crypto(delivery: str) -> None:
    with pytest.raises(MalformedHeader):
        verifier(DOCS_SECRET).verify(
            DOCS_BODY, {"X-Hub-Signature-256": DOCS_SIGNATURE, "X-GitHub-Delivery": delivery}
        )


def test_errors_do_not_leak_secret_or_expected_mac() -> None:
    forged = "sha256=" + "ab" * 32
    with pytest.raises(SignatureMismatch) as info:
        verifier(DOCS_SECRET).verify(DOCS_BODY, {"X-Hub-Signature-256": forged})
    text = str(info.value) + repr(info.value)
    assert GOOD_HEX not in text
    assert DOCS_SECRET not in text
    assert "Hello" not in text
    assert DOCS_SECRET not in repr(verifier(DOCS_SECRET))
    assert DOCS_SECRET not in repr(Signer(GitHub(), secret=DOCS_SECRET))


@pytest.mark.parametrize("secret", ["", " s", "s\n", "\ufeffs"])
def test_bad_secrets_fail_at_construction(secret: str) -> None:
    with pytest.raises(ConfigurationError):
        verifier(secret)


def test_allow_sha1_must_be_a_bool() -> None:
    with pytest.raises(ConfigurationError):
        GitHub(allow_sha1="yes")
    assert repr(GitHub(allow_sha1=True)) == "GitHub(allow_sha1=True)"


@pytest.mark.parametrize("shape", ["dict", "lines"])
def test_a_delivery_without_its_delivery_id_is_accepted_with_no_message_id(shape: str) -> None:
    """The X-GitHub-Delivery header is not signed: without it, nothing identifies the message."""
    headers = Signer(GitHub(), DOCS_SECRET).sign(DOCS_BODY, msg_id=DELIVERY)
    del headers["X-GitHub-Delivery"]
    given_headers = headers if shape == "dict" else Headers(list(headers.items()))
    verified = verifier(DOCS_SECRET).verify(DOCS_BODY, given_headers)
    assert verified.msg_id is None
    assert verified.replay_key == make_replay_key("github", bytes.fromhex(DOCS_SIGNATURE[7:]))
