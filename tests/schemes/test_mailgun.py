"""Mailgun: HMAC-SHA256 (hex) of ``timestamp + token``, inside the JSON body.

Mailgun's docs show the algorithm but no secret/token/signature example, and its Python SDK
does not verify webhooks, so these tests are derived from the algorithm as documented at
https://documentation.mailgun.com/docs/mailgun/user-manual/events/webhooks/#securing-webhooks
("derived").
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import (
    MalformedHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal.schemes.mailgun import Mailgun
from hookseal.stores.memory import MemoryNonceStore

KEY = "key-http-webhook-signing-key"
NOW = 1_700_000_000
TOKEN = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
EVENT = {"event": "delivered", "id": "CPgfbmQMTCKtHW6uIWtuVe", "recipient": "alice@example.com"}


def _signature(key: str = KEY, ts: int | str = NOW, token: str = TOKEN) -> dict[str, str]:
    mac = hmac.new(key.encode(), f"{ts}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": str(ts), "token": token, "signature": mac}


def _body(signature: object = None, event: object = None) -> bytes:
    document = {
        "signature": _signature() if signature is None else signature,
        "event-data": EVENT if event is None else event,
    }
    return json.dumps(document).encode()


def _verifier(secrets: object = KEY, **options: object) -> Verifier:
    return Verifier(Mailgun(), secrets, **options)  # type: ignore[arg-type]


def test_documented_algorithm_verifies() -> None:
    verified = _verifier().verify(_body(), {}, now=NOW)
    assert verified.scheme == "mailgun"
    assert verified.timestamp == NOW
    assert verified.msg_id == TOKEN


def test_signature_object_helper_matches_the_algorithm() -> None:
    key = Mailgun().load_signing_key(KEY)
    assert Mailgun.signature_object(key, timestamp=NOW, token=TOKEN) == _signature()
    assert Signer(Mailgun(), KEY).sign(_body()) == {}


@given(token=st.text("0123456789abcdefABCDEF", min_size=1, max_size=60))
def test_any_token_round_trips(token: str) -> None:
    body = _body(_signature(token=token))
    assert _verifier(nonce_store=None).verify(body, {}, now=NOW).msg_id == token


def test_token_reuse_with_other_event_data_is_a_replay() -> None:
    # The event data is not signed: what stops a swapped body is that the token verifies once.
    verifier = _verifier(nonce_store=MemoryNonceStore())
    verifier.verify(_body(), {}, now=NOW)
    forged = _body(event={"event": "delivered", "recipient": "mallory@example.com"})
    with pytest.raises(ReplayedDelivery):
        verifier.verify(forged, {}, now=NOW + 1)


@pytest.mark.parametrize(
    "signature",
    [
        _signature(key="another-signing-key"),
        {**_signature(), "timestamp": str(NOW + 1)},
        {**_signature(), "token": TOKEN[:-1] + "1"},
        {**_signature(), "signature": "00" * 32},
    ],
    ids=["key", "timestamp", "token", "forged"],
)
def test_tampering_is_a_mismatch(signature: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(_body(signature), {}, now=NOW)


def test_digit_moved_between_timestamp_and_token_is_refused() -> None:
    signature = _signature(token="7" + TOKEN[1:])
    moved = {**signature, "timestamp": str(NOW) + "7", "token": TOKEN[1:]}
    with pytest.raises(TimestampOutOfTolerance):
        _verifier().verify(_body(moved), {}, now=NOW)


def test_window_both_ways() -> None:
    verifier = _verifier(nonce_store=None)
    assert verifier.verify(_body(), {}, now=NOW + 300)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(_body(), {}, now=NOW + 301)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(_body(), {}, now=NOW - 301)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"event-data": {}}',
        json.dumps({"signature": "t=1,v1=ab"}).encode(),
        _body({**_signature(), "timestamp": NOW}),  # a number, not a string
        _body({**_signature(), "token": ""}),
        _body({**_signature(), "token": "a b"}),
        _body({**_signature(), "token": "x" * 257}),
        _body({**_signature(), "signature": "zz" * 32}),
        _body({**_signature(), "signature": "aa" * 31}),
        _body({**_signature(), "timestamp": "1700000000.5"}),
        _body({**_signature(), "timestamp": "-1"}),
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=lambda b: ascii(b[:30]),
)
def test_malformed_bodies_are_400_never_a_parser_error(body: bytes) -> None:
    with pytest.raises(MalformedHeader):
        _verifier().verify(body, {}, now=NOW)


@given(st.binary(max_size=300))
def test_any_body_raises_only_verification_errors(body: bytes) -> None:
    try:
        _verifier(nonce_store=None).verify(body, {}, now=NOW)
    except VerificationError:
        return
    raise AssertionError("a random body verified")


@pytest.mark.parametrize(
    "body",
    [
        # The same member twice: parsers disagree on which one wins, so the body has no one
        # reading. Refused before the MAC, as Amazon SNS bodies are (the same strict parser).
        b'{"signature": %s, "event-data": {"event": "delivered"}, "event-data": {"event": "x"}}'
        % json.dumps(_signature()).encode(),
        b'{"signature": %s, "signature": %s}'
        % (json.dumps(_signature(ts=NOW - 1)).encode(), json.dumps(_signature()).encode()),
        b'{"signature": %s, "event-data": {"score": NaN}}' % json.dumps(_signature()).encode(),
        b'{"signature": %s, "event-data": {"score": -Infinity}}'
        % json.dumps(_signature()).encode(),
    ],
    ids=["duplicate-event-data", "duplicate-signature", "nan", "infinity"],
)
def test_ambiguous_json_is_refused_even_with_a_genuine_signature(body: bytes) -> None:
    with pytest.raises(MalformedHeader) as caught:
        _verifier(nonce_store=None).verify(body, {}, now=NOW)
    assert caught.value.reason == "malformed_header"
