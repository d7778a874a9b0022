"""Shopify scheme: known vectors, independent HMAC computation, hostile headers.

Shopify documents the algorithm (https://shopify.dev/docs/apps/build/webhooks/subscribe/https,
"Verify the webhook": base64 of HMAC-SHA256 of the raw body, keyed with the app's client
secret) but publishes no secret/body/HMAC triple, and has no Python SDK verifier for webhooks.
So the vectors below are a third-party test's and one derived from GitHub's published inputs,
and every other case is checked against an independent ``hmac`` computation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    Verifier,
)
from hookseal.schemes import Shopify
from hookseal.schemes.base import make_replay_key
from hookseal.stores.memory import MemoryNonceStore

# Third-party vector. Source: sqlpage/SQLPage test suite, the "Shopify webhook HMAC validation
# with base64 output" SQL test of sqlpage.hmac(..., 'sha256-base64').
SQLPAGE_SECRET = "test-webhook-secret"
SQLPAGE_BODY = b'{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}'
SQLPAGE_HMAC = "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw="
# Derived: GitHub's published inputs (docs.github.com, "Validating webhook deliveries") in
# Shopify's encoding: the base64 of GitHub's published hex digest 757107ea...043e17.
GH_SECRET = "It's a Secret to Everybody"
GH_BODY = b"Hello, World!"
GH_HMAC = "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc="
WEBHOOK_ID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
HEADER = "X-Shopify-Hmac-Sha256"

SECRETS = st.text(alphabet=string.ascii_letters + string.digits + "_-é€", min_size=1, max_size=64)


def verifier(*secrets: str, **kwargs: object) -> Verifier:
    kwargs.setdefault("nonce_store", None)
    return Verifier(Shopify(), list(secrets), **kwargs)  # type: ignore[arg-type]


def b64_hmac(secret: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def test_sqlpage_vector() -> None:
    verified = verifier(SQLPAGE_SECRET).verify(
        SQLPAGE_BODY,
        # Shopify spells the header X-Shopify-Hmac-SHA256; any case is accepted.
        {"X-Shopify-Hmac-SHA256": SQLPAGE_HMAC, "X-Shopify-Webhook-Id": WEBHOOK_ID},
    )
    assert verified.msg_id == WEBHOOK_ID
    assert verified.timestamp is None
    assert verified.scheme == "shopify"


def test_derived_github_inputs_vector() -> None:
    assert base64.b64decode(GH_HMAC).hex() == (
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    verifier(GH_SECRET).verify(GH_BODY, {"x-shopify-hmac-sha256": GH_HMAC})
    assert Signer(Shopify(), secret=GH_SECRET).sign(GH_BODY, msg_id=WEBHOOK_ID) == {
        HEADER: GH_HMAC,
        "X-Shopify-Webhook-Id": WEBHOOK_ID,
    }


@given(secret=SECRETS, body=st.binary(max_size=512))
def test_independent_hmac_both_directions(secret: str, body: bytes) -> None:
    expected = b64_hmac(secret, body)
    verifier(secret).verify(body, {HEADER: expected})
    assert Signer(Shopify(), secret=secret).sign(body)[HEADER] == expected


@given(secret=SECRETS, body=st.binary(min_size=1, max_size=256), flip=st.integers(min_value=0))
def test_tampering_is_rejected(secret: str, body: bytes, flip: int) -> None:
    good = b64_hmac(secret, body)
    v = verifier(secret)
    i = flip % len(body)
    with pytest.raises(SignatureMismatch):
        v.verify(body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :], {HEADER: good})
    mac = bytearray(base64.b64decode(good))
    mac[flip % 32] ^= 1
    with pytest.raises(SignatureMismatch):
        v.verify(body, {HEADER: base64.b64encode(bytes(mac)).decode()})
    with pytest.raises(SignatureMismatch):
        verifier(secret + "x").verify(body, {HEADER: good})


def test_reserialised_json_and_added_newline_are_rejected() -> None:
    v = verifier(SQLPAGE_SECRET)
    for body in (json.dumps(json.loads(SQLPAGE_BODY)).encode(), SQLPAGE_BODY + b"\n"):
        with pytest.raises(SignatureMismatch):
            v.verify(body, {HEADER: SQLPAGE_HMAC})


def test_rotation_and_key_index() -> None:
    v = verifier("old", SQLPAGE_SECRET)
    assert v.verify(SQLPAGE_BODY, {HEADER: SQLPAGE_HMAC}).key_index == 1


def test_replay_is_keyed_on_the_mac_not_the_unsigned_webhook_id() -> None:
    v = verifier(SQLPAGE_SECRET, nonce_store=MemoryNonceStore())
    first = v.verify(SQLPAGE_BODY, {HEADER: SQLPAGE_HMAC, "X-Shopify-Webhook-Id": "one"})
    assert first.replay_key == make_replay_key("shopify", base64.b64decode(SQLPAGE_HMAC))
    with pytest.raises(ReplayedDelivery):
        v.verify(SQLPAGE_BODY, {HEADER: SQLPAGE_HMAC, "X-Shopify-Webhook-Id": "two"})
    with pytest.raises(ReplayedDelivery):
        v.verify(
            SQLPAGE_BODY, {HEADER: SQLPAGE_HMAC, "X-Shopify-Triggered-At": "2030-01-01T00:00:00Z"}
        )


# -- hostile headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {HEADER: ""}, {HEADER: "   "}, {"X-Shopify-Hmac": "x"}])
def test_missing_or_empty(headers: dict[str, str]) -> None:
    with pytest.raises(MissingHeader):
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, headers)


@pytest.mark.parametrize(
    "value",
    [
        SQLPAGE_HMAC + "!!!",
        SQLPAGE_HMAC + "==",
        SQLPAGE_HMAC + " ",
        " " + SQLPAGE_HMAC,
        SQLPAGE_HMAC.rstrip("="),
        SQLPAGE_HMAC[:-2] + "x=",  # non-zero trailing bits
        SQLPAGE_HMAC.replace("/", "_").replace("+", "-"),  # urlsafe alphabet
        "sha256=" + SQLPAGE_HMAC,
        SQLPAGE_HMAC + "," + SQLPAGE_HMAC,
        SQLPAGE_HMAC + " " + SQLPAGE_HMAC,
        "=",
    ],
)
def test_malformed_base64(value: str) -> None:
    with pytest.raises(MalformedHeader):
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, {HEADER: value})


@pytest.mark.parametrize(
    "value", [SQLPAGE_HMAC + "é", SQLPAGE_HMAC[:10] + "\n" + SQLPAGE_HMAC[10:], "\x00", "\ufffd"]
)
def test_non_ascii_and_control_characters(value: str) -> None:
    with pytest.raises(MalformedHeader):
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, {HEADER: value})


def test_truncated_and_extended_macs_never_match() -> None:
    v = verifier(SQLPAGE_SECRET)
    mac = base64.b64decode(SQLPAGE_HMAC)
    for length in range(1, 32):
        with pytest.raises(SignatureMismatch):
            v.verify(SQLPAGE_BODY, {HEADER: base64.b64encode(mac[:length]).decode()})
    with pytest.raises(SignatureMismatch):
        v.verify(SQLPAGE_BODY, {HEADER: base64.b64encode(mac + b"\0").decode()})


def test_hex_where_base64_is_required() -> None:
    # 64 hex digits happen to be valid base64 (48 bytes): refused as the wrong length.
    with pytest.raises(SignatureMismatch):
        verifier(SQLPAGE_SECRET).verify(
            SQLPAGE_BODY, {HEADER: base64.b64decode(SQLPAGE_HMAC).hex()}
        )


def test_sha1_mac_where_sha256_is_required() -> None:
    sha1 = hmac.new(SQLPAGE_SECRET.encode(), SQLPAGE_BODY, hashlib.sha1).digest()
    with pytest.raises(SignatureMismatch):
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, {HEADER: base64.b64encode(sha1).decode()})


@pytest.mark.parametrize("order", [0, 1])
def test_duplicated_header(order: int) -> None:
    forged = base64.b64encode(b"\0" * 32).decode()
    lines = [(HEADER, SQLPAGE_HMAC), (HEADER, forged)]
    with pytest.raises(MalformedHeader) as info:
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, lines[order:] + lines[:order])
    assert info.value.reason == "duplicate_header"


def test_thousands_of_signatures() -> None:
    value = ",".join([SQLPAGE_HMAC] * 1000)
    with pytest.raises(MalformedHeader) as info:
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, {HEADER: value})
    assert info.value.reason == "header_too_long"
    with pytest.raises(MalformedHeader):
        verifier(SQLPAGE_SECRET, max_header_bytes=10**6).verify(SQLPAGE_BODY, {HEADER: value})


@pytest.mark.parametrize("webhook_id", ["x" * 5000, "a b", "\x7f", "idé"])
def test_hostile_webhook_id(webhook_id: str) -> None:
    with pytest.raises(MalformedHeader):
        verifier(SQLPAGE_SECRET).verify(
            SQLPAGE_BODY, {HEADER: SQLPAGE_HMAC, "X-Shopify-Webhook-Id": webhook_id}
        )


def test_no_leaks() -> None:
    forged = base64.b64encode(b"\1" * 32).decode()
    with pytest.raises(SignatureMismatch) as info:
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, {HEADER: forged})
    text = str(info.value) + repr(info.value)
    for secret_thing in (SQLPAGE_HMAC, SQLPAGE_SECRET, "customer@example.com"):
        assert secret_thing not in text
    assert SQLPAGE_SECRET not in repr(verifier(SQLPAGE_SECRET))


def test_empty_secret_refused() -> None:
    with pytest.raises(ConfigurationError):
        verifier("")


# -- Events deliveries: the same headers without the "X-" prefix -------------------------------
# shopify.dev, "Verify Events deliveries": the HMAC is in ``Shopify-Hmac-Sha256`` and duplicates
# are detected with ``Shopify-Webhook-Id``; Shopify's @shopify/shopify-api reads the Events
# headers as ``shopify-hmac-sha256`` etc. (lib/webhooks/header-names.ts).
EVENTS_HEADER = "Shopify-Hmac-Sha256"
EVENTS_ID = "Shopify-Webhook-Id"


@pytest.mark.parametrize(
    "headers",
    [
        {EVENTS_HEADER: SQLPAGE_HMAC, EVENTS_ID: WEBHOOK_ID},
        {"shopify-hmac-sha256": SQLPAGE_HMAC, "shopify-webhook-id": WEBHOOK_ID},
        [("shopify-hmac-sha256", SQLPAGE_HMAC), ("Shopify-Webhook-Id", WEBHOOK_ID)],
    ],
)
def test_events_spelling_is_accepted(headers: object) -> None:
    verified = verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, headers)  # type: ignore[arg-type]
    assert verified.msg_id == WEBHOOK_ID
    assert verified.scheme == "shopify"


def test_events_spelling_checks_the_signature_as_strictly() -> None:
    forged = base64.b64encode(b"\1" * 32).decode()
    with pytest.raises(SignatureMismatch) as info:
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, {EVENTS_HEADER: forged})
    assert info.value.header == EVENTS_HEADER
    with pytest.raises(MalformedHeader):
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, {EVENTS_HEADER: SQLPAGE_HMAC + "!!"})
    with pytest.raises(MalformedHeader):
        verifier(SQLPAGE_SECRET).verify(
            SQLPAGE_BODY, {EVENTS_HEADER: SQLPAGE_HMAC, EVENTS_ID: "a b"}
        )


@pytest.mark.parametrize("forged_first", [True, False])
@pytest.mark.parametrize("shape", ["dict", "lines"])
def test_both_signature_spellings_are_refused(forged_first: bool, shape: str) -> None:
    # Exactly one spelling: with both, a relay could choose which one is checked. Refused
    # whichever carries the valid MAC, and even when both carry it.
    forged = base64.b64encode(b"\0" * 32).decode()
    for classic, events in ((SQLPAGE_HMAC, forged), (forged, SQLPAGE_HMAC)):
        pairs = [(HEADER, classic), (EVENTS_HEADER, events)]
        if forged_first:
            pairs.reverse()
        headers = dict(pairs) if shape == "dict" else pairs
        with pytest.raises(MalformedHeader) as info:
            verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, headers)  # type: ignore[arg-type]
        assert info.value.reason == "duplicate_header"
    with pytest.raises(MalformedHeader) as info:
        verifier(SQLPAGE_SECRET).verify(
            SQLPAGE_BODY, {HEADER: SQLPAGE_HMAC, EVENTS_HEADER: SQLPAGE_HMAC}
        )
    assert info.value.reason == "duplicate_header"


def test_both_webhook_id_spellings_are_refused() -> None:
    with pytest.raises(MalformedHeader) as info:
        verifier(SQLPAGE_SECRET).verify(
            SQLPAGE_BODY,
            {HEADER: SQLPAGE_HMAC, "X-Shopify-Webhook-Id": WEBHOOK_ID, EVENTS_ID: "other"},
        )
    assert info.value.reason == "duplicate_header"


def test_neither_spelling_is_missing_and_names_both() -> None:
    with pytest.raises(MissingHeader) as info:
        verifier(SQLPAGE_SECRET).verify(SQLPAGE_BODY, {EVENTS_ID: WEBHOOK_ID})
    assert repr(HEADER) in str(info.value)
    assert repr(EVENTS_HEADER) in str(info.value)


def test_events_webhook_id_is_logged() -> None:
    events: list[object] = []
    v = verifier(SQLPAGE_SECRET, on_event=events.append)
    forged = base64.b64encode(b"\1" * 32).decode()
    with pytest.raises(SignatureMismatch):
        v.verify(SQLPAGE_BODY, {EVENTS_HEADER: forged, EVENTS_ID: WEBHOOK_ID})
    assert events[-1].msg_id == WEBHOOK_ID  # type: ignore[attr-defined]
    assert (
        Shopify().message_id_for_log({EVENTS_ID: "a", "X-Shopify-Webhook-Id": "b"}, v.limits)
        is None
    )


def test_default_body_limit_fits_large_orders() -> None:
    # Shopify documents no cap; its staff report bodies above a megabyte (docs/providers).
    v = verifier(SQLPAGE_SECRET)
    assert v.limits.max_body_bytes == 5 * 1024 * 1024
    body = b'{"line_items":[' + b'{"title":"x"},' * 100_000 + b"{}]}"
    assert 1024 * 1024 < len(body) < 5 * 1024 * 1024
    v.verify(body, {HEADER: b64_hmac(SQLPAGE_SECRET, body)})
    assert verifier(SQLPAGE_SECRET, max_body_bytes=1024).limits.max_body_bytes == 1024
