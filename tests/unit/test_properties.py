"""Property tests: any body and secret round-trips; any single-byte change is rejected."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hookseal import Signer, VerificationError, Verifier
from hookseal.schemes import HMACScheme

NOW = 1_700_000_000

SCHEMES = [
    HMACScheme("X-Signature", prefix="sha256="),
    HMACScheme("X-Signature", algorithm="sha512", encoding="base64"),
    HMACScheme(
        "X-Signature",
        encoding="base64",
        timestamp_header="X-Timestamp",
        id_header="X-Id",
        template="{id}.{timestamp}.{body}",
    ),
    HMACScheme("X-Signature", timestamp_header="X-Timestamp", template="{timestamp}.{body}"),
]
scheme_strategy = st.sampled_from(SCHEMES)


def _valid_text_secret(text: str) -> bool:
    return (
        bool(text.strip())
        and text == text.strip()
        and "\ufeff" not in text
        and unicodedata.normalize("NFC", text) == text
    )


secrets_strategy = st.one_of(
    st.binary(min_size=1, max_size=200),
    st.text(min_size=1, max_size=80)
    .map(lambda t: unicodedata.normalize("NFC", t).strip())
    .filter(_valid_text_secret),
)
bodies = st.binary(max_size=2048)
msg_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=40)


@given(scheme=scheme_strategy, secret=secrets_strategy, body=bodies, msg_id=msg_ids)
def test_any_body_and_secret_round_trip(scheme, secret, body, msg_id):
    headers = Signer(scheme, secret=secret).sign(body, timestamp=NOW, msg_id=msg_id)
    verified = Verifier(scheme, secrets=[secret], nonce_store=None).verify(body, headers, now=NOW)
    assert verified.body == body


@given(scheme=scheme_strategy, body=bodies.filter(bool), data=st.data())
def test_any_single_byte_change_of_the_body_is_rejected(scheme, body, data):
    headers = Signer(scheme, secret="secret").sign(body, timestamp=NOW, msg_id="m")
    index = data.draw(st.integers(0, len(body) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]))
    changed = body[:index] + bytes([new]) + body[index + 1 :]
    verifier = Verifier(scheme, secrets="secret", nonce_store=None)
    with pytest.raises(VerificationError):
        verifier.verify(changed, headers, now=NOW)


def _change_one_char(value: str, data: st.DataObject, case_insensitive: bool) -> str:
    index = data.draw(st.integers(0, len(value) - 1))
    old = value[index]
    new = data.draw(
        st.characters(codec="utf-8").filter(
            lambda c: c != old and not (case_insensitive and c.lower() == old.lower())
        )
    )
    return value[:index] + new + value[index + 1 :]


@given(scheme=scheme_strategy, body=bodies, data=st.data())
def test_any_single_character_change_of_the_signature_is_rejected(scheme, body, data):
    headers = Signer(scheme, secret="secret").sign(body, timestamp=NOW, msg_id="m")
    # Hex digits are case-insensitive: "AB" and "ab" are the same signature, not a change.
    changed = _change_one_char(headers["X-Signature"], data, scheme.encoding == "hex")
    verifier = Verifier(scheme, secrets="secret", nonce_store=None)
    with pytest.raises(VerificationError):
        verifier.verify(body, {**headers, "X-Signature": changed}, now=NOW)


@given(
    scheme=st.sampled_from([s for s in SCHEMES if s.signs_timestamp]),
    body=bodies,
    data=st.data(),
)
def test_any_single_character_change_of_the_timestamp_is_rejected(scheme, body, data):
    headers = Signer(scheme, secret="secret").sign(body, timestamp=NOW, msg_id="m")
    changed = _change_one_char(headers["X-Timestamp"], data, case_insensitive=False)
    verifier = Verifier(scheme, secrets="secret", nonce_store=None)
    with pytest.raises(VerificationError):
        verifier.verify(body, {**headers, "X-Timestamp": changed}, now=NOW)


@given(body=bodies, data=st.data())
def test_any_single_character_change_of_a_signed_id_is_rejected(body, data):
    scheme = SCHEMES[2]
    headers = Signer(scheme, secret="secret").sign(body, timestamp=NOW, msg_id="msg_1a2b")
    changed = _change_one_char(headers["X-Id"], data, case_insensitive=False)
    assume(changed.strip())
    verifier = Verifier(scheme, secrets="secret", nonce_store=None)
    with pytest.raises(VerificationError):
        verifier.verify(body, {**headers, "X-Id": changed}, now=NOW)


@given(
    headers=st.dictionaries(
        st.sampled_from(["X-Signature", "x-timestamp", "X-Id", "Other"]),
        st.text(max_size=120),
    ),
    body=bodies,
)
def test_arbitrary_headers_only_raise_verification_errors(headers, body):
    for scheme in SCHEMES:
        verifier = Verifier(scheme, secrets="secret", nonce_store=None)
        with pytest.raises(VerificationError):
            verifier.verify(body, headers, now=NOW)
