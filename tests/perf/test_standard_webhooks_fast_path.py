"""Standard Webhooks: the prepared fast check and the general path agree on every input.

``StandardWebhooks.prepare_fast_check`` gives a shortcut for the common delivery (one ``v1``
signature, ``webhook-*`` headers, every value well formed) that leaves everything else to
``_check_general``. These tests feed both the same genuine, mutated and hostile deliveries
and require the same verdict: the same accepted fields (including the replay key), or the same
error class, reason and header.
"""

from __future__ import annotations

import base64
import hmac
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import Headers, Signer, VerificationError
from hookseal._limits import Limits
from hookseal.schemes import StandardWebhooks
from hookseal.schemes.base import make_replay_key

from ._paths import fast_then_check

NOW = 1_700_000_000
SECRET_A = "whsec_" + base64.b64encode(b"a" * 32).decode()
SECRET_B = "whsec_" + base64.b64encode(b"b" * 24).decode()
# A v1a public key (RFC 8032 test 1's public key): an HMAC must never be keyed with it.
PUBLIC = (
    "whpk_"
    + base64.b64encode(
        bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    ).decode()
)
SCHEME = StandardWebhooks()
KEY_SETS = {
    "a": [SECRET_A],
    "b,a": [SECRET_B, SECRET_A],
    "a,b": [SECRET_A, SECRET_B],
    "public,a": [PUBLIC, SECRET_A],
    "b (wrong)": [SECRET_B],
}
POLICIES = [
    Limits(),
    Limits(tolerance=60, max_id_length=8),
    Limits(max_header_bytes=46),
    Limits(max_signatures=1),
]

# Characters that each hit some check: space, '.', control, DEL, non-ASCII, full-width digit.
HOSTILE_CHARS = [" ", ".", "\x00", "\t", "\x7f", "\u00e9", "\uff11", "=", "!", ",", "_", "0"]
text = st.text(
    alphabet=st.one_of(
        st.sampled_from(HOSTILE_CHARS),
        st.characters(min_codepoint=0x21, max_codepoint=0x7E),
    ),
    max_size=60,
)


def outcome(check: Any, *args: Any) -> tuple[Any, ...]:
    try:
        verified = check(*args)
    except VerificationError as exc:
        return ("rejected", type(exc), exc.reason, exc.header)
    return (
        "accepted",
        verified.body,
        verified.timestamp,
        verified.msg_id,
        verified.key_index,
        verified.key_id,
        verified.scheme,
        verified.replay_key,
    )


def both(body: bytes, headers: Any, secrets: list[str], limits: Limits) -> tuple[Any, Any]:
    keys = SCHEME.load_keys(secrets)
    fast = outcome(fast_then_check, SCHEME, body, headers, keys, limits, NOW)
    general = outcome(SCHEME._check_general, body, headers, keys, limits, NOW)
    return fast, general


def genuine(
    body: bytes, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", ts: int = NOW
) -> dict[str, str]:
    return Signer(StandardWebhooks(), SECRET_A).sign(body, timestamp=ts, msg_id=msg_id)


def resign(headers: dict[str, str], body: bytes, key: bytes = b"a" * 32) -> dict[str, str]:
    """Sign whatever id and timestamp text the headers now hold (even malformed ones)."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    mac = hmac.digest(key, signed, "sha256")
    return {**headers, "webhook-signature": "v1," + base64.b64encode(mac).decode()}


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    body = draw(st.binary(max_size=300))
    headers = genuine(body, ts=NOW + draw(st.integers(-400, 400)))
    for name in ("webhook-id", "webhook-timestamp"):
        choice = draw(st.sampled_from(["keep", "keep", "text", "edit"]))
        if choice == "text":
            headers[name] = draw(text)
        elif choice == "edit":
            position = draw(st.integers(0, len(headers[name])))
            value = headers[name]
            headers[name] = value[:position] + draw(text) + value[position:]
    if draw(st.booleans()):  # a signature over the mutated id/timestamp text, so the MAC holds
        headers = resign(headers, body)
    signature = headers["webhook-signature"]
    choice = draw(
        st.sampled_from(["keep", "keep", "truncate", "append", "replace", "text", "version"])
    )
    if choice == "truncate":
        headers["webhook-signature"] = signature[: draw(st.integers(0, len(signature) - 1))]
    elif choice == "append":
        headers["webhook-signature"] = signature + draw(text)
    elif choice == "replace":
        position = draw(st.integers(3, len(signature) - 1))
        char = draw(st.sampled_from([*HOSTILE_CHARS, "A", "/", "+"]))
        headers["webhook-signature"] = signature[:position] + char + signature[position + 1 :]
    elif choice == "text":
        headers["webhook-signature"] = draw(text)
    elif choice == "version":
        version = draw(st.sampled_from(["v1a,", "V1,", "v2,", "v1,v1,", "v1 "]))
        headers["webhook-signature"] = version + signature[3:]
    if draw(st.booleans()) and draw(st.booleans()):
        del headers[draw(st.sampled_from(sorted(headers)))]
    if draw(st.booleans()) and draw(st.booleans()):
        body = body + b"\n"
    return body, headers


@given(
    delivery=deliveries(),
    key_set=st.sampled_from(sorted(KEY_SETS)),
    limits=st.sampled_from(POLICIES),
)
def test_fast_and_general_paths_agree_on_plain_dicts(
    delivery: tuple[bytes, dict[str, str]], key_set: str, limits: Limits
) -> None:
    body, headers = delivery
    fast, general = both(body, headers, KEY_SETS[key_set], limits)
    assert fast == general


@given(
    delivery=deliveries(),
    key_set=st.sampled_from(sorted(KEY_SETS)),
    shape=st.sampled_from(["lines", "bytes lines", "duplicate", "title-case dict"]),
)
def test_fast_and_general_paths_agree_on_other_header_shapes(
    delivery: tuple[bytes, dict[str, str]], key_set: str, shape: str
) -> None:
    body, plain = delivery
    headers: Any
    if shape == "lines":
        headers = Headers(list(plain.items()))
    elif shape == "bytes lines":
        headers = Headers([(k.encode(), v.encode("utf-8")) for k, v in plain.items()])
    elif shape == "duplicate":
        headers = Headers([*plain.items(), *plain.items()][: len(plain) + 1])
    else:
        headers = {k.title(): v for k, v in plain.items()}
    fast, general = both(body, headers, KEY_SETS[key_set], Limits())
    assert fast == general


HOSTILE_HEADERS = [
    {"webhook-timestamp": f"0{NOW}"},  # leading zero: refused as malformed_timestamp
    {"webhook-timestamp": f"{NOW}".replace("1", "\uff11")},
    {"webhook-timestamp": f" {NOW}"},
    {"webhook-timestamp": f"{NOW}.5"},
    {"webhook-timestamp": "9" * 13},
    {"webhook-timestamp": str(NOW - 301)},
    {"webhook-timestamp": str(NOW + 301)},
    {"webhook-id": "msg.1"},
    {"webhook-id": "msg 1"},
    {"webhook-id": "msg\x001"},
    {"webhook-id": "m\u00e9g"},
    {"webhook-id": "x" * 257},
    {"webhook-id": ""},
    {"webhook-id": "   "},
]


@pytest.mark.parametrize("change", HOSTILE_HEADERS, ids=repr)
@pytest.mark.parametrize("resigned", [False, True], ids=["original-mac", "resigned"])
def test_fast_and_general_paths_agree_on_hostile_values(
    change: dict[str, str], resigned: bool
) -> None:
    body = b'{"type":"invoice.paid"}'
    headers = {**genuine(body), **change}
    if resigned:
        headers = resign(headers, body)
    fast, general = both(body, headers, [SECRET_A], Limits())
    assert fast == general
    assert fast[0] == "rejected"  # every hostile value is refused, re-signed or not


@pytest.mark.parametrize(
    "signature",
    [
        "sig!!!",  # placeholders: "sig" is replaced by the genuine base64 below
        "sig==",
        "sig ",
        "sig\n",
        "sig\x00",
        "v1,AAAA AAAA AAAA AAAA AAAA AAAA AAAA AAAA AAA=",  # 47 chars with spaces
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  # well-formed, wrong
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",  # non-zero trailing bits
        "v1,\u00e9AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
    ids=repr,
)
def test_hostile_signatures_get_the_same_error_on_both_paths(signature: str) -> None:
    body = b"{}"
    headers = genuine(body)
    headers["webhook-signature"] = signature.replace("sig", headers["webhook-signature"])
    fast, general = both(body, headers, [SECRET_A], Limits())
    assert fast == general
    assert fast[0] == "rejected"


def test_the_common_delivery_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without this, the agreement tests above could pass by never leaving the general path."""
    body = b'{"type":"invoice.paid"}'
    headers = genuine(body)
    keys = SCHEME.load_keys([SECRET_B, SECRET_A])

    def refuse(*args: object) -> None:
        raise AssertionError("the general path was used")

    monkeypatch.setattr(StandardWebhooks, "_check_general", refuse)
    fast = SCHEME.prepare_fast_check(keys, Limits())
    assert fast is not None
    for shaped in (headers, Headers(list(headers.items()))):
        verified = fast(body, shaped, NOW)
        assert verified is not None
        assert verified.key_index == 1
        assert verified.body is body
        # Every configured key's MAC of the signed bytes: the rotation's replay identity.
        assert set(verified.replay_keys) == {
            make_replay_key(
                "standard-webhooks",
                key.digest_parts(f"{headers['webhook-id']}.{NOW}.".encode(), body),
            )
            for key in keys
        }
