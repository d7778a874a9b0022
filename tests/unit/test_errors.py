"""Every rejection: its class, reason code and status, and that it happens before crypto."""

from __future__ import annotations

import pytest

from hookseal import (
    Delivery,
    ForbiddenAddress,
    Headers,
    MalformedHeader,
    MissingHeader,
    NonceStoreUnavailable,
    PayloadTooLarge,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal.stores.memory import MemoryNonceStore

from ._support import BODY, NOW, SECRET

ID_TS = {
    "timestamp_header": "X-Timestamp",
    "id_header": "X-Id",
    "template": "{id}.{timestamp}.{body}",
}
TS = {"timestamp_header": "X-Timestamp", "template": "{timestamp}.{body}"}


def _reject(verifier, headers, body=BODY, now=NOW):
    with pytest.raises(VerificationError) as info:
        verifier.verify(body, headers, now=now)
    return info.value


# -- the tree --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "reason", "status"),
    [
        (MissingHeader, "missing_header", 401),
        (MalformedHeader, "malformed_header", 400),
        (SignatureMismatch, "signature_mismatch", 401),
        (TimestampOutOfTolerance, "timestamp_too_old", 401),
        (ReplayedDelivery, "replayed", 409),
        (ForbiddenAddress, "forbidden_address", 403),
        (PayloadTooLarge, "payload_too_large", 413),
        (NonceStoreUnavailable, "nonce_store_unavailable", 503),
    ],
)
def test_error_classes_default_reason_and_status(cls, reason, status):
    err = cls("message", header="X-Signature")
    assert isinstance(err, VerificationError)
    assert not isinstance(err, ValueError)
    assert (err.reason, err.status_code, err.header) == (reason, status, "X-Signature")
    assert cls("m", reason="custom").reason == "custom"
    assert repr(err) == f"{cls.__name__}(reason={reason!r}, message='message')"


# -- missing and blank headers ------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", " ", "   "])
def test_missing_or_blank_signature_header(value, make_scheme, make_verifier):
    headers = {} if value is None else {"X-Signature": value}
    err = _reject(make_verifier(make_scheme()), headers)
    assert type(err) is MissingHeader
    assert (err.reason, err.status_code, err.header) == ("missing_header", 401, "X-Signature")


@pytest.mark.parametrize("missing", ["X-Timestamp", "X-Id"])
def test_missing_signed_timestamp_or_id_header(missing, make_scheme, make_verifier, sign):
    scheme = make_scheme(**ID_TS)
    headers = sign(scheme)
    del headers[missing]
    err = _reject(make_verifier(scheme), headers)
    assert type(err) is MissingHeader
    assert err.header == missing


# -- malformed signatures -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "mangle"),
    [
        ("base64", lambda s: s + "!!!"),
        ("base64", lambda s: s + "=="),
        ("base64", lambda s: s.rstrip("=")),
        ("base64", lambda s: s[:10] + "\n" + s[10:]),
        ("base64", lambda s: s.replace("+", "-").replace("/", "_") + "-_"),
        ("base64", lambda s: s[:-2] + "B="),  # non-zero trailing bits
        ("base64", lambda s: "!" + s),
        ("hex", lambda s: s + "0"),  # odd length
        ("hex", lambda s: "0x" + s),
        ("hex", lambda s: s[:-2] + "zz"),
        ("hex", lambda s: s + "\x00"),
    ],
)
def test_lenient_encodings_are_refused(encoding, mangle, make_scheme, make_verifier, sign):
    scheme = make_scheme(encoding=encoding)
    verifier = make_verifier(scheme)
    good = sign(scheme)["X-Signature"]
    err = _reject(verifier, {"X-Signature": mangle(good)})
    assert type(err) is MalformedHeader
    assert err.reason == "malformed_header"
    assert err.status_code == 400


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_space_inside_a_signature_splits_it_and_never_matches(
    encoding, make_scheme, make_verifier, sign
):
    # A space separates signatures (rotation), so "ab cd" is two short signatures: refused as
    # a mismatch by the length check (the strict decoders refuse "ab cd" itself: test_encoding).
    scheme = make_scheme(encoding=encoding)
    verifier = make_verifier(scheme)
    good = sign(scheme)["X-Signature"]
    for value in ["ab cd", good[:2] + " " + good[2:], good[:-4] + " " + good[-4:]]:
        err = _reject(verifier, {"X-Signature": value})
        assert type(err) in (SignatureMismatch, MalformedHeader)
        assert err.status_code in (400, 401)
    if encoding == "hex":
        assert type(_reject(verifier, {"X-Signature": "ab cd"})) is SignatureMismatch


@pytest.mark.parametrize("value", ["sha256=", "sha256=,", "sha256=abcd,,", "sha512=00", "00"])
def test_prefix_only_or_wrong_prefix(value, make_scheme, make_verifier):
    err = _reject(make_verifier(make_scheme(prefix="sha256=")), {"X-Signature": value})
    assert type(err) is MalformedHeader


@pytest.mark.parametrize("bad", ["é", "\x00", "\r\n", "\ufffd", "\x7f", "\t"])
def test_non_ascii_and_control_characters(bad, make_scheme, make_verifier, sign, mac_counter):
    scheme = make_scheme()
    good = sign(scheme)["X-Signature"]
    mac_counter.calls = 0
    err = _reject(make_verifier(scheme), {"X-Signature": good[:8] + bad + good[8:]})
    assert type(err) is MalformedHeader
    assert err.reason == "malformed_header"
    assert mac_counter.calls == 0


def test_raw_header_bytes_are_checked_not_decoded(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    good = sign(scheme)["X-Signature"].encode()
    err = _reject(make_verifier(scheme), Headers([(b"X-Signature", good + b"\xff")]))
    assert type(err) is MalformedHeader


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_truncated_or_extended_signature(encoding, make_scheme, make_verifier):
    """Every shorter length (and a longer one) is refused: no prefix comparison."""
    import base64
    import hashlib
    import hmac

    scheme = make_scheme(encoding=encoding)
    verifier = make_verifier(scheme)
    mac = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    candidates = [mac[:n] for n in range(1, len(mac))] + [mac + b"\x00"]
    for raw in candidates:
        value = raw.hex() if encoding == "hex" else base64.b64encode(raw).decode()
        assert type(_reject(verifier, {"X-Signature": value})) is SignatureMismatch
    if encoding == "hex":  # odd-length truncations cannot even be decoded
        for n in range(1, len(mac) * 2, 2):
            assert type(_reject(verifier, {"X-Signature": mac.hex()[:n]})) is MalformedHeader


def test_body_changes_are_refused(make_scheme, make_verifier, sign):
    import json

    scheme = make_scheme()
    verifier = make_verifier(scheme)
    headers = sign(scheme)
    for body in [BODY + b"\n", BODY[:-1], json.dumps(json.loads(BODY)).encode(), b""]:
        assert type(_reject(verifier, headers, body=body)) is SignatureMismatch


def test_non_utf8_body(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    verifier = make_verifier(scheme)
    body = b"\xff\xfe\x00binary"
    forged = sign(scheme, body, secret="other-secret")
    assert type(_reject(verifier, forged, body=body)) is SignatureMismatch
    assert verifier.verify(body, sign(scheme, body), now=NOW).body == body


# -- duplicates and limits ------------------------------------------------------------------


@pytest.mark.parametrize("valid_first", [True, False])
@pytest.mark.parametrize("shape", ["pairs", "Headers", "Delivery"])
def test_duplicate_signature_header_lines(valid_first, shape, make_scheme, make_verifier, sign):
    scheme = make_scheme()
    verifier = make_verifier(scheme)
    good = sign(scheme)["X-Signature"]
    forged = sign(scheme, secret="forged-secret")["X-Signature"]
    values = [good, forged] if valid_first else [forged, good]
    lines = [("X-Signature", values[0]), ("x-signature", values[1])]
    attempts = {
        "pairs": lambda: verifier.verify(BODY, lines, now=NOW),
        "Headers": lambda: verifier.verify(BODY, Headers(lines), now=NOW),
        "Delivery": lambda: verifier.verify_delivery(Delivery(BODY, lines), now=NOW),
    }
    with pytest.raises(MalformedHeader) as info:
        attempts[shape]()
    assert info.value.reason == "duplicate_header"


def test_duplicate_timestamp_header_lines(make_scheme, make_verifier, sign):
    scheme = make_scheme(**TS)
    headers = sign(scheme)
    lines = [*headers.items(), ("X-Timestamp", str(NOW))]
    err = _reject(make_verifier(scheme), lines)
    assert (type(err), err.reason) == (MalformedHeader, "duplicate_header")
    assert err.header is not None
    assert err.header.lower() == "x-timestamp"


def test_header_too_long_before_any_mac(make_scheme, make_verifier, sign, mac_counter):
    scheme = make_scheme()
    good = sign(scheme)["X-Signature"]
    mac_counter.calls = 0
    err = _reject(make_verifier(scheme), {"X-Signature": good + " " + "a" * 100 * 1024})
    assert (type(err), err.reason) == (MalformedHeader, "header_too_long")
    assert mac_counter.calls == 0
    limited = make_verifier(scheme, max_header_bytes=len(good))
    assert limited.verify(BODY, {"X-Signature": good}, now=NOW).body == BODY
    err = _reject(limited, {"X-Signature": good + "0"})
    assert err.reason == "header_too_long"


@pytest.mark.parametrize("separator", [",", " ", ", "])
def test_too_many_signatures_before_any_mac(
    separator, make_scheme, make_verifier, sign, mac_counter
):
    scheme = make_scheme()
    good = sign(scheme)["X-Signature"]
    forged = sign(scheme, secret="other")["X-Signature"]
    verifier = make_verifier(scheme, max_header_bytes=200_000)
    mac_counter.calls = 0
    err = _reject(verifier, {"X-Signature": separator.join([forged] * 999 + [good])})
    assert (type(err), err.reason, err.status_code) == (MalformedHeader, "too_many_signatures", 400)
    err = _reject(verifier, {"X-Signature": separator.join([forged] * 8 + [good])})
    assert err.reason == "too_many_signatures"
    assert mac_counter.calls == 0


def test_payload_too_large_before_headers(make_scheme, make_verifier, sign, mac_counter):
    scheme = make_scheme()
    verifier = make_verifier(scheme, max_body_bytes=len(BODY))
    assert verifier.verify(BODY, sign(scheme), now=NOW).body == BODY
    big = BODY + b"x"
    signed = sign(scheme, big)
    mac_counter.calls = 0
    for headers in [signed, {}]:
        err = _reject(verifier, headers, body=big)
        assert (type(err), err.reason, err.status_code) == (
            PayloadTooLarge,
            "payload_too_large",
            413,
        )
    assert mac_counter.calls == 0


def test_default_body_limit_is_one_mebibyte(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    verifier = make_verifier(scheme)
    body = b"x" * (1024 * 1024)
    assert verifier.verify(body, sign(scheme, body), now=NOW).body == body
    assert type(_reject(verifier, sign(scheme, body + b"x"), body=body + b"x")) is PayloadTooLarge


# -- timestamps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "1700000000.5",
        " 1700000000",
        "1700000000 ",
        "1e9",
        "-1",
        "+1700000000",
        "0x65",
        "1_700_000_000",
        "nan",
        "inf",
        "17000000000000",
        "1,700,000,000",
    ],
)
def test_malformed_timestamps(value, make_scheme, make_verifier, sign, mac_counter):
    scheme = make_scheme(**TS)
    headers = {**sign(scheme), "X-Timestamp": value}
    mac_counter.calls = 0
    err = _reject(make_verifier(scheme), headers)
    assert (type(err), err.reason, err.status_code) == (MalformedHeader, "malformed_timestamp", 400)
    assert err.header == "X-Timestamp"
    assert mac_counter.calls == 0


def test_full_width_digit_timestamp(make_scheme, make_verifier, sign):
    # Non-ASCII is refused by the header check itself (reason malformed_header) before the
    # timestamp parser, which would also refuse it (see test_encoding.py).
    scheme = make_scheme(**TS)
    headers = {
        **sign(scheme),
        "X-Timestamp": "\uff11\uff17\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff10",
    }
    err = _reject(make_verifier(scheme), headers)
    assert (type(err), err.reason, err.header) == (
        MalformedHeader,
        "malformed_header",
        "X-Timestamp",
    )


def test_empty_timestamp_is_a_missing_header(make_scheme, make_verifier, sign):
    # A blank header counts as absent, as for the signature header.
    scheme = make_scheme(**TS)
    err = _reject(make_verifier(scheme), {**sign(scheme), "X-Timestamp": ""})
    assert (type(err), err.reason, err.header) == (MissingHeader, "missing_header", "X-Timestamp")


def test_five_thousand_digit_timestamp(make_scheme, make_verifier, sign):
    scheme = make_scheme(**TS)
    headers = {**sign(scheme), "X-Timestamp": "9" * 5000}
    assert _reject(make_verifier(scheme), headers).reason == "header_too_long"
    roomy = make_verifier(scheme, max_header_bytes=10_000)
    err = _reject(roomy, headers)
    assert (type(err), err.reason) == (MalformedHeader, "malformed_timestamp")


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (-301, "timestamp_too_old"),
        (-300, None),
        (0, None),
        (300, None),
        (301, "timestamp_in_future"),
        (86_400, "timestamp_in_future"),
        (100 * 365 * 86_400, "timestamp_in_future"),
        (-NOW, "timestamp_too_old"),
    ],
)
def test_timestamp_window_both_sides_of_the_boundary(
    offset, reason, make_scheme, make_verifier, sign
):
    scheme = make_scheme(**TS)
    verifier = make_verifier(scheme)
    headers = sign(scheme, timestamp=NOW + offset)
    if reason is None:
        assert verifier.verify(BODY, headers, now=NOW).timestamp == NOW + offset
    else:
        err = _reject(verifier, headers)
        assert (type(err), err.reason, err.status_code) == (TimestampOutOfTolerance, reason, 401)
        assert err.header == "X-Timestamp"


def test_window_uses_configured_tolerance_and_fractional_now(make_scheme, make_verifier, sign):
    scheme = make_scheme(**TS)
    verifier = make_verifier(scheme, tolerance=10)
    headers = sign(scheme)
    assert verifier.verify(BODY, headers, now=NOW + 10.0).timestamp == NOW
    assert _reject(verifier, headers, now=NOW + 10.5).reason == "timestamp_too_old"
    assert _reject(verifier, headers, now=NOW - 10.5).reason == "timestamp_in_future"


def test_window_is_checked_before_the_signature(make_scheme, make_verifier, sign, mac_counter):
    scheme = make_scheme(**TS)
    headers = sign(scheme, timestamp=NOW - 1000, secret="forged")
    mac_counter.calls = 0
    assert _reject(make_verifier(scheme), headers).reason == "timestamp_too_old"
    assert mac_counter.calls == 0


def test_moved_signed_timestamp_is_a_mismatch(make_scheme, make_verifier, sign):
    scheme = make_scheme(**TS)
    headers = sign(scheme)
    for moved in (NOW - 1, NOW + 1):
        err = _reject(make_verifier(scheme), {**headers, "X-Timestamp": str(moved)})
        assert type(err) is SignatureMismatch


# -- message ids ----------------------------------------------------------------------------


@pytest.mark.parametrize("msg_id", ["a.b", "msg.1700000000", "has space", "x" * 257])
def test_bad_message_ids_are_refused_before_crypto(
    msg_id, make_scheme, make_verifier, sign, mac_counter
):
    scheme = make_scheme(**ID_TS)
    headers = sign(scheme, msg_id=msg_id)  # the signer signs whatever it is given
    mac_counter.calls = 0
    err = _reject(make_verifier(scheme), headers)
    assert (type(err), err.reason, err.header) == (MalformedHeader, "malformed_header", "X-Id")
    assert mac_counter.calls == 0


def test_message_id_limit_is_configurable(make_scheme, make_verifier, sign):
    scheme = make_scheme(**ID_TS)
    headers = sign(scheme, msg_id="x" * 300)
    assert (
        make_verifier(scheme, max_id_length=300).verify(BODY, headers, now=NOW).msg_id == "x" * 300
    )


def test_ids_may_hold_letters_and_digits_of_the_template_literal(make_scheme, make_verifier):
    """Regression: literal text like 'v1:' used to forbid 'v' and '1' inside message ids."""
    scheme = make_scheme(
        timestamp_header="X-Timestamp", id_header="X-Id", template="v1:{id}:{timestamp}:{body}"
    )
    signer = Signer(scheme, secret=SECRET)
    verifier = make_verifier(scheme)
    for msg_id in ["v1v1", "111", "abc-1_v"]:
        assert (
            verifier.verify(BODY, signer.sign(BODY, timestamp=NOW, msg_id=msg_id), now=NOW).msg_id
            == msg_id
        )
    err = _reject(verifier, signer.sign(BODY, timestamp=NOW, msg_id="a:b"))
    assert err.reason == "malformed_header"


def test_swapping_id_and_timestamp_digits_is_refused(make_scheme, make_verifier, sign):
    scheme = make_scheme(**ID_TS)
    headers = sign(scheme, msg_id="abc1")
    moved = {**headers, "X-Id": "abc", "X-Timestamp": "1" + headers["X-Timestamp"]}
    assert isinstance(_reject(make_verifier(scheme), moved), VerificationError)


# -- replays -----------------------------------------------------------------------------------


def test_replay_refused_by_the_default_store(make_scheme, sign):
    scheme = make_scheme(**ID_TS)
    verifier = Verifier(scheme, secrets=SECRET)  # default: a per-process MemoryNonceStore
    assert isinstance(verifier.nonce_store, MemoryNonceStore)
    headers = sign(scheme)
    verifier.verify(BODY, headers, now=NOW)
    err = _reject(verifier, headers, now=NOW + 1)
    assert (type(err), err.reason, err.status_code) == (ReplayedDelivery, "replayed", 409)
    # A genuine retry re-signed with a new id (or timestamp) is not a replay.
    assert verifier.verify(BODY, sign(scheme, msg_id="msg2"), now=NOW + 1).msg_id == "msg2"


@pytest.mark.parametrize("options", [{}, TS, ID_TS], ids=["body-only", "timestamp", "id-timestamp"])
def test_replay_refused_until_the_window_closes(options, make_scheme, sign):
    """Regression: a replay at exactly timestamp + tolerance used to pass (the entry expired)."""
    scheme = make_scheme(**options)
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=MemoryNonceStore())
    headers = sign(scheme, timestamp=NOW + 300)  # future-dated, at the edge of the window
    verifier.verify(BODY, headers, now=NOW)
    for later in (NOW + 1, NOW + 300, NOW + 599, NOW + 600):
        assert type(_reject(verifier, headers, now=later)) is ReplayedDelivery


def test_forged_deliveries_never_reach_the_store(make_scheme, sign):
    scheme = make_scheme(**ID_TS)
    store = MemoryNonceStore()
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=store)
    for n in range(50):
        _reject(verifier, sign(scheme, msg_id=f"id{n}", secret="forged"))
    assert len(store) == 0
    verifier.verify(BODY, sign(scheme), now=NOW)
    assert len(store) == 1


def test_full_store_refuses_without_evicting(make_scheme, sign):
    scheme = make_scheme(**ID_TS)
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=MemoryNonceStore(max_entries=2))
    first = sign(scheme, msg_id="one")
    verifier.verify(BODY, first, now=NOW)
    verifier.verify(BODY, sign(scheme, msg_id="two"), now=NOW)
    err = _reject(verifier, sign(scheme, msg_id="three"))
    assert (type(err), err.reason, err.status_code) == (
        NonceStoreUnavailable,
        "nonce_store_full",
        503,
    )
    assert type(_reject(verifier, first)) is ReplayedDelivery


class _BrokenStore:
    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        raise ConnectionError("store down")


def test_failing_store_fails_closed(make_scheme, sign):
    scheme = make_scheme()
    verifier = Verifier(scheme, secrets=SECRET, nonce_store=_BrokenStore())
    err = _reject(verifier, sign(scheme))
    assert (type(err), err.reason, err.status_code) == (
        NonceStoreUnavailable,
        "nonce_store_unavailable",
        503,
    )
    assert isinstance(err.__cause__, ConnectionError)
    assert "store down" not in str(err)


def test_no_store_means_no_replay_protection(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    verifier = make_verifier(scheme, nonce_store=None)
    headers = sign(scheme)
    assert (
        verifier.verify(BODY, headers, now=NOW).body == verifier.verify(BODY, headers, now=NOW).body
    )
