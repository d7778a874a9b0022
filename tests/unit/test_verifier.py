"""Verifier entry points, the Verified result, audit events and what never leaks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import logging
import os

import pytest

from hookseal import (
    Delivery,
    Headers,
    JSONLinesSink,
    MalformedHeader,
    NonceStoreUnavailable,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    VerificationEvent,
    Verified,
    Verifier,
)
from hookseal.schemes import HMACScheme
from hookseal.stores.memory import MemoryNonceStore
from stable_ids import stable_repr

from ._support import BODY, NOW, SECRET

ID_TS = {
    "timestamp_header": "X-Timestamp",
    "id_header": "X-Id",
    "template": "{id}.{timestamp}.{body}",
}


# -- entry points ------------------------------------------------------------------------------


def test_verify_delivery(make_scheme, make_verifier, sign):
    scheme = make_scheme(**ID_TS)
    verifier = make_verifier(scheme)
    lines = list(sign(scheme).items())
    delivery = Delivery(
        BODY, lines, method="POST", url="https://example.test/hooks", remote_addr="192.0.2.7"
    )
    verified = verifier.verify_delivery(delivery, now=NOW)
    assert (verified.body, verified.msg_id, verified.timestamp) == (BODY, "msg1", NOW)
    assert "192.0.2.7" in repr(delivery)
    assert BODY.decode() not in repr(delivery)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify_delivery(delivery, now=NOW + 301)


def test_delivery_accepts_a_mapping_or_headers(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    verifier = make_verifier(scheme)
    headers = sign(scheme)
    assert verifier.verify_delivery(Delivery(BODY, headers), now=NOW).body == BODY
    assert verifier.verify_delivery(Delivery(BODY, Headers(headers)), now=NOW).body == BODY


def test_now_defaults_to_the_system_clock(make_scheme, make_verifier, sign):
    scheme = make_scheme(timestamp_header="X-Timestamp", template="{timestamp}.{body}")
    verifier = make_verifier(scheme)
    with pytest.raises(TimestampOutOfTolerance):  # NOW lies years in the past
        verifier.verify(BODY, sign(scheme, timestamp=NOW))
    assert verifier.verify(BODY, sign(scheme, timestamp=NOW), now=NOW).timestamp == NOW
    fresh = Signer(scheme, secret=SECRET).sign(BODY)  # signer's clock: now
    assert verifier.verify(BODY, fresh).timestamp == int(fresh["X-Timestamp"])


@pytest.mark.parametrize("body", ["text", None, 123, ["b"]], ids=stable_repr)
def test_non_bytes_body_is_a_type_error(body, make_scheme, make_verifier, sign):
    scheme = make_scheme()
    with pytest.raises(TypeError, match="raw request bytes"):
        make_verifier(scheme).verify(body, sign(scheme), now=NOW)


@pytest.mark.asyncio
async def test_averify(make_scheme, sign):
    scheme = make_scheme(**ID_TS)
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=MemoryNonceStore())
    headers = sign(scheme)
    verified = await verifier.averify(BODY, headers, now=NOW)
    assert (verified.body, verified.msg_id, verified.key_index) == (BODY, "msg1", 0)
    with pytest.raises(ReplayedDelivery):
        await verifier.averify(BODY, headers, now=NOW)
    with pytest.raises(SignatureMismatch):
        await verifier.averify(BODY + b" ", sign(scheme, msg_id="m2"), now=NOW)
    delivery = Delivery(BODY, sign(scheme, msg_id="m3"))
    assert (await verifier.averify_delivery(delivery, now=NOW)).msg_id == "m3"


class _AsyncOnlyStore:
    """A real (in-memory) store offering only the asynchronous protocol."""

    def __init__(self) -> None:
        self.seen: dict[bytes, float] = {}

    async def areserve(self, key: bytes, expires_at: float, now: float) -> bool:
        if key in self.seen:
            return False
        self.seen[key] = expires_at
        return True


class _SyncOnlyStore:
    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        fresh = key not in self.seen
        self.seen.add(key)
        return fresh


@pytest.mark.asyncio
@pytest.mark.parametrize("store_cls", [_AsyncOnlyStore, _SyncOnlyStore])
async def test_averify_with_async_and_sync_stores(store_cls, make_scheme, sign):
    scheme = make_scheme(**ID_TS)
    store = store_cls()
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=store)
    headers = sign(scheme)
    verified = await verifier.averify(BODY, headers, now=NOW)
    assert store.seen
    assert verified.replay_key in store.seen
    with pytest.raises(ReplayedDelivery):
        await verifier.averify(BODY, headers, now=NOW)


def test_store_expiry_covers_the_whole_window(make_scheme, sign):
    scheme = make_scheme(**ID_TS)
    store = _AsyncOnlyStore()

    class Recording(_SyncOnlyStore):
        def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
            store.seen[key] = expires_at
            return super().reserve(key, expires_at, now)

    verifier = Verifier(scheme, secrets=SECRET, nonce_store=Recording(), tolerance=60)
    verifier.verify(BODY, sign(scheme, timestamp=NOW + 60), now=NOW)
    (expires_at,) = store.seen.values()
    assert expires_at > NOW + 60 + 60  # the last moment the time check can still pass
    unsigned = make_scheme()
    retention = Verifier(unsigned, secrets=SECRET, nonce_store=Recording(), replay_retention=500)
    store.seen.clear()
    retention.verify(BODY, sign(unsigned), now=NOW)
    assert list(store.seen.values()) == [NOW + 500]


# -- Verified ----------------------------------------------------------------------------------


def test_verified_fields_and_json(make_scheme, make_verifier, sign):
    scheme = make_scheme(**ID_TS)
    verifier = make_verifier(scheme, secrets=["old", SECRET])
    verified = verifier.verify(BODY, sign(scheme, msg_id="evt_1"), now=NOW)
    assert isinstance(verified, Verified)
    assert verified.body is BODY or verified.body == BODY
    assert verified.timestamp == NOW
    assert verified.msg_id == "evt_1"
    assert verified.key_index == 1
    assert verified.key_id is None
    assert verified.scheme == "hmac"
    assert isinstance(verified.replay_key, bytes)
    assert len(verified.replay_key) == 16
    assert verified.json() == {"event": "ping", "id": 42}
    assert "evt_1" in repr(verified)
    assert "ping" not in repr(verified)


def test_verified_json_refuses_non_json(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    verified = make_verifier(scheme).verify(b"not json", sign(scheme, b"not json"), now=NOW)
    with pytest.raises(ValueError):
        verified.json()


def test_replay_key_is_what_was_signed(make_scheme, make_verifier, sign):
    # The identity covers every signed field: another body under the same id and timestamp
    # is another delivery (an endpoint sharing the store with this one may send it).
    scheme = make_scheme(**ID_TS)
    verifier = make_verifier(scheme)
    first = verifier.verify(BODY, sign(scheme, msg_id="a"), now=NOW)
    other_body = verifier.verify(b"{}", sign(scheme, b"{}", msg_id="a"), now=NOW)
    other_id = verifier.verify(BODY, sign(scheme, msg_id="b"), now=NOW)
    assert len({first.replay_key, other_body.replay_key, other_id.replay_key}) == 3


# -- nothing secret leaks --------------------------------------------------------------------


def _secret_forms(secret: str, body: bytes) -> list[str]:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return [secret, mac.hex(), mac.hex().upper(), base64.b64encode(mac).decode()]


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_errors_and_reprs_never_show_secret_or_expected_signature(
    encoding, make_scheme, make_verifier, sign
):
    secret = "Very-Secret-Value-1234"
    scheme = make_scheme(encoding=encoding, prefix="sha256=")
    verifier = Verifier(scheme, secrets=[secret], nonce_store=MemoryNonceStore())
    signer = Signer(scheme, secret=secret)
    body = b'{"card":"4242424242424242"}'
    genuine = signer.sign(body)["X-Signature"]
    forged = sign(scheme, body, secret="attacker")["X-Signature"]
    errors: list[VerificationError] = []
    for headers, sent in [
        ({"X-Signature": forged}, body),
        ({"X-Signature": genuine}, body + b"x"),
        ({"X-Signature": forged[:-4]}, body),
        ({"X-Signature": forged + "!!!"}, body),
        ({"X-Signature": "sha256=" + "0" * 64}, body),
        ({}, body),
    ]:
        with pytest.raises(VerificationError) as info:
            verifier.verify(sent, headers, now=NOW)
        errors.append(info.value)
    texts = [str(err) for err in errors] + [repr(err) for err in errors]
    texts += [repr(verifier), str(verifier), repr(signer), repr(scheme), repr(verifier._keys)]
    forbidden = _secret_forms(secret, body) + _secret_forms(secret, body + b"x") + ["4242"]
    for text in texts:
        for value in forbidden:
            assert value not in text, (value, text)
    for err in errors:
        assert not any(isinstance(v, (bytes, bytearray)) for v in vars(err).values()), (
            "exceptions carry no payload"
        )
    assert "keys=1" in repr(verifier)


# -- audit events ----------------------------------------------------------------------------


def test_events_for_accepted_and_rejected(make_scheme, sign):
    scheme = make_scheme(**ID_TS)
    events: list[VerificationEvent] = []
    verifier = Verifier(scheme, secrets=["old", SECRET], nonce_store=None, on_event=events.append)
    verifier.verify(BODY, sign(scheme, msg_id="ok1"), now=NOW, remote_addr="192.0.2.1")
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, sign(scheme, msg_id="bad1", secret="x"), now=NOW, remote_addr="::1")
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(BODY, sign(scheme, timestamp=NOW + 999), now=NOW)
    accepted, rejected, future = events
    assert (accepted.outcome, accepted.reason, accepted.status_code) == ("accepted", None, 200)
    assert (accepted.msg_id, accepted.timestamp, accepted.key_index) == ("ok1", NOW, 1)
    assert (accepted.scheme, accepted.remote_addr) == ("hmac", "192.0.2.1")
    assert accepted.duration >= 0
    assert (rejected.outcome, rejected.reason, rejected.status_code) == (
        "rejected",
        "signature_mismatch",
        401,
    )
    assert (rejected.msg_id, rejected.timestamp, rejected.key_index) == ("bad1", None, None)
    assert rejected.remote_addr == "::1"
    assert (future.reason, future.status_code) == ("timestamp_in_future", 401)


def test_event_msg_id_is_escaped_and_truncated(make_scheme, sign):
    scheme = make_scheme(id_header="X-Id")
    events: list[VerificationEvent] = []
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=None, on_event=events.append)
    headers = {**sign(scheme, secret="x"), "X-Id": "z" * 200}
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, headers, now=NOW, remote_addr="10.0.0.1\n\x1b[31m")
    (event,) = events
    assert event.msg_id == "z" * 64 + "..."
    assert event.remote_addr is not None
    assert event.remote_addr.isprintable()
    assert event.remote_addr.isascii()


def test_failing_callback_does_not_change_the_verdict(make_scheme, sign, caplog):
    scheme = make_scheme()

    def broken(event: VerificationEvent) -> None:
        raise RuntimeError("sink down")

    verifier = Verifier(scheme, secrets=SECRET, nonce_store=None, on_event=broken)
    with caplog.at_level(logging.ERROR, logger="hookseal"):
        assert verifier.verify(BODY, sign(scheme), now=NOW).body == BODY
        with pytest.raises(SignatureMismatch):
            verifier.verify(BODY, sign(scheme, secret="x"), now=NOW)
    # Logged (once per verifier, so a broken sink cannot flood the log); verdicts unchanged.
    assert sum("on_event callback failed" in r.getMessage() for r in caplog.records) == 1


def test_default_sink_logs_rejections_without_payload(make_scheme, sign, caplog):
    scheme = make_scheme()
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=None)
    forged = sign(scheme, secret="x")
    with caplog.at_level(logging.DEBUG, logger="hookseal"), pytest.raises(SignatureMismatch):
        verifier.verify(BODY, forged, now=NOW, remote_addr="198.51.100.9")
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = record.getMessage()
    assert "reason=signature_mismatch" in message
    assert "198.51.100.9" in message
    for leaked in [SECRET, forged["X-Signature"], "ping", *_secret_forms(SECRET, BODY)]:
        assert leaked not in message


def test_json_lines_sink(make_scheme, sign):
    scheme = make_scheme(**ID_TS)
    stream = io.StringIO()
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=None, on_event=JSONLinesSink(stream))
    verifier.verify(BODY, sign(scheme), now=NOW, remote_addr="192.0.2.1")
    forged = sign(scheme, secret="x", msg_id="m2")
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, forged, now=NOW)
    with pytest.raises(MalformedHeader):
        verifier.verify(BODY, [*sign(scheme).items(), ("X-Id", "dup")], now=NOW)
    output = stream.getvalue()
    assert output.endswith("\n")
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["outcome"] for line in lines] == ["accepted", "rejected", "rejected"]
    assert set(lines[0]) == {
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
    assert lines[0]["msg_id"] == "msg1"
    assert lines[0]["timestamp"] == NOW
    assert lines[1]["reason"] == "signature_mismatch"
    assert lines[2]["reason"] == "duplicate_header"
    assert SECRET not in output
    assert forged["X-Signature"] not in output
    assert "ping" not in output
    assert repr(JSONLinesSink(io.StringIO())) == "JSONLinesSink()"


def test_event_as_dict_round_trips():
    event = VerificationEvent(
        outcome="accepted",
        reason=None,
        scheme="hmac",
        msg_id="m",
        timestamp=1,
        key_index=0,
        remote_addr=None,
        duration=0.5,
        status_code=200,
    )
    assert VerificationEvent(**event.as_dict()) == event  # type: ignore[arg-type]


def test_verify_with_an_async_only_store_says_to_use_averify() -> None:
    class AsyncOnlyStore:
        def __init__(self) -> None:
            self.calls = 0

        async def areserve(self, key: bytes, expires_at: float, now: float) -> bool:
            self.calls += 1
            return True

    store = AsyncOnlyStore()
    scheme = HMACScheme(
        "X-Sig", timestamp_header="X-Ts", id_header="X-Id", template="{id}.{timestamp}.{body}"
    )
    verifier = Verifier(scheme, SECRET, nonce_store=store)
    headers = Signer(scheme, SECRET).sign(BODY, timestamp=NOW, msg_id="m1")
    with pytest.raises(NonceStoreUnavailable, match="averify"):
        verifier.verify(BODY, headers, now=NOW)
    assert store.calls == 0
    assert asyncio.run(verifier.averify(BODY, headers, now=NOW)).msg_id == "m1"
    assert store.calls == 1


def test_averify_runs_a_synchronous_store_off_the_event_loop() -> None:
    import threading

    threads: list[str] = []

    class SyncOnlyStore:
        def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
            threads.append(threading.current_thread().name)
            return True

    scheme = HMACScheme(
        "X-Sig", timestamp_header="X-Ts", id_header="X-Id", template="{id}.{timestamp}.{body}"
    )
    verifier = Verifier(scheme, SECRET, nonce_store=SyncOnlyStore())
    headers = Signer(scheme, SECRET).sign(BODY, timestamp=NOW, msg_id="m2")
    asyncio.run(verifier.averify(BODY, headers, now=NOW))
    assert len(threads) == 1
    assert threads[0] != threading.main_thread().name


# -- configuration is read-only ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("allowlist", None),
        ("nonce_store", None),
        ("scheme", HMACScheme("X-Other")),
        ("policy", None),
        ("limits", None),
        ("replay_retention", 1),
        ("_keys", ()),
        ("secrets", ["another-secret"]),
    ],
)
def test_configuration_cannot_be_reassigned(make_scheme, name, value):
    """A reassigned allowlist once let verify() accept what averify() refused."""
    verifier = Verifier(make_scheme(), [SECRET])
    with pytest.raises(AttributeError, match="read-only"):
        setattr(verifier, name, value)
    with pytest.raises(AttributeError, match="read-only"):
        delattr(verifier, name)


# -- timestamps that no sender sends --------------------------------------------------------------


@pytest.mark.parametrize("timestamp", [0, 1, 999_999_999])
@pytest.mark.parametrize("shape", ["dict", "lines"])
def test_timestamps_before_2001_are_refused_whatever_the_tolerance(
    make_scheme, sign, timestamp, shape
):
    scheme = make_scheme(timestamp_header="X-Timestamp", template="{timestamp}.{body}")
    verifier = Verifier(scheme, [SECRET], tolerance=2**40, nonce_store=None)
    headers = sign(scheme, timestamp=timestamp)
    given = headers if shape == "dict" else list(headers.items())
    with pytest.raises(TimestampOutOfTolerance) as raised:
        verifier.verify(BODY, given, now=NOW)
    assert raised.value.reason == "timestamp_too_old"


def test_a_test_clock_before_2001_still_refuses_non_positive_timestamps(make_scheme, sign):
    """Providers' old published examples run on a clock of their own time (e.g. t=12345)."""
    scheme = make_scheme(timestamp_header="X-Timestamp", template="{timestamp}.{body}")
    verifier = Verifier(scheme, [SECRET], tolerance=10**6, nonce_store=None)
    assert verifier.verify(BODY, sign(scheme, timestamp=12345), now=12345).timestamp == 12345
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(BODY, sign(scheme, timestamp=0), now=12345)


# -- cancellation between reservation and handler ----------------------------------------------


class _SlowStore:
    """Answers the first key at once and hangs on the second (a slow network store)."""

    def __init__(self) -> None:
        self.keys: set[bytes] = set()
        self.reached = asyncio.Event()

    async def areserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        if key in self.keys:
            return False
        if self.keys:
            self.reached.set()
            await asyncio.sleep(3600)
        self.keys.add(key)
        return True

    async def arelease(self, key: bytes, token: bytes, max_releases: int) -> bool:
        self.keys.discard(key)
        return True


@pytest.mark.asyncio
async def test_cancelled_averify_leaves_no_record_that_blocks_the_retry(make_scheme, sign):
    scheme = make_scheme()
    store = _SlowStore()
    # Two secrets: two replay keys; the second reservation is the slow one.
    verifier = Verifier(scheme, ["old-secret", SECRET], nonce_store=store)
    headers = sign(scheme)
    task = asyncio.ensure_future(verifier.averify(BODY, headers, now=NOW))
    await asyncio.wait_for(store.reached.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.keys == set()  # the first key's record was removed: the retry is not refused


# -- per-scheme body limits and separate age / skew limits (defaults task) --------------------

from hookseal import ConfigurationError, PayloadTooLarge  # noqa: E402


def test_body_limit_defaults_to_the_schemes_documented_size() -> None:
    from hookseal.schemes import (
        Discord,
        GitHub,
        Paddle,
        Shopify,
        Slack,
        StandardWebhooks,
        Stripe,
        Twilio,
        WorkOS,
    )
    from hookseal.schemes.shared_token import GitLab

    mib = 1024 * 1024
    github = Verifier(GitHub(), SECRET, nonce_store=None)
    assert github.limits.max_body_bytes == 25 * mib  # GitHub caps payloads at 25 MB
    assert Verifier(GitLab(), SECRET, nonce_store=None).limits.max_body_bytes == 25 * mib
    assert Verifier(Shopify(), SECRET, nonce_store=None).limits.max_body_bytes == 5 * mib
    for scheme in (Stripe(), Slack(), Paddle(), WorkOS(), Twilio()):
        assert Verifier(scheme, SECRET, nonce_store=None).limits.max_body_bytes == mib
    assert StandardWebhooks.default_max_body_bytes == mib
    assert Discord.default_max_body_bytes == mib
    # The generic scheme keeps the tight generic default; an explicit limit always wins.
    assert (
        Verifier(HMACScheme("X-Signature"), SECRET, nonce_store=None).limits.max_body_bytes == mib
    )
    assert (
        Verifier(GitHub(), SECRET, max_body_bytes=4096, nonce_store=None).limits.max_body_bytes
        == 4096
    )


def test_genuine_github_delivery_over_one_mib_is_accepted() -> None:
    from hookseal.schemes import GitHub

    body = b'{"commits":[' + b'"x",' * 400_000 + b'""]}'
    assert len(body) > 1024 * 1024
    mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    verifier = Verifier(GitHub(), SECRET, nonce_store=None)
    verifier.verify(body, {"X-Hub-Signature-256": "sha256=" + mac})
    with pytest.raises(PayloadTooLarge):
        verifier.verify(b"x" * (25 * 1024 * 1024 + 1), {"X-Hub-Signature-256": "sha256=" + mac})


def test_a_schemes_invalid_default_is_a_configuration_error() -> None:
    class Broken(HMACScheme):
        default_max_body_bytes = 0

    with pytest.raises(ConfigurationError, match="max_body_bytes"):
        Verifier(Broken("X-Signature"), SECRET, nonce_store=None)


def test_max_age_and_max_future_reach_every_window_check() -> None:
    from hookseal.schemes import Stripe, WorkOS
    from hookseal.testing import sign_delivery

    for scheme in (
        Stripe(),
        WorkOS(),
        HMACScheme("X-Signature", timestamp_header="X-Timestamp", template="{timestamp}.{body}"),
    ):
        verifier = Verifier(scheme, SECRET, nonce_store=None, max_age=86_400, max_future=0)
        assert (verifier.limits.tolerance, verifier.limits.max_age) == (300, 86_400)
        for offset, accepted in (
            (-86_400, True),
            (-3_600, True),
            (-86_401, False),
            (1, False),
            (0, True),
        ):
            delivery = sign_delivery(scheme, SECRET, BODY, timestamp=NOW + offset)
            # Both the prepared fast check (dict headers) and the general check (pairs).
            for headers in (dict(delivery.headers), list(delivery.headers.items())):
                if accepted:
                    verifier.verify(BODY, headers, now=NOW)
                else:
                    with pytest.raises(TimestampOutOfTolerance):
                        verifier.verify(BODY, headers, now=NOW)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_age": -1},
        {"max_future": -5},
        {"max_age": "1d"},
        {"max_future": 0.5},
        {"max_age": True},
    ],
)
def test_window_bounds_are_checked_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(HMACScheme("X-Signature"), SECRET, nonce_store=None, **kwargs)  # type: ignore[arg-type]


# -- a reservation that fails part-way leaves nothing that blocks the retry ----------------------


class _TimesOutAfterWrite(MemoryNonceStore):
    """Writes, then fails as a Redis call whose reply timed out does (the write took effect)."""

    def __init__(self, fail_on: int = 1) -> None:
        super().__init__()
        self.calls = 0
        self.fail_on = fail_on

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        written = super().reserve(key, expires_at, now, token)
        self.calls += 1
        if self.calls == self.fail_on:
            raise TimeoutError("the reply was not read in time")
        return written


@pytest.mark.parametrize("max_releases", [0, 3])
@pytest.mark.parametrize("fail_on", [1, 2])
def test_a_store_failure_after_the_write_does_not_block_the_retry(
    make_scheme, sign, max_releases, fail_on
):
    """The in-flight key is undone too, without counting a release (max_releases=0 too)."""
    scheme = make_scheme()
    store = _TimesOutAfterWrite(fail_on=fail_on)
    # Two secrets: two replay keys, so the failure can hit the first or the second.
    verifier = Verifier(
        scheme, ["old-secret", SECRET], nonce_store=store, max_releases=max_releases
    )
    headers = sign(scheme)
    with pytest.raises(NonceStoreUnavailable):
        verifier.verify(BODY, headers, now=NOW)
    assert len(store) == 0
    assert verifier.verify(BODY, headers, now=NOW + 30).key_index == 1  # the sender's retry
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, headers, now=NOW + 31)


@pytest.mark.asyncio
async def test_cancelled_while_the_store_is_writing_leaves_no_record(make_scheme, sign):
    """One key, cancelled while its (slow) reservation is in flight after the write."""

    class WritesThenHangs(MemoryNonceStore):
        reserve_blocks = True  # its areserve waits: averify must await it, not call reserve

        def __init__(self) -> None:
            super().__init__()
            self.reached = asyncio.Event()

        async def areserve(
            self, key: bytes, expires_at: float, now: float, token: bytes | None = None
        ) -> bool:
            written = self.reserve(key, expires_at, now, token)
            self.reached.set()
            await asyncio.sleep(3600)  # the reply never comes
            return written

    scheme = make_scheme()
    store = WritesThenHangs()
    verifier = Verifier(scheme, [SECRET], nonce_store=store)
    headers = sign(scheme)
    task = asyncio.ensure_future(verifier.averify(BODY, headers, now=NOW))
    await asyncio.wait_for(store.reached.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(store) == 0


def test_a_replay_rejection_traceback_holds_no_replay_material(make_scheme, sign):
    """The material is every configured key's MAC: a valid signature the sender never sent."""
    scheme = make_scheme()
    verifier = Verifier(scheme, ["old-secret", SECRET], nonce_store=MemoryNonceStore())
    headers = sign(scheme, secret="old-secret")
    verifier.verify(BODY, headers, now=NOW)
    with pytest.raises(ReplayedDelivery) as raised:
        verifier.verify(BODY, headers, now=NOW)
    tb = raised.value.__traceback__
    seen = 0
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, Verified):
                seen += 1
                assert value._replay_material is None
        tb = tb.tb_next
    assert seen


def test_a_schemes_options_are_read_only_once_a_verifier_uses_it():
    """A changed option applied to some paths and not others (or crashed with a 500)."""
    from hookseal.schemes import GitHub

    github = GitHub()
    github.allow_sha1 = False  # still configurable before any verifier uses it
    verifier = Verifier(github, ["secret"])
    with pytest.raises(AttributeError, match="read-only"):
        verifier.scheme.allow_sha1 = True  # type: ignore[misc]
    scheme = HMACScheme("X-Sig")
    Verifier(scheme, ["secret"])
    with pytest.raises(AttributeError, match="read-only"):
        scheme.template = "{timestamp}.{body}"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        del scheme.header


def test_a_replay_record_lives_as_long_as_max_age_admits_the_delivery(make_scheme, sign):
    """With max_age above tolerance the record once expired at timestamp + tolerance."""
    scheme = make_scheme(timestamp_header="X-Timestamp", template="{timestamp}.{body}")
    verifier = Verifier(
        scheme, [SECRET], max_age=86_400, max_future=0, nonce_store=MemoryNonceStore()
    )
    headers = sign(scheme, timestamp=NOW)
    verifier.verify(BODY, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, headers, now=NOW + 3600)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, headers, now=NOW + 86_400)


# -- store failures in averify, the clock option, the acceptance log line -----------------------


class _SyncStoreThatFails:
    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        raise OSError("down")


class _AsyncStoreThatFails:
    async def areserve(self, key: bytes, expires_at: float, now: float) -> bool:
        raise TimeoutError("slow")


@pytest.mark.parametrize("store", [_SyncStoreThatFails(), _AsyncStoreThatFails()], ids=stable_repr)
def test_averify_fails_closed_on_any_store_failure(make_scheme, sign, store):
    scheme = make_scheme(**ID_TS)
    verifier = Verifier(scheme, SECRET, nonce_store=store, on_event=lambda _event: None)
    with pytest.raises(NonceStoreUnavailable) as info:
        asyncio.run(verifier.averify(BODY, sign(scheme), now=NOW))
    assert info.value.status_code == 503
    assert "down" not in str(info.value)
    assert "slow" not in str(info.value)


def test_a_clock_that_is_not_callable_is_a_configuration_error(make_scheme):
    with pytest.raises(ConfigurationError, match="clock"):
        Verifier(make_scheme(), SECRET, clock=42)  # type: ignore[arg-type]


def test_debug_turned_on_later_still_logs_acceptances(make_scheme, sign, caplog):
    """The verifier reads the logger's own memo of isEnabledFor: it must not go stale."""
    scheme = make_scheme(**ID_TS)
    verifier = Verifier(scheme, SECRET, nonce_store=None)
    logger = logging.getLogger("hookseal")
    previous = logger.level
    try:
        logger.setLevel(logging.INFO)
        with caplog.at_level(logging.INFO, logger="hookseal"):
            verifier.verify(BODY, sign(scheme, msg_id="msg_a"), now=NOW)
            assert logger._cache.get(logging.DEBUG) is False  # the memo says "off"
            assert not [r for r in caplog.records if "accepted delivery" in r.getMessage()]
        with caplog.at_level(logging.DEBUG, logger="hookseal"):
            verifier.verify(BODY, sign(scheme, msg_id="msg_b"), now=NOW)
        accepted = [r.getMessage() for r in caplog.records if "accepted delivery" in r.getMessage()]
        assert len(accepted) == 1
        assert "msg_id=msg_b" in accepted[0]
    finally:
        logger.setLevel(previous)


class _PreparingScheme(HMACScheme):
    """A scheme that must download something first (as AmazonSNS does): it records the call."""

    def __init__(self) -> None:
        super().__init__("X-Signature")
        object.__setattr__(self, "prepared", [])

    async def aprepare(self, body, headers, keys, limits, now) -> None:  # type: ignore[override]
        self.prepared.append(len(body))


@pytest.mark.asyncio
async def test_averify_checks_size_and_address_before_aprepare() -> None:
    """A refused peer or an oversized body starts no download (the sync path's order)."""
    from hookseal import ForbiddenAddress, IPAllowlist, PayloadTooLarge

    scheme = _PreparingScheme()
    verifier = Verifier(
        scheme,
        [SECRET],
        nonce_store=None,
        max_body_bytes=64,
        allowlist=IPAllowlist(["192.0.2.0/24"]),
    )
    with pytest.raises(ForbiddenAddress):
        await verifier.averify(b"{}", {}, remote_addr="203.0.113.9", now=NOW)
    with pytest.raises(PayloadTooLarge):
        await verifier.averify(b"x" * 65, {}, remote_addr="192.0.2.1", now=NOW)
    assert scheme.prepared == []
    headers = Signer(scheme, SECRET).sign(b"{}", timestamp=int(NOW))
    await verifier.averify(b"{}", headers, remote_addr="192.0.2.1", now=NOW)
    assert scheme.prepared == [2]


def test_copies_of_a_verifier_are_the_verifier(make_scheme) -> None:
    """A deep-copied configuration (Litestar copies routers) keeps one replay store."""
    import copy

    verifier = Verifier(make_scheme(), [SECRET])
    assert copy.copy(verifier) is verifier
    assert copy.deepcopy({"hooks": verifier})["hooks"] is verifier


def test_the_handshakes_a_scheme_answers_are_declared_by_what_it_overrides() -> None:
    from hookseal.schemes import GitHub, Meta, Slack

    github = Verifier(GitHub(), ["s"], nonce_store=None)
    assert not github.answers_handshakes
    assert not github.answers_unsigned_handshakes
    assert github.unsigned_handshake_reply("GET", "hub.challenge=1", {}) is None
    slack = Verifier(Slack(), ["s"], nonce_store=None)
    assert slack.answers_handshakes
    assert not slack.answers_unsigned_handshakes
    meta = Verifier(Meta(verify_token="a-verify-token-long-enough"), ["s"], nonce_store=None)
    assert meta.answers_unsigned_handshakes


def test_a_handshake_method_set_on_the_scheme_instance_is_answered() -> None:
    from hookseal import HandshakeReply
    from hookseal.schemes import GitHub

    scheme = GitHub()
    scheme.unsigned_handshake_reply = lambda request, keys, limits: HandshakeReply(body=b"pong")  # type: ignore[method-assign]
    scheme.handshake_reply = lambda verified, keys: HandshakeReply(body=b"signed")  # type: ignore[method-assign]
    verifier = Verifier(scheme, ["s"], nonce_store=None)
    assert verifier.answers_unsigned_handshakes
    assert verifier.answers_handshakes
    reply = verifier.unsigned_handshake_reply("GET", "", {})
    assert reply is not None
    assert reply.body == b"pong"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")
def test_acceptance_tokens_differ_in_a_child_forked_without_pythons_fork_hooks() -> None:
    # uWSGI forks its workers with the C fork() (Python's at-fork hooks do not run), and
    # snapshot restores copy a process whole: a token derived from process state would then
    # repeat across workers, and one worker's undo could remove another's record.
    import ctypes

    from hookseal._verifier import _new_token

    libc_fork = ctypes.CDLL(None).fork
    read_end, write_end = os.pipe()
    pid = libc_fork()
    if pid == 0:  # the child: send one token, then leave at once
        try:
            os.write(write_end, _new_token())
        finally:
            os._exit(0)
    os.close(write_end)
    child_token = os.read(read_end, 64)
    os.close(read_end)
    os.waitpid(pid, 0)
    parent_token = _new_token()
    assert len(child_token) == len(parent_token) == 16
    assert child_token != parent_token
