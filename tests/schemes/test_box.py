"""Box webhooks v2: base64 HMAC-SHA256 of ``body + BOX-DELIVERY-TIMESTAMP``, two keys.

Box publishes no secret/body/signature example, so the vectors are derived from the algorithm
as documented at https://developer.box.com/guides/webhooks/v2/signatures-v2/ ("derived"); the
official generated SDK (``box_sdk_gen`` ``WebhooksManager.validate_message``, including its
escaped-body variant) is a differential oracle in both directions.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import importlib
import os
import time
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookseal import (
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
from hookseal.schemes.box import Box, _escaped
from hookseal.stores.memory import MemoryNonceStore


def _sdk(name: str) -> ModuleType:
    """The provider's SDK: skipped locally when absent, a failure under CI=true."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name)


PRIMARY, SECONDARY = "SamplePrimaryKey", "SampleSecondaryKey"
RAW_TS = "2020-01-01T09:00:00-08:00"
NOW = calendar.timegm((2020, 1, 1, 17, 0, 0, 0, 0, 0))
BODY = b'{"type":"webhook_event","trigger":"FILE.UPLOADED","source":{"id":"12345"}}'


def _sig(key: str, body: bytes = BODY, raw_ts: str = RAW_TS) -> str:
    mac = hmac.new(key.encode(), body + raw_ts.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def _headers(body: bytes = BODY, raw_ts: str = RAW_TS) -> dict[str, str]:
    return {
        "box-delivery-id": "f96bb54b-ee16-4fc5-aa65-8c2d9e5b546f",
        "box-delivery-timestamp": raw_ts,
        "box-signature-algorithm": "HmacSHA256",
        "box-signature-version": "1",
        "box-signature-primary": _sig(PRIMARY, body, raw_ts),
        "box-signature-secondary": _sig(SECONDARY, body, raw_ts),
    }


def _verifier(secrets: object = (PRIMARY, SECONDARY), **options: object) -> Verifier:
    return Verifier(Box(), list(secrets), **options)  # type: ignore[call-overload, arg-type]


def test_documented_algorithm_verifies() -> None:
    verified = _verifier().verify(BODY, _headers(), now=NOW)
    assert verified.scheme == "box"
    assert verified.timestamp == NOW
    assert verified.msg_id == "f96bb54b-ee16-4fc5-aa65-8c2d9e5b546f"


@pytest.mark.parametrize("keys", [[PRIMARY], [SECONDARY], [SECONDARY, PRIMARY], ["x", PRIMARY]])
def test_either_key_alone_verifies_in_any_order(keys: list[str]) -> None:
    assert _verifier(keys, nonce_store=None).verify(BODY, _headers(), now=NOW)


def test_identity_does_not_depend_on_key_order_or_which_signature_is_sent() -> None:
    both = _verifier([PRIMARY, SECONDARY], nonce_store=None).verify(BODY, _headers(), now=NOW)
    swapped = _verifier([SECONDARY, PRIMARY], nonce_store=None).verify(BODY, _headers(), now=NOW)
    only_primary = {k: v for k, v in _headers().items() if k != "box-signature-secondary"}
    one = _verifier([PRIMARY, SECONDARY], nonce_store=None).verify(BODY, only_primary, now=NOW)
    assert both.replay_keys == swapped.replay_keys == one.replay_keys


def test_signer_round_trip() -> None:
    headers = Signer(Box(), PRIMARY).sign(BODY, timestamp=NOW, msg_id="d-1")
    assert headers["BOX-DELIVERY-TIMESTAMP"] == "2020-01-01T17:00:00+00:00"
    assert _verifier([PRIMARY]).verify(BODY, headers, now=NOW).msg_id == "d-1"


@pytest.mark.parametrize(
    ("body", "change"),
    [
        (BODY + b"\n", {}),
        (BODY, {"box-delivery-timestamp": "2020-01-01T09:00:01-08:00"}),
        (BODY, {"box-delivery-timestamp": "2020-01-01T17:00:00Z"}),  # same time, other text
        (BODY, {"box-signature-primary": _sig("other"), "box-signature-secondary": _sig("x")}),
    ],
    ids=["body", "timestamp", "spelling", "keys"],
)
def test_tampering_is_a_mismatch(body: bytes, change: dict[str, str]) -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, {**_headers(), **change}, now=NOW)


def test_box_window_ten_minutes_and_no_future() -> None:
    verifier = _verifier(max_age=600, max_future=0, nonce_store=None)
    assert verifier.verify(BODY, _headers(), now=NOW + 600)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(BODY, _headers(), now=NOW + 601)
    with pytest.raises(TimestampOutOfTolerance):
        verifier.verify(BODY, _headers(), now=NOW - 1)


def test_exact_replay_is_refused() -> None:
    verifier = _verifier(nonce_store=MemoryNonceStore())
    verifier.verify(BODY, _headers(), now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, _headers(), now=NOW + 1)


def test_escaped_body_variant() -> None:
    body = '{"name":"café ☕ 😀","path":"a/b"}'.encode()
    escaped = _escaped(body)
    assert escaped is not None
    assert escaped.isascii()
    headers = {**_headers(), "box-signature-primary": _sig(PRIMARY, escaped)}
    headers.pop("box-signature-secondary")
    assert _verifier([PRIMARY]).verify(body, headers, now=NOW)
    assert _escaped(b"plain ascii") is None
    assert _escaped(b"\xff") is None
    # A backslash makes the escaped form ambiguous (see the next test): no second try.
    assert _escaped('{"path":"a\\\\b","name":"café"}'.encode()) is None


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ({"box-signature-primary": None, "box-signature-secondary": None}, MissingHeader, None),
        ({"box-signature-version": None}, MissingHeader, None),
        ({"box-signature-algorithm": None}, MissingHeader, None),
        ({"box-delivery-timestamp": None}, MissingHeader, None),
        ({"box-signature-version": "2"}, SignatureMismatch, "no_supported_signature"),
        ({"box-signature-algorithm": "HmacSHA1"}, SignatureMismatch, "no_supported_signature"),
        ({"box-signature-primary": "!!!"}, MalformedHeader, "malformed_header"),
        ({"box-signature-secondary": _sig(SECONDARY) + " "}, MalformedHeader, None),
        ({"box-signature-primary": "A" * 5000}, MalformedHeader, "header_too_long"),
        ({"box-delivery-timestamp": "1577898000"}, MalformedHeader, "malformed_timestamp"),
        ({"box-delivery-id": "a b"}, MalformedHeader, "malformed_header"),
    ],
)
def test_hostile_headers(
    change: dict[str, str | None], error: type[VerificationError], reason: str | None
) -> None:
    headers = {k: v for k, v in {**_headers(), **change}.items() if v is not None}
    with pytest.raises(error) as caught:
        _verifier().verify(BODY, headers, now=NOW)
    if reason is not None:
        assert caught.value.reason == reason


@pytest.mark.parametrize("name", ["box-signature-primary", "box-delivery-timestamp"])
def test_duplicated_header_is_refused(name: str) -> None:
    good = _headers()
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, Headers([*good.items(), (name, good[name])]), now=NOW)
    assert caught.value.reason == "duplicate_header"


_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60).map(
    lambda t: '{"name":' + repr(t) + "}"
)


@settings(max_examples=40)
@given(text=_texts)
def test_sdk_and_hookseal_agree_both_ways(text: str) -> None:
    manager = _sdk("box_sdk_gen.managers.webhooks").WebhooksManager
    now = int(time.time())
    body = text.encode()
    headers = Signer(Box(), PRIMARY).sign(body, timestamp=now, msg_id="d-1")
    assert manager.validate_message(text, {k.lower(): v for k, v in headers.items()}, PRIMARY)
    # The SDK's escaped variant: a signature over the escaped body verifies in both.
    escaped = _escaped(body)
    if escaped is not None:
        headers = {
            **headers,
            "BOX-SIGNATURE-PRIMARY": _sig(PRIMARY, escaped, headers["BOX-DELIVERY-TIMESTAMP"]),
        }
        lower = {k.lower(): v for k, v in headers.items()}
        assert manager.validate_message(text, lower, PRIMARY)
    assert Verifier(Box(), [PRIMARY], nonce_store=None).verify(body, headers, now=now)


def test_the_escaped_form_cannot_carry_another_json_value() -> None:
    """A genuine body with an escaped backslash is the escaped form of a body with other JSON.

    ``C:\\new`` (JSON for the path ``C:\new``) is what the escaping makes of ``C:\new`` (JSON
    for ``C:`` + newline + ``ew``): the genuine signature must not verify the second body.
    """
    import base64 as b64
    import hashlib as hl
    import hmac as hm
    import json as js
    import time as tm

    from hookseal import SignatureMismatch, Verifier
    from hookseal.schemes import Box as BoxScheme

    key = "primary-signature-key"
    stamp = tm.strftime("%Y-%m-%dT%H:%M:%S+00:00", tm.gmtime())
    genuine = js.dumps({"source": {"path": "C:\\new"}}).encode()
    mac = hm.new(key.encode(), genuine + stamp.encode(), hl.sha256).digest()
    headers = {
        "BOX-SIGNATURE-PRIMARY": b64.b64encode(mac).decode(),
        "BOX-SIGNATURE-VERSION": "1",
        "BOX-SIGNATURE-ALGORITHM": "HmacSHA256",
        "BOX-DELIVERY-TIMESTAMP": stamp,
    }
    verifier = Verifier(BoxScheme(), key, nonce_store=None)
    assert verifier.verify(genuine, headers).json()["source"]["path"] == "C:\\new"
    forged = genuine.replace(b"\\\\", b"\\")
    with pytest.raises(SignatureMismatch):
        verifier.verify(forged, headers)
