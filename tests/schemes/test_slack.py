"""Slack: the documented example, slack_sdk differentials both ways, hostile headers."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.signature import Clock, SignatureVerifier

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
from hookseal.schemes import Slack
from hookseal.schemes.base import make_replay_key

SCHEME = Slack()

# SL-1: https://docs.slack.dev/authentication/verifying-requests-from-slack/ (worked example),
# also slackapi/python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py.
SL_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SL_TS = 1531420618
SL_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
    b"&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554"
    b"%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SL_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
VALID_HEX = SL_SIG[3:]


def _headers(sig: str | None = SL_SIG, ts: str | None = str(SL_TS)) -> dict[str, str]:
    headers = {}
    if sig is not None:
        headers["X-Slack-Signature"] = sig
    if ts is not None:
        headers["X-Slack-Request-Timestamp"] = ts
    return headers


def _verifier(*secrets: object) -> Verifier:
    return Verifier(SCHEME, list(secrets), nonce_store=None)


def _attempt(headers: object, body: bytes = SL_BODY, now: int = SL_TS) -> object:
    try:
        _verifier(SL_SECRET).verify(body, headers, now=now)  # type: ignore[arg-type]
    except VerificationError as exc:
        return type(exc), exc.reason
    return "accepted"


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


class TestPublished:
    def test_sl1_verifies(self) -> None:
        verified = _verifier(SL_SECRET).verify(SL_BODY, _headers(), now=SL_TS)
        assert verified.timestamp == SL_TS
        assert verified.msg_id is None
        assert verified.scheme == "slack"
        assert verified.replay_key == make_replay_key("slack", bytes.fromhex(VALID_HEX))

    def test_sl1_signer(self) -> None:
        assert Signer(SCHEME, SL_SECRET).sign(SL_BODY, timestamp=SL_TS) == _headers()

    def test_sl1_negative_from_sdk_tests(self) -> None:
        assert _attempt(_headers(), body=SL_BODY + b"------") == (
            SignatureMismatch,
            "signature_mismatch",
        )

    def test_lower_case_header_names(self) -> None:
        headers = {k.lower(): v for k, v in _headers().items()}
        assert _attempt(headers) == "accepted"


# --- Differential tests against slack_sdk ---------------------------------------------------

secrets_st = st.from_regex(r"[a-z0-9]{8,40}", fullmatch=True)
bodies = st.text(max_size=300).map(str.encode)
times = st.integers(min_value=1_500_000_000, max_value=2_000_000_000)
offsets = st.integers(min_value=-300, max_value=300)


def _sdk_accepts(secret: str, body: bytes, headers: dict[str, str], now: int) -> bool:
    return SignatureVerifier(secret, _FixedClock(now)).is_valid_request(body, headers)


@given(secret=secrets_st, body=bodies, now=times, offset=offsets)
def test_sdk_signature_verifies(secret: str, body: bytes, now: int, offset: int) -> None:
    ts = str(now + offset)
    sig = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert sig is not None
    headers = _headers(sig, ts)
    assert _verifier(secret).verify(body, headers, now=now).timestamp == now + offset


@given(secret=secrets_st, body=bodies, now=times, offset=offsets)
def test_hookseal_signature_accepted_by_sdk(
    secret: str, body: bytes, now: int, offset: int
) -> None:
    headers = Signer(SCHEME, secret).sign(body, timestamp=now + offset)
    assert _sdk_accepts(secret, body, headers, now)


@given(
    secret=secrets_st,
    other=secrets_st,
    body=bodies,
    now=times,
    offset=offsets,
    tamper=st.sampled_from(["body", "signature", "timestamp", "secret"]),
)
def test_tampered_rejected_by_both(
    secret: str, other: str, body: bytes, now: int, offset: int, tamper: str
) -> None:
    ts = now + max(offset, -299)
    headers = Signer(SCHEME, secret).sign(body, timestamp=ts)
    verify_secret = secret
    if tamper == "body":
        body = b"\n" + body
    elif tamper == "signature":
        mac = bytearray.fromhex(headers["X-Slack-Signature"][3:])
        mac[-1] ^= 0x01
        headers["X-Slack-Signature"] = "v0=" + mac.hex()
    elif tamper == "timestamp":
        headers["X-Slack-Request-Timestamp"] = str(ts - 1)
    else:
        verify_secret = other if other != secret else secret + "x"
    assert not _sdk_accepts(verify_secret, body, headers, now)
    with pytest.raises(SignatureMismatch):
        _verifier(verify_secret).verify(body, headers, now=now)


def test_window_matches_sdk_edges() -> None:
    sdk = SignatureVerifier(SL_SECRET, _FixedClock(SL_TS + 300))
    assert sdk.is_valid_request(SL_BODY, _headers())
    assert _attempt(_headers(), now=SL_TS + 300) == "accepted"
    assert _attempt(_headers(), now=SL_TS + 301) == (TimestampOutOfTolerance, "timestamp_too_old")
    assert _attempt(_headers(), now=SL_TS - 301) == (
        TimestampOutOfTolerance,
        "timestamp_in_future",
    )


# --- Secrets and hostile headers ------------------------------------------------------------


@pytest.mark.parametrize("secret", ["", "  ", f"{SL_SECRET}\n", b""])
def test_bad_secrets_refused(secret: object) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(SCHEME, secret, nonce_store=None)


MALFORMED = (MalformedHeader, "malformed_header")
MISSING = (MissingHeader, "missing_header")
MISMATCH = (SignatureMismatch, "signature_mismatch")
BAD_TS = (MalformedHeader, "malformed_timestamp")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (_headers(sig=None), MISSING),
        (_headers(sig=""), MISSING),
        (_headers(sig="  "), MISSING),
        (_headers(ts=None), MISSING),
        (_headers(ts=""), MISSING),
        (_headers(sig="v0="), MALFORMED),
        (_headers(sig="v0"), MALFORMED),
        (_headers(sig=VALID_HEX), MALFORMED),
        (_headers(sig="v1=" + VALID_HEX), MALFORMED),
        (_headers(sig="V0=" + VALID_HEX), MALFORMED),
        (_headers(sig="sha256=" + VALID_HEX), MALFORMED),
        (_headers(sig=SL_SIG + "," + SL_SIG), MALFORMED),
        (_headers(sig=SL_SIG + " " + SL_SIG), MALFORMED),
        (_headers(sig=SL_SIG[:-1]), MALFORMED),  # odd-length hex
        (_headers(sig=SL_SIG[:-2]), MISMATCH),  # truncated
        (_headers(sig=SL_SIG + "00"), MISMATCH),  # extended
        (_headers(sig=SL_SIG[:-2] + "zz"), MALFORMED),
        (_headers(sig=SL_SIG + " "), MALFORMED),
        (_headers(sig=SL_SIG + "é"), MALFORMED),
        (_headers(sig=SL_SIG + "\x00"), MALFORMED),
        (_headers(sig=SL_SIG + "\r\n"), MALFORMED),
        (_headers(sig="v0=" + VALID_HEX.upper()), "accepted"),  # same bytes
        (_headers(sig="v0=" + hashlib.sha1(b"x").hexdigest()), MISMATCH),  # SHA-1 length
        (_headers(sig="v0=" + "a" * 10_000), (MalformedHeader, "header_too_long")),
        (_headers(ts=str(SL_TS + 1)), MISMATCH),
        (_headers(ts="0" + str(SL_TS)), BAD_TS),  # leading zero refused
        (_headers(ts=" " + str(SL_TS)), BAD_TS),
        (_headers(ts=str(SL_TS) + ".0"), BAD_TS),
        (_headers(ts="-1"), BAD_TS),
        (_headers(ts="1e9"), BAD_TS),
        (_headers(ts="0x65"), BAD_TS),
        (_headers(ts="nan"), BAD_TS),
        (_headers(ts="9" * 4000), BAD_TS),
        (_headers(ts="１５３１４２０６１８"), MALFORMED),
    ],
)
def test_hostile_headers(headers: dict[str, str], expected: object) -> None:
    assert _attempt(headers) == expected


def test_duplicate_header_lines() -> None:
    forged = "v0=" + "00" * 32
    for name, good, bad in [
        ("X-Slack-Signature", SL_SIG, forged),
        ("X-Slack-Request-Timestamp", str(SL_TS), str(SL_TS + 1)),
    ]:
        for pair in ((good, bad), (bad, good)):
            lines = [(k, v) for k, v in _headers().items() if k != name]
            lines += [(name, pair[0]), (name.lower(), pair[1])]
            assert _attempt(Headers(lines)) == (MalformedHeader, "duplicate_header")


def test_errors_do_not_leak() -> None:
    with pytest.raises(SignatureMismatch) as info:
        _verifier("wrong-secret").verify(SL_BODY, _headers(), now=SL_TS)
    expected = hmac.digest(b"wrong-secret", f"v0:{SL_TS}:".encode() + SL_BODY, "sha256").hex()
    text = str(info.value) + repr(info.value)
    for part in ("wrong-secret", expected, VALID_HEX, "xyzz0WbapA4vBCDEFasx0q6G"):
        assert part not in text
