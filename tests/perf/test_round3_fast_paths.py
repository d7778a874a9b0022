"""The third round of shortcuts agrees with the straightforward code it replaces.

- Standard Webhooks' fast path no longer looks for a space before the MAC (a spaced value can
  never equal canonical base64; on a mismatch the general path decides) and checks the window
  as ``abs(timestamp - now) <= tolerance``: both must still give the general path's verdict.
- ``MemoryNonceStore`` caches the expiry range of its last bucket: every key must still land
  in the bucket the formula gives, so purging never strands a live or an expired entry.
- The ASGI middleware remembers the text of header names it has decoded: the dict it builds
  must equal ``Headers``, and the memo stays bounded.
- The verifier reads the logger's own memo of ``isEnabledFor``: turning DEBUG on later must
  still log acceptances.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import (
    Headers,
    MalformedHeader,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal._limits import Limits
from hookseal.contrib import starlette as asgi
from hookseal.schemes import StandardWebhooks
from hookseal.stores.memory import MemoryNonceStore

from ._paths import fast_then_check

NOW = 1_700_000_000
SECRET = "whsec_" + base64.b64encode(b"r" * 32).decode()
SCHEME = StandardWebhooks()
KEYS = SCHEME.load_keys([SECRET])


def outcome(check: Any, *args: Any) -> tuple[Any, ...]:
    try:
        verified = check(*args)
    except VerificationError as exc:
        return ("rejected", type(exc), exc.reason, exc.header)
    return (
        "accepted",
        verified.timestamp,
        verified.msg_id,
        verified.key_index,
        verified.replay_key,
    )


def both(body: bytes, headers: dict[str, str], limits: Limits, now: float) -> tuple[Any, Any]:
    fast = outcome(fast_then_check, SCHEME, body, headers, KEYS, limits, now)
    general = outcome(SCHEME._check_general, body, headers, KEYS, limits, now)
    return fast, general


@given(
    position=st.integers(3, 46),
    replacement=st.sampled_from([" ", "  ", " v1,", "v1, ", " A"]),
    body=st.binary(max_size=40),
)
def test_standard_webhooks_spaced_signature_same_verdict(
    position: int, replacement: str, body: bytes
) -> None:
    headers = Signer(SCHEME, SECRET).sign(body, timestamp=NOW, msg_id="msg_1")
    signature = headers["webhook-signature"]
    # Keep the fast path's length (47) so the value reaches the comparison.
    spaced = (signature[:position] + replacement + signature[position:])[:47]
    headers["webhook-signature"] = spaced
    fast, general = both(body, headers, Limits(), NOW)
    assert fast == general
    assert fast[0] == "rejected"


@given(
    offset=st.integers(-302, 302),
    fraction=st.sampled_from([0.0, 0.25, 0.5, 0.999999, 1e-9]),
    tolerance=st.sampled_from([1, 60, 300]),
)
def test_standard_webhooks_window_edges_same_verdict(
    offset: int, fraction: float, tolerance: int
) -> None:
    body = b'{"window": true}'
    timestamp = NOW + offset
    headers = Signer(SCHEME, SECRET).sign(body, timestamp=timestamp, msg_id="msg_edge")
    now = NOW + fraction
    fast, general = both(body, headers, Limits(tolerance=tolerance), now)
    assert fast == general
    inside = now - tolerance <= timestamp <= now + tolerance
    assert (fast[0] == "accepted") == inside


def test_standard_webhooks_nan_clock_fails_closed_on_both_paths() -> None:
    body = b"{}"
    headers = Signer(SCHEME, SECRET).sign(body, timestamp=NOW, msg_id="msg_nan")
    fast, general = both(body, headers, Limits(), float("nan"))
    assert fast == general
    assert fast[:3] == ("rejected", TimestampOutOfTolerance, "timestamp_too_old")


def test_standard_webhooks_spaced_entries_still_verify() -> None:
    """A forged entry plus the genuine one is not a 47-character value: the general path."""
    body = b"{}"
    headers = Signer(SCHEME, SECRET).sign(body, timestamp=NOW, msg_id="msg_two")
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
    fast, general = both(body, headers, Limits(), NOW)
    assert fast == general
    assert fast[0] == "accepted"


# -- MemoryNonceStore: the cached bucket range ------------------------------------------------


def bucket_of(expires_at: float, granularity: int) -> int:
    return (int(expires_at) // granularity + 1) * granularity


@given(
    ops=st.lists(
        st.tuples(
            st.integers(0, 30),  # key
            st.floats(-25, 60, allow_nan=False),  # lifetime, fractional, sometimes negative
            st.integers(0, 7),  # time step
        ),
        max_size=50,
    ),
    granularity=st.sampled_from([1, 3, 10]),
    start=st.sampled_from([0.0, 5.5, 1_700_000_000.0]),
)
def test_memory_store_keys_land_in_the_formula_bucket(
    ops: list[tuple[int, float, int]], granularity: int, start: float
) -> None:
    store = MemoryNonceStore(1000, granularity=granularity)
    now = start
    placed: dict[bytes, list[int]] = {}
    for key_number, lifetime, step in ops:
        now += step
        key = key_number.to_bytes(4, "big")
        expires_at = now + lifetime
        if store.reserve(key, expires_at, now):
            placed.setdefault(key, []).append(bucket_of(expires_at, granularity))
        # Every bucket holds only keys placed in it by the formula.
        for bucket, keys in store._buckets.items():
            for held in keys:
                assert bucket in placed[held]
    # Every live entry is still in a pending bucket that comes after its expiry: a purge at
    # that bucket's time removes it, so nothing is stranded.
    for key, expiry in store._entries.items():
        assert any(
            key in store._buckets.get(bucket, ()) and bucket > expiry for bucket in placed[key]
        )


def test_memory_store_negative_expiry_is_not_cached() -> None:
    """Below zero int() truncates towards zero: such a bucket's range is never cached."""
    store = MemoryNonceStore(10, granularity=10)
    assert store.reserve(b"a", -5.5, -100.0)  # int(-5.5) == -5: bucket 0
    assert store._last_bucket == 0
    assert store._last_low > store._last_high  # an empty range: nothing cached
    assert store.reserve(b"b", -0.5, -100.0)  # int(-0.5) == 0: bucket 10, not 0
    assert store.reserve(b"c", -7.0, -100.0)
    assert store._buckets == {0: [b"a", b"c"], 10: [b"b"]}
    assert store.reserve(b"d", 3.0, -100.0)  # [0, 10) is bucket 10's range when cached
    assert store._buckets[10] == [b"b", b"d"]


# -- ASGI: remembered header-name text ---------------------------------------------------------

names = st.one_of(
    st.sampled_from([b"Webhook-ID", b"X-\xc0B", b"X-\xc9", b"host", b"A" * 65]),
    st.binary(min_size=1, max_size=70),
)


@given(raw=st.lists(st.tuples(names, st.binary(max_size=10)), max_size=6))
def test_remembered_names_match_headers(raw: list[tuple[bytes, bytes]]) -> None:
    expected = _lines(Headers(raw))
    assert _lines(asgi.scope_headers(raw)) == expected
    # Twice: the second time every short name comes from the memo.
    assert _lines(asgi.scope_headers(raw)) == expected
    plain = asgi._unrepeated_headers(raw)
    if plain is not None:
        assert {k: [v] for k, v in plain.items()} == expected
    for name, text in asgi._NAME_TEXT.items():
        assert text == name.decode("latin-1").lower()
        assert len(name) <= asgi._NAME_TEXT_LONGEST
    assert len(asgi._NAME_TEXT) <= asgi._NAME_TEXT_MAX


def _lines(headers: Headers) -> dict[str, list[str]]:
    return {name: headers.get_all(name) for name in headers}


def test_name_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asgi, "_NAME_TEXT", {})
    raw = [(f"x-name-{i}".encode(), b"v") for i in range(asgi._NAME_TEXT_MAX + 50)]
    plain = asgi._unrepeated_headers(raw)
    assert plain is not None
    assert len(plain) == len(raw)
    assert len(asgi._NAME_TEXT) == asgi._NAME_TEXT_MAX
    assert plain["x-name-300"] == "v"  # past the bound: decoded, not remembered


def test_values_that_are_not_bytes_are_decoded_as_headers_does_or_left_to_it() -> None:
    raw: list[tuple[Any, Any]] = [(b"webhook-id", bytearray(b"msg_\xe9"))]
    plain = asgi._unrepeated_headers(raw)
    assert plain is not None
    assert {k: [v] for k, v in plain.items()} == _lines(Headers(raw))
    assert _lines(asgi.scope_headers(raw)) == _lines(Headers(raw))
    for odd in ([(b"webhook-id", "msg_1")], [("webhook-id", b"msg_1")]):
        assert asgi._unrepeated_headers(odd) is None
        assert _lines(asgi.scope_headers(odd)) == _lines(Headers(odd))
    not_a_pair: list[Any] = [(b"webhook-id",)]
    assert asgi._unrepeated_headers(not_a_pair) is None
    with pytest.raises(MalformedHeader):
        asgi.scope_headers(not_a_pair)


# -- Verifier: the logger's memo ---------------------------------------------------------------


def test_debug_turned_on_later_still_logs_acceptances(caplog: pytest.LogCaptureFixture) -> None:
    verifier = Verifier(SCHEME, [SECRET], nonce_store=None)
    body = b"{}"
    logger = logging.getLogger("hookseal")
    previous = logger.level
    try:
        logger.setLevel(logging.INFO)
        with caplog.at_level(logging.INFO, logger="hookseal"):
            headers = Signer(SCHEME, SECRET).sign(body, timestamp=NOW, msg_id="msg_a")
            verifier.verify(body, headers, now=NOW)
            assert logger._cache.get(logging.DEBUG) is False  # the memo says "off"
            assert not [r for r in caplog.records if "accepted delivery" in r.getMessage()]
        with caplog.at_level(logging.DEBUG, logger="hookseal"):
            headers = Signer(SCHEME, SECRET).sign(body, timestamp=NOW, msg_id="msg_b")
            verifier.verify(body, headers, now=NOW)
        accepted = [r.getMessage() for r in caplog.records if "accepted delivery" in r.getMessage()]
        assert len(accepted) == 1
        assert "msg_id=msg_b" in accepted[0]
    finally:
        logger.setLevel(previous)
