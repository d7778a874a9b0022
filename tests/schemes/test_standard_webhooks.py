"""StandardWebhooks: published vectors, Ed25519 (v1a), SDK differentials, hostile headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timezone

import pytest
import standardwebhooks
import svix.webhooks
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from hookseal import (
    ConfigurationError,
    Headers,
    MalformedHeader,
    MissingHeader,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal._keys import HMACKey
from hookseal.schemes import StandardWebhooks
from hookseal.schemes.base import Limits, make_replay_key

# --- Published vectors -------------------------------------------------------------------
# SW-1: standard-webhooks/standard-webhooks libraries/python/tests/test_webhooks.py
# (test_sign_function) and libraries/go/webhook_symmetric_test.go (TestSymmetricWebhookSign);
# the same values appear in svix/svix-webhooks' library tests.
SW1_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW1_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW1_TS = 1614265330
SW1_BODY = b'{"test": 2432232314}'
SW1_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# The near miss from the same test file (last character changed).
SW1_BAD_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
# Junk companions from test_multi_sig_payload in the same file.
SW1_JUNK = (
    "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
)

# SW-2 (v1a): standard-webhooks/standard-webhooks libraries/go/webhook_asymmetric_test.go
# (TestAsymmetricWebhookSign): the 32-byte Ed25519 seed and the expected signature.
SW2_SEED_B64 = "VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk="
SW2_SIG = (
    "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag=="
)

SCHEME = StandardWebhooks()


def _headers(msg_id: str, ts: int | str, sig: str, family: str = "webhook") -> dict[str, str]:
    return {f"{family}-id": msg_id, f"{family}-timestamp": str(ts), f"{family}-signature": sig}


def _verifier(*secrets: object, **kwargs: object) -> Verifier:
    return Verifier(SCHEME, list(secrets), nonce_store=None, **kwargs)  # type: ignore[arg-type]


def _reason(call: object) -> tuple[type[BaseException], str] | str:
    try:
        call()  # type: ignore[operator]
    except VerificationError as exc:
        return type(exc), exc.reason
    return "accepted"


def _ed25519_pair() -> tuple[Ed25519PrivateKey, str, str]:
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return (
        private,
        "whsk_" + base64.b64encode(seed).decode(),
        "whpk_" + base64.b64encode(public).decode(),
    )


class TestPublishedVectors:
    def test_sw1_verifies(self) -> None:
        verified = _verifier(SW1_SECRET).verify(
            SW1_BODY, _headers(SW1_ID, SW1_TS, SW1_SIG), now=SW1_TS
        )
        assert verified.body == SW1_BODY
        assert verified.msg_id == SW1_ID
        assert verified.timestamp == SW1_TS
        assert verified.key_index == 0
        assert verified.scheme == "standard-webhooks"
        # The replay identity is what the secret signed (its MAC), never the keys configured.
        assert verified.replay_keys == (
            make_replay_key("standard-webhooks", base64.b64decode(SW1_SIG.split(",")[1])),
        )

    def test_sw1_svix_header_names(self) -> None:
        headers = _headers(SW1_ID, SW1_TS, SW1_SIG, family="svix")
        assert _verifier(SW1_SECRET).verify(SW1_BODY, headers, now=SW1_TS).msg_id == SW1_ID

    def test_sw1_signer_reproduces_signature(self) -> None:
        headers = Signer(SCHEME, SW1_SECRET).sign(SW1_BODY, timestamp=SW1_TS, msg_id=SW1_ID)
        assert headers == _headers(SW1_ID, SW1_TS, SW1_SIG)

    def test_sw1_near_miss_rejected(self) -> None:
        with pytest.raises(SignatureMismatch):
            _verifier(SW1_SECRET).verify(
                SW1_BODY, _headers(SW1_ID, SW1_TS, SW1_BAD_SIG), now=SW1_TS
            )

    def test_sw1_multi_signature(self) -> None:
        value = " ".join((*SW1_JUNK, SW1_SIG))
        verified = _verifier(SW1_SECRET).verify(
            SW1_BODY, _headers(SW1_ID, SW1_TS, value), now=SW1_TS
        )
        assert verified.msg_id == SW1_ID

    def test_sw2_v1a_sign_and_verify(self) -> None:
        seed = base64.b64decode(SW2_SEED_B64)
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
        whpk = "whpk_" + base64.b64encode(public.public_bytes_raw()).decode()
        signed = Signer(SCHEME, "whsk_" + SW2_SEED_B64).sign(
            SW1_BODY, timestamp=SW1_TS, msg_id=SW1_ID
        )
        assert signed["webhook-signature"] == SW2_SIG
        verified = _verifier(whpk).verify(SW1_BODY, _headers(SW1_ID, SW1_TS, SW2_SIG), now=SW1_TS)
        assert verified.key_index == 0

    def test_sw2_public_key_matches_derived_value(self) -> None:
        # DERIVED in /work/notes/providers.md (SW-2), recomputed here with cryptography.
        seed = base64.b64decode(SW2_SEED_B64)
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        assert base64.b64encode(public).decode() == "ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="


# A hypothesis test is a module-level function: a @given method of a class would run from two
# instances (the fast and general params of conftest.py), which hypothesis refuses.
@given(
    body=st.binary(max_size=512),
    msg_id=st.from_regex(r"msg_[A-Za-z0-9_-]{1,40}", fullmatch=True),
)
def test_ed25519_independent_signature_verifies(body: bytes, msg_id: str) -> None:
    """v1a has no published vectors: check against cryptography computed in the test."""
    private, whsk, whpk = _ed25519_pair()
    ts = 1_700_000_000
    independent = private.sign(f"{msg_id}.{ts}.".encode() + body)
    sig = "v1a," + base64.b64encode(independent).decode()
    # Ed25519 is deterministic: hookseal's Signer produces the same signature.
    assert Signer(SCHEME, whsk).sign(body, timestamp=ts, msg_id=msg_id)["webhook-signature"] == sig
    verifier = _verifier(whpk)
    assert verifier.verify(body, _headers(msg_id, ts, sig), now=ts).msg_id == msg_id
    with pytest.raises(SignatureMismatch):
        verifier.verify(body + b"x", _headers(msg_id, ts, sig), now=ts)
    with pytest.raises(SignatureMismatch):
        verifier.verify(body, _headers(msg_id, ts + 1, sig), now=ts)


class TestEd25519:
    """v1a has no published vectors: check against cryptography computed in the test."""

    def test_bad_v1a_signatures(self) -> None:
        private, _whsk, whpk = _ed25519_pair()
        _other, _, other_pk = _ed25519_pair()
        ts = 1_700_000_000
        good = private.sign(f"msg_1.{ts}.".encode() + b"{}")
        cases = {
            "63 bytes": good[:63],
            "65 bytes": good + b"\0",
            "flipped": bytes([good[0] ^ 1]) + good[1:],
        }
        for raw in cases.values():
            sig = "v1a," + base64.b64encode(raw).decode()
            with pytest.raises(SignatureMismatch):
                _verifier(whpk).verify(b"{}", _headers("msg_1", ts, sig), now=ts)
        sig = "v1a," + base64.b64encode(good).decode()
        with pytest.raises(SignatureMismatch):
            _verifier(other_pk).verify(b"{}", _headers("msg_1", ts, sig), now=ts)
        with pytest.raises(MalformedHeader):
            _verifier(whpk).verify(b"{}", _headers("msg_1", ts, sig + "!!!"), now=ts)

    def test_mixed_keys_report_their_index(self) -> None:
        _private, whsk, whpk = _ed25519_pair()
        verifier = _verifier(SW1_SECRET, whpk)
        ts = 1_700_000_000
        v1a = Signer(SCHEME, whsk).sign(b"{}", timestamp=ts, msg_id="msg_a")
        v1 = Signer(SCHEME, SW1_SECRET).sign(b"{}", timestamp=ts, msg_id="msg_a")
        assert verifier.verify(b"{}", v1a, now=ts).key_index == 1
        assert verifier.verify(b"{}", v1, now=ts).key_index == 0
        both = dict(v1, **{"webhook-signature": "v1,AAAA " + v1a["webhook-signature"]})
        assert verifier.verify(b"{}", both, now=ts).key_index == 1

    def test_v1_hmac_keyed_with_public_key_is_rejected(self) -> None:
        # Bad-input row 15: an attacker knows the public key and uses it as an HMAC secret.
        _private, _whsk, whpk = _ed25519_pair()
        ts = 1_700_000_000
        public_raw = base64.b64decode(whpk[5:])
        for key in (public_raw, whpk.encode()):
            mac = hmac.digest(key, f"msg_1.{ts}.".encode() + b"{}", "sha256")
            sig = "v1," + base64.b64encode(mac).decode()
            with pytest.raises(SignatureMismatch):
                _verifier(whpk).verify(b"{}", _headers("msg_1", ts, sig), now=ts)


class TestSecrets:
    def test_whsec_is_base64(self) -> None:
        key = SCHEME.load_key(SW1_SECRET)
        raw = base64.b64decode(SW1_SECRET[6:])
        assert key.digest(b"m") == hmac.digest(raw, b"m", "sha256")

    def test_raw_bytes_secret(self) -> None:
        raw = base64.b64decode(SW1_SECRET[6:])
        _verifier(raw).verify(SW1_BODY, _headers(SW1_ID, SW1_TS, SW1_SIG), now=SW1_TS)

    def test_unpadded_whsec_equals_padded(self) -> None:
        raw = b"\x01" * 25
        padded = "whsec_" + base64.b64encode(raw).decode()
        assert padded.endswith("=")
        unpadded = padded.rstrip("=")
        assert SCHEME.load_key(unpadded).digest(b"x") == SCHEME.load_key(padded).digest(b"x")

    @pytest.mark.parametrize(
        "secret",
        [
            "whsec_",
            "whsec_!!!!",
            "whsec_abc$",
            "whsec_a",
            "whsec_ab=c",
            "whsec_abc===",
            "whsec_ab-_",
            " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "",
            b"",
            b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            b"whpk_AAAA",
            "whpk_AAAA",
            "whpk_!!",
            "whsk_" + SW2_SEED_B64,
        ],
    )
    def test_verifier_refuses_at_construction(self, secret: object) -> None:
        with pytest.raises(ConfigurationError):
            Verifier(SCHEME, secret, nonce_store=None)

    def test_whsk_error_says_to_use_public_key(self) -> None:
        with pytest.raises(ConfigurationError, match="whpk_"):
            Verifier(SCHEME, "whsk_" + SW2_SEED_B64, nonce_store=None)

    def test_signer_refuses_public_key(self) -> None:
        _private, _whsk, whpk = _ed25519_pair()
        with pytest.raises(ConfigurationError, match="public key"):
            Signer(SCHEME, whpk)

    def test_signer_refuses_bad_message_id(self) -> None:
        signer = Signer(SCHEME, SW1_SECRET)
        for msg_id in ("a.b", "a b", "", "é"):
            with pytest.raises(ConfigurationError):
                signer.sign(b"{}", timestamp=1, msg_id=msg_id)

    def test_repr_hides_secret(self) -> None:
        verifier = _verifier(SW1_SECRET)
        assert "MfKQ" not in repr(verifier)
        assert "MfKQ" not in repr(Signer(SCHEME, SW1_SECRET))


# --- Differential tests against the standardwebhooks and svix SDKs ------------------------

secrets_st = st.binary(min_size=1, max_size=64).filter(
    lambda raw: not raw.startswith((b"whsec_", b"whsk_", b"whpk_"))
)
bodies = st.text(max_size=300).map(str.encode)
msg_ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
offsets = st.integers(min_value=-240, max_value=240)
SDKS = [standardwebhooks.Webhook, svix.webhooks.Webhook]


def _sdk_sign(sdk: type, secret: str, msg_id: str, ts: int, body: bytes) -> str:
    when = datetime.fromtimestamp(ts, timezone.utc)
    return sdk(secret).sign(msg_id, when, body.decode())  # type: ignore[no-any-return]


def _sdk_accepts(sdk: type, secret: object, body: bytes, headers: dict[str, str]) -> bool:
    try:
        if sdk is standardwebhooks.Webhook:
            sdk(secret).verify(body, headers, json_parse=False)
        else:
            sdk(secret).verify(body, headers)
    except (standardwebhooks.WebhookVerificationError, ValueError):
        return False
    return True


@pytest.mark.parametrize("sdk", SDKS, ids=["standardwebhooks", "svix"])
@given(raw=secrets_st, body=bodies, msg_id=msg_ids, offset=offsets)
def test_sdk_signature_verifies(
    sdk: type, raw: bytes, body: bytes, msg_id: str, offset: int
) -> None:
    now = int(time.time())
    ts = now + offset
    secret = "whsec_" + base64.b64encode(raw).decode()
    sig = _sdk_sign(sdk, secret, msg_id, ts, body)
    family = "svix" if sdk is svix.webhooks.Webhook else "webhook"
    headers = _headers(msg_id, ts, sig, family)
    assert _verifier(secret).verify(body, headers, now=now).timestamp == ts
    assert _verifier(raw).verify(body, headers, now=now).msg_id == msg_id


@pytest.mark.parametrize("sdk", SDKS, ids=["standardwebhooks", "svix"])
@given(raw=secrets_st, body=bodies, msg_id=msg_ids, offset=offsets)
def test_hookseal_signature_accepted_by_sdk(
    sdk: type, raw: bytes, body: bytes, msg_id: str, offset: int
) -> None:
    ts = int(time.time()) + offset
    secret = "whsec_" + base64.b64encode(raw).decode()
    headers = Signer(SCHEME, secret).sign(body, timestamp=ts, msg_id=msg_id)
    assert _sdk_accepts(sdk, secret, body, headers)
    assert Signer(SCHEME, raw).sign(body, timestamp=ts, msg_id=msg_id) == headers


@pytest.mark.parametrize("sdk", SDKS, ids=["standardwebhooks", "svix"])
@given(
    raw=secrets_st,
    other=secrets_st,
    body=bodies,
    msg_id=msg_ids,
    offset=offsets,
    tamper=st.sampled_from(["body", "signature", "timestamp", "secret", "id"]),
)
def test_tampered_rejected_by_both(
    sdk: type, raw: bytes, other: bytes, body: bytes, msg_id: str, offset: int, tamper: str
) -> None:
    now = int(time.time())
    ts = now + offset
    secret = "whsec_" + base64.b64encode(raw).decode()
    headers = Signer(SCHEME, secret).sign(body, timestamp=ts, msg_id=msg_id)
    verify_secret = secret
    if tamper == "body":
        body += b"\n"
    elif tamper == "signature":
        mac = bytearray(base64.b64decode(headers["webhook-signature"][3:]))
        mac[len(body) % 32] ^= 0x01
        headers["webhook-signature"] = "v1," + base64.b64encode(bytes(mac)).decode()
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(ts + 1)
    elif tamper == "id":
        headers["webhook-id"] = msg_id + "x"
    else:
        if other.rstrip(b"\0") == raw.rstrip(b"\0"):
            # HMAC pads keys with zero bytes: keys equal up to trailing zeros are one key.
            other = raw + b"\x01"
        verify_secret = "whsec_" + base64.b64encode(other).decode()
    assert not _sdk_accepts(sdk, verify_secret, body, headers)
    with pytest.raises(SignatureMismatch):
        _verifier(verify_secret).verify(body, headers, now=now)


def test_non_utf8_body_is_never_decoded() -> None:
    # Bad-input row 9: a forged signature is a mismatch; a genuine one is accepted.
    body = b"\xff\xfe\x00binary"
    headers = Signer(SCHEME, SW1_SECRET).sign(body, timestamp=SW1_TS, msg_id="msg_bin")
    assert _verifier(SW1_SECRET).verify(body, headers, now=SW1_TS).body == body
    headers["webhook-signature"] = SW1_SIG
    with pytest.raises(SignatureMismatch):
        _verifier(SW1_SECRET).verify(body, headers, now=SW1_TS)


def test_rotation_reports_matching_index() -> None:
    old, new = "whsec_" + base64.b64encode(b"o" * 24).decode(), SW1_SECRET
    verifier = _verifier(old, new)
    headers = _headers(SW1_ID, SW1_TS, SW1_SIG)
    assert verifier.verify(SW1_BODY, headers, now=SW1_TS).key_index == 1
    old_headers = Signer(SCHEME, old).sign(SW1_BODY, timestamp=SW1_TS, msg_id=SW1_ID)
    assert verifier.verify(SW1_BODY, old_headers, now=SW1_TS).key_index == 0


# --- Hostile headers ---------------------------------------------------------------------

NOW = SW1_TS
VALID_B64 = SW1_SIG[3:]


def _attempt(headers: object, body: bytes = SW1_BODY, **kwargs: object) -> object:
    return _reason(lambda: _verifier(SW1_SECRET, **kwargs).verify(body, headers, now=NOW))  # type: ignore[arg-type]


def _with(**changes: str | None) -> dict[str, str]:
    headers = _headers(SW1_ID, SW1_TS, SW1_SIG)
    for name, value in changes.items():
        key = "webhook-" + name
        if value is None:
            del headers[key]
        else:
            headers[key] = value
    return headers


MALFORMED = (MalformedHeader, "malformed_header")
MISSING = (MissingHeader, "missing_header")
MISMATCH = (SignatureMismatch, "signature_mismatch")
UNSUPPORTED = (SignatureMismatch, "no_supported_signature")
BAD_TS = (MalformedHeader, "malformed_timestamp")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"signature": None}, MISSING),
        ({"signature": ""}, MISSING),
        ({"signature": "   "}, MISSING),
        ({"id": None}, MISSING),
        ({"id": ""}, MISSING),
        ({"timestamp": None}, MISSING),
        ({"signature": "v1,"}, MALFORMED),
        ({"signature": "v1"}, MALFORMED),
        ({"signature": ","}, MALFORMED),
        ({"signature": "v1," + VALID_B64 + "!!!"}, MALFORMED),
        ({"signature": "v1," + VALID_B64 + "=="}, MALFORMED),
        ({"signature": "v1," + VALID_B64 + " "}, MALFORMED),
        ({"signature": "v1," + VALID_B64 + "\n"}, MALFORMED),
        ({"signature": "v1," + VALID_B64[:-2] + "F="}, MALFORMED),  # non-zero trailing bits
        ({"signature": "v1," + VALID_B64.rstrip("=")}, MALFORMED),  # missing padding
        ({"signature": "v1," + VALID_B64.replace("+", "-").replace("/", "_")}, MALFORMED),
        ({"signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=é"}, MALFORMED),
        ({"signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\x00"}, MALFORMED),
        ({"signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\ufffd"}, MALFORMED),
        ({"signature": "v1,a  " + SW1_SIG}, MALFORMED),
        ({"signature": " " + SW1_SIG}, MALFORMED),
        ({"signature": "v1,AAAA"}, MISMATCH),
        ({"signature": "v1," + base64.b64encode(b"\0" * 32).decode()}, MISMATCH),
        ({"signature": "v2," + VALID_B64}, UNSUPPORTED),
        ({"signature": "V1," + VALID_B64}, UNSUPPORTED),
        ({"signature": "v1b," + VALID_B64 + " v2," + VALID_B64}, UNSUPPORTED),
        ({"signature": "sha256=" + VALID_B64}, MALFORMED),
        ({"id": "msg.p5jXN8AQM9LWM0D4loKWxJek"}, MALFORMED),
        ({"id": "msg p5j"}, MALFORMED),
        ({"id": "m" * 300}, MALFORMED),
        ({"id": "msg_\x01"}, MALFORMED),
        ({"id": "msg_é"}, MALFORMED),
        ({"id": SW1_ID + "x"}, MISMATCH),
        ({"timestamp": str(SW1_TS + 1)}, MISMATCH),
        ({"timestamp": "0" + str(SW1_TS)}, BAD_TS),  # leading zero refused
        ({"timestamp": str(NOW - 301)}, (TimestampOutOfTolerance, "timestamp_too_old")),
        ({"timestamp": str(NOW + 301)}, (TimestampOutOfTolerance, "timestamp_in_future")),
        ({"timestamp": str(NOW + 86400)}, (TimestampOutOfTolerance, "timestamp_in_future")),
        ({"timestamp": str(NOW + 3_153_600_000)}, (TimestampOutOfTolerance, "timestamp_in_future")),
        ({"timestamp": "-1"}, BAD_TS),
        ({"timestamp": " 1614265330"}, BAD_TS),
        ({"timestamp": "1614265330.5"}, BAD_TS),
        ({"timestamp": "1e9"}, BAD_TS),
        ({"timestamp": "0x65"}, BAD_TS),
        ({"timestamp": "nan"}, BAD_TS),
        ({"timestamp": "1_614_265_330"}, BAD_TS),
        ({"timestamp": "9" * 4000}, BAD_TS),
        ({"timestamp": "9" * 5000}, (MalformedHeader, "header_too_long")),
        ({"timestamp": "１６１４２６５３３０"}, MALFORMED),  # full-width: not ASCII
        ({"signature": "v1," + "A" * 100_000}, (MalformedHeader, "header_too_long")),
    ],
)
def test_hostile_headers(changes: dict[str, str | None], expected: object) -> None:
    assert _attempt(_with(**changes)) == expected
    # Title-case names take the general (non-fast) path: same verdict.
    titled = {k.title(): v for k, v in _with(**changes).items()}
    assert _attempt(titled) == expected
    assert _attempt(Headers(list(_with(**changes).items()))) == expected


def test_truncated_signatures_never_match() -> None:
    mac = base64.b64decode(VALID_B64)
    for length in range(1, 32):
        sig = "v1," + base64.b64encode(mac[:length]).decode()
        assert _attempt(_with(signature=sig)) == MISMATCH
    for extra in (b"\0", b"\0" * 32):
        sig = "v1," + base64.b64encode(mac + extra).decode()
        assert _attempt(_with(signature=sig)) == MISMATCH


def test_thousands_of_signatures_cost_no_crypto(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = HMACKey.digest_parts

    def counting(self: HMACKey, prefix: bytes, message: bytes) -> bytes:
        calls.append(1)
        return original(self, prefix, message)

    monkeypatch.setattr(HMACKey, "digest_parts", counting)
    many = " ".join(["v1,AAAA"] * 1000 + [SW1_SIG])
    assert _attempt(_with(signature=many), max_header_bytes=100_000) == (
        MalformedHeader,
        "too_many_signatures",
    )
    nine = " ".join(["v1,AAAA"] * 8 + [SW1_SIG])
    assert _attempt(_with(signature=nine)) == (MalformedHeader, "too_many_signatures")
    assert calls == []
    eight = " ".join(["v1,AAAA"] * 7 + [SW1_SIG])
    assert _attempt(_with(signature=eight)) == "accepted"
    assert calls == [1]


def test_duplicate_header_lines_refused() -> None:
    for name, good, bad in [
        ("webhook-signature", SW1_SIG, SW1_BAD_SIG),
        ("webhook-id", SW1_ID, "msg_other"),
        ("webhook-timestamp", str(SW1_TS), str(SW1_TS + 1)),
    ]:
        for pair in ((good, bad), (bad, good)):
            lines = [(k, v) for k, v in _with().items() if k != name]
            lines += [(name, pair[0]), (name.upper(), pair[1])]
            assert _attempt(Headers(lines)) == (MalformedHeader, "duplicate_header")


def test_header_family_choice() -> None:
    good = _with()
    svix = _headers(SW1_ID, SW1_TS, SW1_SIG, family="svix")
    # Only svix-*: used.
    assert _attempt(svix) == "accepted"
    # Both: webhook-* wins; a forged svix-* set is ignored.
    forged_svix = _headers("msg_forged", SW1_TS, SW1_BAD_SIG, family="svix")
    assert _attempt({**good, **forged_svix}) == "accepted"
    # Both, with the webhook-* set forged: rejected even though svix-* is valid.
    forged = _headers(SW1_ID, SW1_TS, SW1_BAD_SIG)
    assert _attempt({**svix, **forged}) == MISMATCH
    # The family is chosen by the signature header; ids are never mixed across families.
    mixed = {"webhook-signature": SW1_SIG, "svix-id": SW1_ID, "svix-timestamp": str(SW1_TS)}
    assert _attempt(mixed) == MISSING


def test_message_id_for_log() -> None:
    limits = Limits()
    assert SCHEME.message_id_for_log(_with(), limits) == SW1_ID
    svix = _headers("msg_s", SW1_TS, SW1_SIG, family="svix")
    assert SCHEME.message_id_for_log(svix, limits) == "msg_s"
    assert SCHEME.message_id_for_log({}, limits) is None


def test_errors_do_not_leak() -> None:
    wrong = "whsec_" + base64.b64encode(b"w" * 24).decode()
    with pytest.raises(SignatureMismatch) as info:
        _verifier(wrong).verify(SW1_BODY, _with(), now=NOW)
    text = str(info.value) + repr(info.value)
    expected = base64.b64encode(
        hmac.digest(
            base64.b64decode(wrong[6:]), f"{SW1_ID}.{SW1_TS}.".encode() + SW1_BODY, "sha256"
        )
    ).decode()
    for secret_part in (wrong[6:], expected, VALID_B64, SW1_BODY.decode()):
        assert secret_part not in text


@given(body=st.binary(max_size=2048), raw=secrets_st, msg_id=msg_ids)
def test_signature_agrees_with_hmac_digest(body: bytes, raw: bytes, msg_id: str) -> None:
    headers = Signer(SCHEME, raw).sign(body, timestamp=SW1_TS, msg_id=msg_id)
    expected = hmac.digest(raw, f"{msg_id}.{SW1_TS}.".encode() + body, hashlib.sha256)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()
    assert _verifier(raw).verify(body, headers, now=SW1_TS).body == body


def test_v1a_entries_beyond_the_keys_are_refused_before_any_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A forged 1 MiB delivery with 8 v1a entries once cost 8 Ed25519 verifications."""
    from hookseal.schemes import standard_webhooks

    seed = base64.b64decode(SW2_SEED_B64)
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    whpk = "whpk_" + base64.b64encode(public.public_bytes_raw()).decode()
    verifications: list[int] = []
    original = standard_webhooks._ed25519_verifies

    def counting(*args: object) -> bool:
        verifications.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(standard_webhooks, "_ed25519_verifies", counting)
    forged = " ".join("v1a," + base64.b64encode(bytes([n]) * 64).decode() for n in range(8))
    body = b"x" * (1 << 20)
    with pytest.raises(MalformedHeader) as raised:
        _verifier(whpk).verify(body, _headers(SW1_ID, SW1_TS, forged), now=SW1_TS)
    assert raised.value.reason == "too_many_signatures"
    assert verifications == []
    # One more entry than keys (a sender a rotation step ahead) is still checked, entry by entry.
    two = " ".join([SW2_SIG, "v1a," + base64.b64encode(bytes(64)).decode()])
    assert (
        _verifier(whpk).verify(SW1_BODY, _headers(SW1_ID, SW1_TS, two), now=SW1_TS).key_index == 0
    )
