"""Audit events: one per verification, for every outcome the core produces, leak-audited.

Each case of the bad-input checklist (shared/SECURITY.md) that the core can produce on its own
is run through a Verifier with an ``on_event`` sink; the event must carry the outcome, the
reason and status of the exception that was raised, and nothing of the secret, the expected
or presented signature, the signature header or the body. The default sink (the ``hookseal``
logger) is audited the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from hookseal import (
    Headers,
    JSONLinesSink,
    ReplayedDelivery,
    Signer,
    VerificationError,
    VerificationEvent,
    Verifier,
)
from hookseal.network import IPAllowlist
from hookseal.schemes import HMACScheme, StandardWebhooks
from hookseal.stores.memory import MemoryNonceStore

from ._leaks import assert_no_leak, event_text

NOW = 1_700_000_000
SECRET = "events-secret-Zq7!0123456789abcdef"
OLD_SECRET = "events-old-secret-9876543210fedcba"
SECRETS = [OLD_SECRET, SECRET]
BODY = b'{"type":"invoice.paid","amount":4200,"customer":"cus_Q8f3kPzL1"}'
MSG_ID = "evt_0f9e8d7c6b5a"
PEER = "203.0.113.7"
SIG = "X-Signature"
SCHEME = HMACScheme(
    SIG,
    prefix="sha256=",
    timestamp_header="X-Timestamp",
    id_header="X-Id",
    template="{id}.{timestamp}.{body}",
)


def _mac(secret: str, msg_id: str, ts: int | str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()


def _signed(body: bytes = BODY, ts: int = NOW, msg_id: str = MSG_ID) -> dict[str, str]:
    return Signer(SCHEME, SECRET).sign(body, timestamp=ts, msg_id=msg_id)


class _FailingStore:
    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        raise ConnectionError("redis is down at 10.0.0.5:6379")


def _full_store() -> MemoryNonceStore:
    store = MemoryNonceStore(max_entries=1)
    store.reserve(b"x" * 16, NOW + 10_000, NOW)
    return store


@dataclass
class Case:
    """One delivery through the core and the event it must produce."""

    name: str
    reason: str | None
    status: int
    headers: Callable[[], Any] = _signed
    body: bytes = BODY
    options: dict[str, Any] = field(default_factory=dict)
    remote_addr: str | None = PEER
    scheme: Any = SCHEME
    repeat: int = 1  # verify this many times; the event of the last attempt is checked
    event_msg_id: str | None = MSG_ID


def _with(**changes: str) -> Callable[[], dict[str, str]]:
    def build() -> dict[str, str]:
        headers = _signed()
        headers.update(changes)
        return headers

    return build


def _without(name: str) -> Callable[[], dict[str, str]]:
    def build() -> dict[str, str]:
        headers = _signed()
        del headers[name]
        return headers

    return build


def _genuine_sig() -> str:
    return _signed()[SIG]


CASES = [
    Case("accepted", None, 200),
    Case(
        "accepted-old-key",
        None,
        200,
        lambda: Signer(SCHEME, OLD_SECRET).sign(BODY, timestamp=NOW, msg_id=MSG_ID),
    ),
    # rows 1-2: absent or blank signature header
    Case("missing", "missing_header", 401, _without(SIG)),
    Case("blank", "missing_header", 401, _with(**{SIG: "   "})),
    # row 3: prefix only
    Case("prefix-only", "malformed_header", 400, _with(**{SIG: "sha256="})),
    # row 4: truncated / extended
    Case("truncated", "signature_mismatch", 401, _with(**{SIG: _genuine_sig()[:-2]})),
    Case("odd-hex", "malformed_header", 400, _with(**{SIG: _genuine_sig()[:-1]})),
    Case("extended", "signature_mismatch", 401, _with(**{SIG: _genuine_sig() + "00"})),
    # row 5: junk after a valid signature
    Case("junk", "malformed_header", 400, _with(**{SIG: _genuine_sig() + "!!!"})),
    # row 6: other secret
    Case(
        "other-secret",
        "signature_mismatch",
        401,
        lambda: Signer(SCHEME, "not-it").sign(BODY, timestamp=NOW, msg_id=MSG_ID),
    ),
    # rows 7-9: body changed, re-serialised, non-UTF-8
    Case("body-changed", "signature_mismatch", 401, body=BODY.replace(b"4200", b"4201")),
    Case("body-newline", "signature_mismatch", 401, body=BODY + b"\n"),
    Case(
        "body-reserialised", "signature_mismatch", 401, body=json.dumps(json.loads(BODY)).encode()
    ),
    Case("body-binary", "signature_mismatch", 401, body=b"\xff\xfe" + BODY),
    # row 10: too many signatures, huge header
    Case(
        "too-many",
        "too_many_signatures",
        400,
        _with(**{SIG: ",".join([_genuine_sig()] * 9)}),
    ),
    Case("too-long", "header_too_long", 400, _with(**{SIG: "sha256=" + "ab" * 5000})),
    # row 11: non-ASCII and control characters
    Case("non-ascii", "malformed_header", 400, _with(**{SIG: _genuine_sig() + "é"})),
    Case("control", "malformed_header", 400, _with(**{SIG: _genuine_sig() + "\r\n"})),
    # row 12: duplicated header lines
    Case(
        "duplicate",
        "duplicate_header",
        400,
        lambda: Headers([*_signed().items(), (SIG, "sha256=" + "00" * 32)]),
    ),
    # row 14: only unsupported versions (Standard Webhooks v2)
    Case(
        "unsupported",
        "no_supported_signature",
        401,
        lambda: {
            "webhook-id": MSG_ID,
            "webhook-timestamp": str(NOW),
            "webhook-signature": "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        },
        scheme=StandardWebhooks(),
    ),
    # rows 17-19: timestamps
    Case("too-old", "timestamp_too_old", 401, lambda: _signed(ts=NOW - 301)),
    Case("in-future", "timestamp_in_future", 401, lambda: _signed(ts=NOW + 301)),
    Case("bad-timestamp", "malformed_timestamp", 400, _with(**{"X-Timestamp": "1e9"})),
    # row 20: timestamp moved by one second
    Case("moved-timestamp", "signature_mismatch", 401, _with(**{"X-Timestamp": str(NOW + 1)})),
    # row 21: exact replay
    Case("replayed", "replayed", 409, repeat=2),
    # rows 23-24: nonce store full or failing
    Case("store-full", "nonce_store_full", 503, options={"nonce_store": "full"}),
    Case("store-down", "nonce_store_unavailable", 503, options={"nonce_store": "failing"}),
    # row 25: message ids too long or holding a separator
    Case(
        "long-id",
        "malformed_header",
        400,
        lambda: _signed(msg_id="i" * 300),
        event_msg_id="i" * 64 + "...",
    ),
    Case("id-with-dot", "malformed_header", 400, lambda: _signed(msg_id="a.b"), event_msg_id="a.b"),
    # row 26: body too large
    Case("too-large", "payload_too_large", 413, options={"max_body_bytes": 32}),
    # row 27: forbidden and malformed peer addresses
    Case("forbidden", "forbidden_address", 403, options={"allowlist": "10/8"}),
    Case(
        "malformed-peer",
        "malformed_address",
        403,
        options={"allowlist": "10/8"},
        remote_addr="unknown",
    ),
]


def _options(case: Case) -> dict[str, Any]:
    options = dict(case.options)
    store = options.get("nonce_store")
    if store == "full":
        options["nonce_store"] = _full_store()
    elif store == "failing":
        options["nonce_store"] = _FailingStore()
    if options.get("allowlist") == "10/8":
        options["allowlist"] = IPAllowlist(["10.0.0.0/8"])
    return options


def _run(case: Case, sink: Callable[[VerificationEvent], None] | None) -> VerificationError | None:
    secrets = SECRETS if case.scheme is SCHEME else "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    verifier = Verifier(case.scheme, secrets, on_event=sink, **_options(case))
    error: VerificationError | None = None
    for _ in range(case.repeat):
        try:
            verifier.verify(case.body, case.headers(), remote_addr=case.remote_addr, now=NOW)
        except VerificationError as exc:
            error = exc
    return error


def _audit(text: str, case: Case) -> None:
    headers = case.headers()
    values = [v for k, v in headers.items() if k.lower() not in ("x-id", "webhook-id")]
    assert_no_leak(
        text,
        secrets=[s.encode() for s in SECRETS],
        signatures=[
            _mac(SECRET, MSG_ID, NOW, BODY),
            _mac(OLD_SECRET, MSG_ID, NOW, BODY),
            _mac(SECRET, MSG_ID, NOW, case.body),
            _mac(SECRET, MSG_ID, NOW - 301, BODY),
            _mac(SECRET, MSG_ID, NOW + 301, BODY),
        ],
        body=case.body,
        header_values=[v for v in values if len(v) > 12 and v != str(NOW)],
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_one_event_per_verification_with_the_right_fields(case: Case) -> None:
    events: list[VerificationEvent] = []
    error = _run(case, events.append)
    assert len(events) == case.repeat
    event = events[-1]
    if case.reason is None:
        assert error is None
        assert event.outcome == "accepted"
        assert event.reason is None
        assert event.status_code == 200
        assert event.timestamp == NOW  # the signed timestamp
        assert event.key_index == (0 if case.name == "accepted-old-key" else 1)
    else:
        assert error is not None
        assert event.outcome == "rejected"
        assert event.reason == error.reason == case.reason
        assert event.status_code == error.status_code
        assert event.timestamp is None
        assert event.key_index is None
    assert event.status_code == case.status
    assert event.scheme == case.scheme.name
    assert event.msg_id == case.event_msg_id
    assert event.remote_addr == case.remote_addr
    assert 0 <= event.duration < 5
    _audit(event_text(event), case)
    if error is not None:
        _audit(str(error) + repr(error), case)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_default_sink_logs_rejections_without_leaks(
    case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="hookseal"):
        error = _run(case, None)
    lines = [r for r in caplog.records if "delivery" in r.getMessage()]
    assert len(lines) == case.repeat
    last = lines[-1]
    if error is None:
        assert last.levelno == logging.DEBUG
        assert "accepted delivery" in last.getMessage()
    else:
        assert last.levelno == logging.WARNING
        assert f"reason={error.reason}" in last.getMessage()
    _audit(caplog.text, case)


def test_status_codes_are_the_documented_ones() -> None:
    # Every reason maps to the status its exception class documents.
    seen = {}
    for case in CASES:
        events: list[VerificationEvent] = []
        _run(case, events.append)
        seen[events[-1].reason] = events[-1].status_code
    assert seen == {
        None: 200,
        "missing_header": 401,
        "malformed_header": 400,
        "signature_mismatch": 401,
        "too_many_signatures": 400,
        "header_too_long": 400,
        "duplicate_header": 400,
        "no_supported_signature": 401,
        "timestamp_too_old": 401,
        "timestamp_in_future": 401,
        "malformed_timestamp": 400,
        "replayed": 409,
        "nonce_store_full": 503,
        "nonce_store_unavailable": 503,
        "payload_too_large": 413,
        "forbidden_address": 403,
        "malformed_address": 403,
    }


# --- escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg_id", "logged"),
    [
        ("a b", "a\\x20b"),  # a space could forge "key=value" fields in a text log
        ("a\\x0ab", "a\\x5cx0ab"),  # a literal escape stays distinguishable
        ("x" * 65, "x" * 64 + "..."),
    ],
)
def test_message_ids_are_escaped_and_truncated(msg_id: str, logged: str) -> None:
    events: list[VerificationEvent] = []
    verifier = Verifier(SCHEME, SECRETS, on_event=events.append)
    with pytest.raises(VerificationError):
        verifier.verify(BODY, _with(**{"X-Id": msg_id})(), now=NOW)
    assert events[0].msg_id == logged


def test_peer_address_is_escaped() -> None:
    events: list[VerificationEvent] = []
    verifier = Verifier(SCHEME, SECRETS, on_event=events.append)
    verifier.verify(BODY, _signed(), remote_addr="1.2.3.4\r\nFAKE", now=NOW)
    assert events[0].remote_addr == "1.2.3.4\\x0d\\x0aFAKE"


def test_header_lines_given_as_pairs_still_give_the_message_id() -> None:
    events: list[VerificationEvent] = []
    verifier = Verifier(SCHEME, SECRETS, on_event=events.append)
    pairs = [(k, v) for k, v in _signed().items() if k != SIG]
    with pytest.raises(VerificationError):
        verifier.verify(BODY, pairs, now=NOW)
    assert events[0].msg_id == MSG_ID


# --- a failing callback ---------------------------------------------------------------------


def _broken_sink(event: VerificationEvent) -> None:
    raise RuntimeError("sink exploded")


def test_a_failing_callback_never_changes_the_verdict(caplog: pytest.LogCaptureFixture) -> None:
    verifier = Verifier(SCHEME, SECRETS, on_event=_broken_sink)
    with caplog.at_level(logging.ERROR, logger="hookseal"):
        assert verifier.verify(BODY, _signed(), now=NOW).body == BODY
        with pytest.raises(ReplayedDelivery):
            verifier.verify(BODY, _signed(), now=NOW)
        for number in range(3):
            with pytest.raises(VerificationError) as caught:
                verifier.verify(BODY, _with(**{"X-Id": f"n{number}"})(), now=NOW)
            assert caught.value.reason == "signature_mismatch"
    failures = [r for r in caplog.records if "on_event callback failed" in r.getMessage()]
    assert len(failures) == 1  # logged once per verifier, not once per request
    assert failures[0].exc_info is not None


def test_each_verifier_logs_its_own_failing_callback_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="hookseal"):
        for _ in range(2):
            verifier = Verifier(SCHEME, SECRETS, on_event=_broken_sink, nonce_store=None)
            verifier.verify(BODY, _signed(), now=NOW)
            verifier.verify(BODY, _signed(), now=NOW)
    assert sum("on_event callback failed" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.asyncio
async def test_async_verification_emits_the_same_events() -> None:
    events: list[VerificationEvent] = []
    verifier = Verifier(SCHEME, SECRETS, on_event=events.append)
    await verifier.averify(BODY, _signed(), remote_addr=PEER, now=NOW)
    with pytest.raises(ReplayedDelivery):
        await verifier.averify(BODY, _signed(), remote_addr=PEER, now=NOW)
    assert [e.outcome for e in events] == ["accepted", "rejected"]
    assert events[1].reason == "replayed"
    assert events[0].timestamp == NOW


@pytest.mark.asyncio
async def test_async_failing_callback_keeps_the_verdict() -> None:
    verifier = Verifier(SCHEME, SECRETS, on_event=_broken_sink)
    assert (await verifier.averify(BODY, _signed(), now=NOW)).body == BODY


# --- the JSON-lines sink --------------------------------------------------------------------


def test_json_lines_sink_writes_one_object_per_verification() -> None:
    stream = io.StringIO()
    verifier = Verifier(SCHEME, SECRETS, on_event=JSONLinesSink(stream))
    verifier.verify(BODY, _signed(), remote_addr=PEER, now=NOW)
    with pytest.raises(VerificationError):
        verifier.verify(BODY + b"!", _signed(), remote_addr=PEER, now=NOW)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert set(records[0]) == {
        "outcome",
        "reason",
        "scheme",
        "msg_id",
        "timestamp",
        "key_index",
        "remote_addr",
        "duration",
        "status_code",
        "at",
        "client_addr",
    }
    assert records[0]["client_addr"] is None  # no allowlist, so no resolved client
    assert abs(records[0]["at"] - time.time()) < 60  # wall-clock time of the event
    assert records[0]["outcome"] == "accepted"
    assert records[0]["timestamp"] == NOW
    assert records[1]["reason"] == "signature_mismatch"
    assert repr(JSONLinesSink(stream)) == "JSONLinesSink()"
    assert_no_leak(
        stream.getvalue(),
        secrets=[s.encode() for s in SECRETS],
        signatures=[_mac(SECRET, MSG_ID, NOW, BODY), _mac(SECRET, MSG_ID, NOW, BODY + b"!")],
        body=BODY,
    )


def test_leak_audit_catches_a_leak() -> None:
    # The audit itself must be able to fail: feed it text that leaks each kind of value.
    mac = _mac(SECRET, MSG_ID, NOW, BODY)
    for leaked in (SECRET, mac.hex(), BODY[10:26].decode(), SECRET.encode().hex()):
        with pytest.raises(AssertionError):
            assert_no_leak(
                f"reason=x {leaked}", secrets=[SECRET.encode()], signatures=[mac], body=BODY
            )


def test_log_escaping_covers_every_plane() -> None:
    """Line separators and astral characters are escaped, not written raw into a log line."""
    from hookseal._events import escape_for_log

    assert escape_for_log("a\u2028b\U0001f600") == "a\\u2028b\\U0001f600"
