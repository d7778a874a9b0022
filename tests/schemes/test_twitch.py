"""Twitch EventSub: ``sha256=<hex>`` over ``message id + RFC 3339 timestamp + body``.

Twitch publishes no secret/body/signature example and no official Python SDK, so these tests
are derived from the algorithm as documented at
https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message
("derived"). The timestamps have the shape Twitch sends (RFC 3339 in UTC with nanoseconds).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac

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
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal.schemes._rfc3339 import parse_rfc3339
from hookseal.schemes.twitch import Twitch
from hookseal.stores.memory import MemoryNonceStore

SECRET = "s3cRe7-of-the-subscription"
MSG_ID = "e76c6bd4-55c9-4987-8304-da1588d8988b"
RAW_TS = "2023-11-14T22:13:20.123456789Z"
NOW = calendar.timegm((2023, 11, 14, 22, 13, 20, 0, 0, 0))
BODY = b'{"subscription":{"type":"channel.follow"},"event":{"user_name":"d\xc3\xa9mo"}}'
SIG, TS, ID = (
    "Twitch-Eventsub-Message-Signature",
    "Twitch-Eventsub-Message-Timestamp",
    "Twitch-Eventsub-Message-Id",
)


def _headers(
    msg_id: str = MSG_ID, raw_ts: str = RAW_TS, body: bytes = BODY, secret: str = SECRET
) -> dict[str, str]:
    mac = hmac.new(secret.encode(), (msg_id + raw_ts).encode() + body, hashlib.sha256)
    return {ID: msg_id, TS: raw_ts, SIG: "sha256=" + mac.hexdigest()}


def _verifier(secrets: object = SECRET, **options: object) -> Verifier:
    return Verifier(Twitch(), secrets, **options)  # type: ignore[arg-type]


def test_documented_algorithm_verifies() -> None:
    verified = _verifier().verify(BODY, _headers(), now=NOW)
    assert verified.scheme == "twitch"
    assert verified.timestamp == NOW
    assert verified.msg_id == MSG_ID


@pytest.mark.parametrize(
    "raw_ts",
    ["2023-11-14T22:13:20Z", "2023-11-14T22:13:20.5Z", "2023-11-14T23:13:20+01:00"],
)
def test_timestamp_spellings_rfc3339_allows(raw_ts: str) -> None:
    verified = _verifier(nonce_store=None).verify(BODY, _headers(raw_ts=raw_ts), now=NOW)
    assert verified.timestamp == NOW


def test_signer_round_trip() -> None:
    headers = Signer(Twitch(), SECRET).sign(BODY, timestamp=NOW, msg_id=MSG_ID)
    assert headers == _headers(raw_ts="2023-11-14T22:13:20Z")
    assert _verifier().verify(BODY, headers, now=NOW).msg_id == MSG_ID


@given(body=st.binary(max_size=200))
def test_round_trip_any_body(body: bytes) -> None:
    headers = Signer(Twitch(), SECRET).sign(body, timestamp=NOW)
    assert _verifier(nonce_store=None).verify(body, headers, now=NOW).body == body


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY + b"\n", _headers()),
        (BODY, _headers(secret="another-secret-of-ten")),
        (BODY, {**_headers(), ID: MSG_ID[:-1] + "c"}),
        (BODY, {**_headers(), TS: "2023-11-14T22:13:20.123456788Z"}),
    ],
    ids=["body", "secret", "id", "timestamp"],
)
def test_tampering_is_a_mismatch(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, headers, now=NOW)


def test_boundary_between_id_and_timestamp_cannot_move() -> None:
    # The same signed bytes cut elsewhere: the id takes the timestamp's first digit.
    genuine = _headers()
    moved = {**genuine, ID: MSG_ID + "2", TS: RAW_TS[1:]}
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, moved, now=NOW)
    assert caught.value.reason == "malformed_timestamp"
    # ...or the id ends with a timestamp-like tail: refused for the ':' before any MAC.
    with pytest.raises(MalformedHeader):
        _verifier().verify(BODY, {**genuine, ID: "x2023-11-14T22:13:20Z"}, now=NOW)


def test_window_both_ways_with_twitchs_ten_minutes() -> None:
    verifier = _verifier(tolerance=600, nonce_store=None)
    assert verifier.verify(BODY, _headers(), now=NOW + 600)
    with pytest.raises(TimestampOutOfTolerance) as old:
        verifier.verify(BODY, _headers(), now=NOW + 601)
    assert old.value.reason == "timestamp_too_old"
    with pytest.raises(TimestampOutOfTolerance) as future:
        verifier.verify(BODY, _headers(), now=NOW - 601)
    assert future.value.reason == "timestamp_in_future"


def test_exact_replay_is_refused() -> None:
    verifier = _verifier(nonce_store=MemoryNonceStore())
    verifier.verify(BODY, _headers(), now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, _headers(), now=NOW + 1)


_H = "sha256=" + "aa" * 32


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({SIG: None}, MissingHeader, "missing_header"),
        ({ID: None}, MissingHeader, "missing_header"),
        ({TS: None}, MissingHeader, "missing_header"),
        ({SIG: ""}, MissingHeader, "missing_header"),
        ({SIG: "sha256="}, MalformedHeader, "malformed_header"),
        ({SIG: "aa" * 32}, MalformedHeader, "malformed_header"),
        ({SIG: "sha1=" + "aa" * 20}, MalformedHeader, "malformed_header"),
        ({SIG: _H + "a"}, MalformedHeader, "malformed_header"),
        ({SIG: _H + " "}, MalformedHeader, "malformed_header"),
        ({SIG: _H[:-2] + "zz"}, MalformedHeader, "malformed_header"),
        ({SIG: _H}, SignatureMismatch, "signature_mismatch"),
        ({SIG: _H[:-2]}, SignatureMismatch, "signature_mismatch"),
        ({SIG: "sha256=" + "a" * 5000}, MalformedHeader, "header_too_long"),
        ({ID: "a b"}, MalformedHeader, "malformed_header"),
        ({ID: "x" * 257}, MalformedHeader, "malformed_header"),
        ({ID: "id\x00"}, MalformedHeader, "malformed_header"),
        ({TS: "1700000000"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2023-11-14 22:13:20Z"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2023-11-14T22:13:20"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2023-11-14T22:13:20.1234567890Z"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2023-02-30T22:13:20Z"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2023-11-14T24:00:00Z"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2023-11-14T22:13:20+24:00"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "+2023-11-14T22:13:20Z"}, MalformedHeader, "malformed_timestamp"),
        ({TS: "2023-11-14T22:13:20Z" + "0" * 40}, MalformedHeader, "malformed_timestamp"),
    ],
)
def test_hostile_headers(
    change: dict[str, str | None], error: type[VerificationError], reason: str
) -> None:
    headers = {k: v for k, v in {**_headers(), **change}.items() if v is not None}
    with pytest.raises(error) as caught:
        _verifier().verify(BODY, headers, now=NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize("name", [SIG, TS, ID])
def test_duplicated_header_is_refused(name: str) -> None:
    good = _headers()
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, Headers([*good.items(), (name, good[name])]), now=NOW)
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize("secret", ["short", "x" * 101, "sécret-of-twitch"])
def test_secret_outside_twitchs_rules_is_a_configuration_error(secret: str) -> None:
    with pytest.raises(ConfigurationError):
        _verifier(secret)


@given(st.text(max_size=60))
def test_rfc3339_parser_raises_only_malformed_header(value: str) -> None:
    reason = "malformed_timestamp"
    try:
        parse_rfc3339(value, TS)
    except MalformedHeader as error:
        reason = error.reason
    assert reason == "malformed_timestamp"


def test_rfc3339_parser_is_linear_on_hostile_input() -> None:
    import time

    hostile = "2023-11-14T22:13:20." + "1" * 100_000
    started = time.perf_counter()
    with pytest.raises(MalformedHeader):
        parse_rfc3339(hostile, TS)
    assert time.perf_counter() - started < 0.05
