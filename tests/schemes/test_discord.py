"""Discord: Ed25519 over timestamp + body, checked against an independent computation.

Discord publishes no fixed test vector (its libraries generate keys at test time), so the
oracle here is Ed25519 computed directly with ``cryptography``, and the fixed vector uses the
RFC 8032 section 7.1 TEST 1 key (https://www.rfc-editor.org/rfc/rfc8032#section-7.1).
Scheme: https://discord.com/developers/docs/interactions/overview (Validating security
request headers); reference verifier discord/discord-interactions-python
discord_interactions/__init__.py (verify_key: message = timestamp + body, hex key and sig).
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
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
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal.schemes import Discord
from hookseal.schemes.base import make_replay_key

# RFC 8032 section 7.1, TEST 1: secret key (seed) and public key.
RFC_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
# RFC 8032 TEST 1 signature of the empty message: proves the key pair is the RFC's.
RFC_EMPTY_SIG = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
    "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
# DC-1 (DERIVED, /work/notes/providers.md section 10): the RFC key signing "1700000000" +
# '{"type":1}' (a Discord PING), computed with cryptography; a regression vector.
DC1_TS = 1_700_000_000
DC1_BODY = b'{"type":1}'
DC1_SIG = (
    "1695961a47c91a1ec033b819b7e87e3dbc583dd0cee6d1fd0216f58ac87b6228"
    "ae531ddbf91fb7bc28d7edf7f08604da16f54624f38a6bc0614e4dc13cd47f0f"
)

SCHEME = Discord()
SIG = "X-Signature-Ed25519"
TS = "X-Signature-Timestamp"


def _pair(seed: bytes) -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    return private, public


def _verifier(public: object = RFC_PUBLIC, **options: object) -> Verifier:
    return Verifier(SCHEME, public, **options)  # type: ignore[arg-type]


def _dc1_headers(sig: str = DC1_SIG, ts: str = str(DC1_TS)) -> dict[str, str]:
    return {SIG: sig, TS: ts}


# --- the fixed vector -----------------------------------------------------------------------


def test_rfc8032_key_pair_is_the_published_one() -> None:
    private, public = _pair(bytes.fromhex(RFC_SEED))
    assert public == RFC_PUBLIC
    assert private.sign(b"").hex() == RFC_EMPTY_SIG


def test_dc1_verifies() -> None:
    verified = _verifier().verify(DC1_BODY, _dc1_headers(), now=DC1_TS)
    assert verified.body == DC1_BODY
    assert verified.timestamp == DC1_TS
    assert verified.key_index == 0
    assert verified.msg_id is None
    assert verified.scheme == "discord"
    assert verified.replay_key == make_replay_key("discord", bytes.fromhex(DC1_SIG))


def test_dc1_is_what_the_signer_produces() -> None:
    headers = Signer(SCHEME, RFC_SEED).sign(DC1_BODY, timestamp=DC1_TS)
    assert headers == {SIG: DC1_SIG, TS: str(DC1_TS)}


def test_uppercase_hex_signature_and_key_are_accepted() -> None:
    verifier = _verifier(RFC_PUBLIC.upper())
    assert verifier.verify(DC1_BODY, _dc1_headers(DC1_SIG.upper()), now=DC1_TS)


# --- independent computation in both directions --------------------------------------------


@given(
    seed=st.binary(min_size=32, max_size=32),
    body=st.binary(max_size=300),
    ts=st.integers(min_value=1, max_value=10**11),
)
def test_cryptography_signs_hookseal_verifies(seed: bytes, body: bytes, ts: int) -> None:
    private, public = _pair(seed)
    signature = private.sign(str(ts).encode() + body).hex()
    verified = _verifier(public, nonce_store=None).verify(
        body, {SIG: signature, TS: str(ts)}, now=ts
    )
    assert verified.body == body
    assert verified.timestamp == ts


@given(
    seed=st.binary(min_size=32, max_size=32),
    body=st.binary(max_size=300),
    ts=st.integers(min_value=1, max_value=10**11),
)
def test_hookseal_signs_cryptography_verifies(seed: bytes, body: bytes, ts: int) -> None:
    private, public = _pair(seed)
    headers = Signer(SCHEME, private).sign(body, timestamp=ts)
    assert headers[TS] == str(ts)
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
    key.verify(bytes.fromhex(headers[SIG]), str(ts).encode() + body)  # raises if invalid


# --- tampering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"type":2}', _dc1_headers()),
        (DC1_BODY + b"\n", _dc1_headers()),
        (b'{"type": 1}', _dc1_headers()),
        (DC1_BODY, _dc1_headers(ts=str(DC1_TS + 1))),
        (DC1_BODY, _dc1_headers(DC1_SIG[:-2] + ("00" if DC1_SIG[-2:] != "00" else "01"))),
        (DC1_BODY, _dc1_headers("00" * 64)),
    ],
)
def test_tampering_is_a_mismatch(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, headers, now=DC1_TS)


def test_timestamp_moved_by_one_second_with_clock_following() -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(DC1_BODY, _dc1_headers(ts=str(DC1_TS - 1)), now=DC1_TS)


def test_other_key_is_a_mismatch() -> None:
    _, other = _pair(b"\x01" * 32)
    with pytest.raises(SignatureMismatch):
        _verifier(other).verify(DC1_BODY, _dc1_headers(), now=DC1_TS)


def test_rotation_tries_every_key() -> None:
    _, other = _pair(b"\x02" * 32)
    verified = _verifier([RFC_PUBLIC, other]).verify(DC1_BODY, _dc1_headers(), now=DC1_TS)
    assert verified.key_index == 0


# --- window and replay ----------------------------------------------------------------------


def test_window_applies_to_the_signed_timestamp() -> None:
    verifier = _verifier(tolerance=300, nonce_store=None)
    assert verifier.verify(DC1_BODY, _dc1_headers(), now=DC1_TS + 300)
    assert verifier.verify(DC1_BODY, _dc1_headers(), now=DC1_TS - 300)
    with pytest.raises(TimestampOutOfTolerance) as old:
        verifier.verify(DC1_BODY, _dc1_headers(), now=DC1_TS + 301)
    assert old.value.reason == "timestamp_too_old"
    with pytest.raises(TimestampOutOfTolerance) as future:
        verifier.verify(DC1_BODY, _dc1_headers(), now=DC1_TS - 301)
    assert future.value.reason == "timestamp_in_future"


def test_exact_replay_is_refused() -> None:
    verifier = _verifier()
    verifier.verify(DC1_BODY, _dc1_headers(), now=DC1_TS)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(DC1_BODY, _dc1_headers(), now=DC1_TS + 10)


def test_same_body_signed_at_another_time_is_a_new_delivery() -> None:
    verifier = _verifier()
    signer = Signer(SCHEME, RFC_SEED)
    verifier.verify(DC1_BODY, signer.sign(DC1_BODY, timestamp=DC1_TS), now=DC1_TS)
    verifier.verify(DC1_BODY, signer.sign(DC1_BODY, timestamp=DC1_TS + 1), now=DC1_TS)


# --- hostile headers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "error", "reason"),
    [
        ({TS: str(DC1_TS)}, MissingHeader, "missing_header"),
        ({SIG: DC1_SIG}, MissingHeader, "missing_header"),
        (_dc1_headers(sig=""), MissingHeader, "missing_header"),
        (_dc1_headers(sig="   "), MissingHeader, "missing_header"),
        (_dc1_headers(ts=""), MissingHeader, "missing_header"),
        (_dc1_headers(sig=DC1_SIG[:-1]), MalformedHeader, "malformed_header"),
        (_dc1_headers(sig=DC1_SIG[:-2]), SignatureMismatch, "signature_mismatch"),
        (_dc1_headers(sig=DC1_SIG + "00"), SignatureMismatch, "signature_mismatch"),
        (_dc1_headers(sig=DC1_SIG + " "), MalformedHeader, "malformed_header"),
        (_dc1_headers(sig=DC1_SIG[:2] + " " + DC1_SIG[2:]), MalformedHeader, "malformed_header"),
        (_dc1_headers(sig="zz" * 64), MalformedHeader, "malformed_header"),
        (_dc1_headers(sig=DC1_SIG[:-1] + "é"), MalformedHeader, "malformed_header"),
        (_dc1_headers(sig=DC1_SIG + "\x00"), MalformedHeader, "malformed_header"),
        (_dc1_headers(sig="a" * 5000), MalformedHeader, "header_too_long"),
        (_dc1_headers(ts=" 1700000000"), MalformedHeader, "malformed_timestamp"),
        (_dc1_headers(ts="1700000000.0"), MalformedHeader, "malformed_timestamp"),
        (_dc1_headers(ts="-1"), MalformedHeader, "malformed_timestamp"),
        (_dc1_headers(ts="１７００００００００"), MalformedHeader, "malformed_header"),
        (_dc1_headers(ts="9" * 5000), MalformedHeader, "header_too_long"),
        (_dc1_headers(ts="nan"), MalformedHeader, "malformed_timestamp"),
    ],
)
def test_hostile_headers(
    headers: dict[str, str], error: type[VerificationError], reason: str
) -> None:
    with pytest.raises(error) as caught:
        _verifier().verify(DC1_BODY, headers, now=DC1_TS)
    assert caught.value.reason == reason


def test_every_signature_length_is_refused() -> None:
    verifier = _verifier(nonce_store=None)
    for length in range(0, 128, 2):
        with pytest.raises((SignatureMismatch, MissingHeader)):
            verifier.verify(DC1_BODY, _dc1_headers(sig=DC1_SIG[:length]), now=DC1_TS)


@pytest.mark.parametrize("name", [SIG, TS])
def test_duplicated_header_is_refused(name: str) -> None:
    lines = [*_dc1_headers().items(), (name, _dc1_headers()[name])]
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(DC1_BODY, Headers(lines), now=DC1_TS)
    assert caught.value.reason == "duplicate_header"


def test_non_utf8_body_with_forged_signature_is_a_mismatch() -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(b"\xff\xfe\x00", _dc1_headers(), now=DC1_TS)


# --- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    ["", RFC_PUBLIC[:-2], RFC_PUBLIC + "00", "zz" * 32, b"\x00" * 31, 7, f" {RFC_PUBLIC}"],
)
def test_bad_public_keys_are_refused(secret: object) -> None:
    with pytest.raises(ConfigurationError):
        _verifier(secret)


def test_private_key_object_is_refused_by_the_verifier() -> None:
    private, _ = _pair(bytes.fromhex(RFC_SEED))
    with pytest.raises(ConfigurationError, match="PUBLIC"):
        _verifier(private)


def test_key_objects_and_raw_bytes_are_accepted() -> None:
    private, public = _pair(bytes.fromhex(RFC_SEED))
    for secret in (private.public_key(), bytes.fromhex(public)):
        assert _verifier(secret, nonce_store=None).verify(DC1_BODY, _dc1_headers(), now=DC1_TS)
    assert Signer(SCHEME, bytes.fromhex(RFC_SEED)).sign(DC1_BODY, timestamp=DC1_TS)[SIG] == DC1_SIG


@pytest.mark.parametrize("secret", ["", RFC_SEED[:-2], b"\x00" * 33, None, 3.5])
def test_bad_private_keys_are_refused(secret: object) -> None:
    with pytest.raises(ConfigurationError):
        Signer(SCHEME, secret)


def test_a_non_canonical_signature_s_plus_l_is_refused() -> None:
    """S + L is the same signature to a lax verifier, and Discord's replay key is the signature."""
    ed25519_order = 2**252 + 27742317777372353535851937790883648493  # RFC 8032, section 5.1
    verifier = Verifier(SCHEME, RFC_PUBLIC, nonce_store=None)
    raw = bytes.fromhex(DC1_SIG)
    s = int.from_bytes(raw[32:], "little") + ed25519_order
    assert s < 2**256
    forged = (raw[:32] + s.to_bytes(32, "little")).hex()
    with pytest.raises(SignatureMismatch):
        verifier.verify(DC1_BODY, {SIG: forged, TS: str(DC1_TS)}, now=DC1_TS)
    assert verifier.verify(DC1_BODY, {SIG: DC1_SIG, TS: str(DC1_TS)}, now=DC1_TS).body == DC1_BODY
