"""The schemes' prepared fast checks: each accepts or declines, and agrees with ``Scheme.check``.

Every scheme module in this directory already runs with the fast checks on and off (see
conftest.py). This module compares the two paths directly, in one run, on random, mutated and
hostile deliveries: a fast check returns the same accepted fields as ``check`` (including the
replay key, which must not depend on which key matched) or declines, and never raises; what it
declines, ``check`` decides. It also proves the verifier takes the fast check for the common
delivery on every entry point, so the agreement cannot pass by never leaving the general path.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from check_paths import classes_with_fast_checks, disable_fast_checks
from hookseal import (
    Headers,
    MalformedHeader,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verified,
    Verifier,
)
from hookseal.network import IPAllowlist
from hookseal.schemes import GitHub, Slack, StandardWebhooks, Stripe
from hookseal.schemes.base import HMACKey, Limits, Scheme, make_replay_key
from stable_ids import stable_repr


@pytest.fixture(autouse=True)
def check_path() -> str:
    """This module compares the two paths itself: each test runs once (see conftest.py)."""
    return "both"


NOW = 1_700_000_000
BODY = b'{"type":"invoice.paid"}'

# -- the two paths, through the public scheme contract ---------------------------------------


def accepted(verified: Verified) -> tuple[Any, ...]:
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


def outcome(call: Callable[[], Verified]) -> tuple[Any, ...]:
    try:
        verified = call()
    except VerificationError as exc:
        return ("rejected", type(exc), exc.reason, exc.header)
    return accepted(verified)


def both(
    scheme: Scheme,
    body: bytes,
    headers: Mapping[str, str],
    keys: Sequence[Any],
    limits: Limits,
    now: float = NOW,
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(what the verifier decides: the fast check, then check if it declines; check alone)."""
    general = outcome(lambda: scheme.check(body, headers, keys, limits, now, None, None))
    fast = scheme.prepare_fast_check(keys, limits)
    # A fast check only accepts or declines: a rejection raised here fails the test.
    verified = None if fast is None else fast(body, headers, now)
    return (general if verified is None else accepted(verified)), general


# == Standard Webhooks =========================================================================

SW = StandardWebhooks()
SW_SECRET_A = "whsec_" + base64.b64encode(b"a" * 32).decode()
SW_SECRET_B = "whsec_" + base64.b64encode(b"b" * 24).decode()
# A v1a public key (RFC 8032 test 1's public key): an HMAC must never be keyed with it.
SW_PUBLIC = (
    "whpk_"
    + base64.b64encode(
        bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    ).decode()
)
SW_KEY_SETS = {
    "a": [SW_SECRET_A],
    "b,a": [SW_SECRET_B, SW_SECRET_A],
    "a,b": [SW_SECRET_A, SW_SECRET_B],
    "public,a": [SW_PUBLIC, SW_SECRET_A],
    "b (wrong)": [SW_SECRET_B],
}
SW_LIMITS = [
    Limits(),
    Limits(tolerance=60, max_id_length=8),
    Limits(max_header_bytes=46),  # below the length of one v1 entry
    Limits(max_signatures=1),
]
# Characters that each hit some check: space, '.', control, DEL, non-ASCII, full-width digit.
SW_HOSTILE_CHARS = [" ", ".", "\x00", "\t", "\x7f", "\u00e9", "\uff11", "=", "!", ",", "_", "0"]
sw_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(SW_HOSTILE_CHARS),
        st.characters(min_codepoint=0x21, max_codepoint=0x7E),
    ),
    max_size=60,
)


def sw_both(
    body: bytes, headers: Mapping[str, str], secrets: list[str], limits: Limits, now: float = NOW
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    return both(SW, body, headers, SW.load_keys(secrets), limits, now)


def sw_genuine(
    body: bytes, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", ts: int = NOW
) -> dict[str, str]:
    return Signer(StandardWebhooks(), SW_SECRET_A).sign(body, timestamp=ts, msg_id=msg_id)


def sw_resign(headers: dict[str, str], body: bytes, key: bytes = b"a" * 32) -> dict[str, str]:
    """Sign whatever id and timestamp text the headers now hold (even malformed ones)."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    mac = hmac.digest(key, signed, "sha256")
    return {**headers, "webhook-signature": "v1," + base64.b64encode(mac).decode()}


@st.composite
def sw_deliveries(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    body = draw(st.binary(max_size=300))
    headers = sw_genuine(body, ts=NOW + draw(st.integers(-400, 400)))
    for name in ("webhook-id", "webhook-timestamp"):
        choice = draw(st.sampled_from(["keep", "keep", "text", "edit"]))
        if choice == "text":
            headers[name] = draw(sw_text)
        elif choice == "edit":
            position = draw(st.integers(0, len(headers[name])))
            value = headers[name]
            headers[name] = value[:position] + draw(sw_text) + value[position:]
    if draw(st.booleans()):  # a signature over the mutated id/timestamp text, so the MAC holds
        headers = sw_resign(headers, body)
    signature = headers["webhook-signature"]
    choice = draw(
        st.sampled_from(["keep", "keep", "truncate", "append", "replace", "text", "version"])
    )
    if choice == "truncate":
        headers["webhook-signature"] = signature[: draw(st.integers(0, len(signature) - 1))]
    elif choice == "append":
        headers["webhook-signature"] = signature + draw(sw_text)
    elif choice == "replace":
        position = draw(st.integers(3, len(signature) - 1))
        char = draw(st.sampled_from([*SW_HOSTILE_CHARS, "A", "/", "+"]))
        headers["webhook-signature"] = signature[:position] + char + signature[position + 1 :]
    elif choice == "text":
        headers["webhook-signature"] = draw(sw_text)
    elif choice == "version":
        version = draw(st.sampled_from(["v1a,", "V1,", "v2,", "v1,v1,", "v1 "]))
        headers["webhook-signature"] = version + signature[3:]
    if draw(st.booleans()) and draw(st.booleans()):
        del headers[draw(st.sampled_from(sorted(headers)))]
    if draw(st.booleans()) and draw(st.booleans()):
        body = body + b"\n"
    return body, headers


@given(
    delivery=sw_deliveries(),
    key_set=st.sampled_from(sorted(SW_KEY_SETS)),
    limits=st.sampled_from(SW_LIMITS),
)
def test_standard_webhooks_same_verdict_on_mutated_deliveries(
    delivery: tuple[bytes, dict[str, str]], key_set: str, limits: Limits
) -> None:
    body, headers = delivery
    fast, general = sw_both(body, headers, SW_KEY_SETS[key_set], limits)
    assert fast == general


@given(
    delivery=sw_deliveries(),
    key_set=st.sampled_from(sorted(SW_KEY_SETS)),
    shape=st.sampled_from(["lines", "bytes lines", "duplicate", "title-case dict"]),
)
def test_standard_webhooks_same_verdict_on_every_header_shape(
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
    fast, general = sw_both(body, headers, SW_KEY_SETS[key_set], Limits())
    assert fast == general


# Genuine-looking pieces (a valid signature, its id and timestamp) among hostile characters.
SW_VALID = sw_genuine(BODY, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek")
sw_tokens = st.lists(
    st.sampled_from(
        [
            *"v1a2,. =+/AQgE0\x00\u00e9-_",
            SW_VALID["webhook-signature"][3:],
            SW_VALID["webhook-id"],
            str(NOW),
        ]
    ),
    max_size=12,
).map("".join)


@given(sig=sw_tokens, msg_id=sw_tokens, ts=sw_tokens)
def test_standard_webhooks_same_verdict_on_recombined_pieces(
    sig: str, msg_id: str, ts: str
) -> None:
    headers = {"webhook-signature": sig, "webhook-id": msg_id, "webhook-timestamp": ts}
    fast, general = sw_both(BODY, headers, [SW_SECRET_A], Limits())
    assert fast == general


SW_HOSTILE_HEADERS = [
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


@pytest.mark.parametrize("change", SW_HOSTILE_HEADERS, ids=stable_repr)
@pytest.mark.parametrize("resigned", [False, True], ids=["original-mac", "resigned"])
def test_standard_webhooks_hostile_ids_and_timestamps_same_rejection(
    change: dict[str, str], resigned: bool
) -> None:
    headers = {**sw_genuine(BODY), **change}
    if resigned:
        headers = sw_resign(headers, BODY)
    fast, general = sw_both(BODY, headers, [SW_SECRET_A], Limits())
    assert fast == general
    assert fast[0] == "rejected"  # every hostile value is refused, re-signed or not


@pytest.mark.parametrize(
    "signature",
    [
        "sig!!!",  # placeholders: "sig" is replaced by the genuine signature
        "sig==",
        "sig ",
        "sig\n",
        "sig\x00",
        "v1,AAAA AAAA AAAA AAAA AAAA AAAA AAAA AAAA AAA=",  # 47 chars with spaces
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",  # well-formed, wrong
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",  # non-zero trailing bits
        "v1,\u00e9AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
    ids=stable_repr,
)
def test_standard_webhooks_hostile_signatures_same_rejection(signature: str) -> None:
    headers = sw_genuine(BODY)
    headers["webhook-signature"] = signature.replace("sig", headers["webhook-signature"])
    fast, general = sw_both(BODY, headers, [SW_SECRET_A], Limits())
    assert fast == general
    assert fast[0] == "rejected"


@given(
    position=st.integers(3, 46),
    replacement=st.sampled_from([" ", "  ", " v1,", "v1, ", " A"]),
    body=st.binary(max_size=40),
)
def test_standard_webhooks_spaced_signature_of_the_fast_length_same_rejection(
    position: int, replacement: str, body: bytes
) -> None:
    headers = Signer(SW, SW_SECRET_A).sign(body, timestamp=NOW, msg_id="msg_1")
    signature = headers["webhook-signature"]
    # Keep the fast check's length (47) so the value reaches the comparison.
    headers["webhook-signature"] = (signature[:position] + replacement + signature[position:])[:47]
    fast, general = sw_both(body, headers, [SW_SECRET_A], Limits())
    assert fast == general
    assert fast[0] == "rejected"


def test_standard_webhooks_a_forged_entry_before_the_genuine_one_is_accepted() -> None:
    """Two entries are not a 47-character value: the fast check declines, check accepts."""
    headers = sw_genuine(BODY)
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
    fast, general = sw_both(BODY, headers, [SW_SECRET_A], Limits())
    assert fast == general
    assert fast[0] == "accepted"


@given(
    offset=st.integers(-302, 302),
    fraction=st.sampled_from([0.0, 0.25, 0.5, 0.999999, 1e-9]),
    tolerance=st.sampled_from([1, 60, 300]),
)
def test_standard_webhooks_window_edges_same_verdict(
    offset: int, fraction: float, tolerance: int
) -> None:
    timestamp = NOW + offset
    headers = Signer(SW, SW_SECRET_A).sign(BODY, timestamp=timestamp, msg_id="msg_edge")
    now = NOW + fraction
    fast, general = sw_both(BODY, headers, [SW_SECRET_A], Limits(tolerance=tolerance), now)
    assert fast == general
    inside = now - tolerance <= timestamp <= now + tolerance
    assert (fast[0] == "accepted") == inside


def test_standard_webhooks_a_nan_clock_fails_closed_on_both_paths() -> None:
    headers = Signer(SW, SW_SECRET_A).sign(BODY, timestamp=NOW, msg_id="msg_nan")
    fast, general = sw_both(BODY, headers, [SW_SECRET_A], Limits(), float("nan"))
    assert fast == general
    assert fast[:3] == ("rejected", TimestampOutOfTolerance, "timestamp_too_old")


def test_standard_webhooks_prepares_no_fast_check_during_a_rotation() -> None:
    # Two secrets (a rotation): every delivery takes the general check, whose replay identity
    # holds every configured key's MAC of the signed bytes.
    keys = SW.load_keys([SW_SECRET_B, SW_SECRET_A])
    assert SW.prepare_fast_check(keys, Limits()) is None
    assert SW.prepare_fast_check(SW.load_keys([SW_SECRET_A]), Limits()) is not None
    headers = sw_genuine(BODY)
    verified = SW.check(BODY, headers, keys, Limits(), NOW, None, None)
    assert verified.key_index == 1
    assert set(verified.replay_keys) == {
        make_replay_key(
            "standard-webhooks",
            key.digest_parts(f"{headers['webhook-id']}.{NOW}.".encode(), BODY),
        )
        for key in keys
    }


# == GitHub, Stripe and Slack ==================================================================

SECRET_A = "whsec_fast_path_secret_a"
SECRET_B = "whsec_fast_path_secret_b"
KEY_SETS = {
    "a": [SECRET_A],
    "b,a": [SECRET_B, SECRET_A],  # the older key matches
    "a,b": [SECRET_A, SECRET_B],
    "b (wrong)": [SECRET_B],
}
LIMITS = [
    Limits(),
    Limits(tolerance=60, max_id_length=8),
    Limits(max_header_bytes=66),  # below each fast check's signature length
    Limits(max_header_bytes=79),  # Stripe's usual header is 80 characters
    Limits(max_signatures=1),
]
SCHEMES: dict[str, Scheme] = {"github": GitHub(), "stripe": Stripe(), "slack": Slack()}
# The headers a mutation targets, per scheme (the signature, the timestamp, the id).
TARGETS = {
    "github": ["X-Hub-Signature-256", "X-GitHub-Delivery"],
    "stripe": ["Stripe-Signature"],
    "slack": ["X-Slack-Signature", "X-Slack-Request-Timestamp"],
}
# Characters that each hit some check: space, separators, control, DEL, non-ASCII, full-width.
HOSTILE = [" ", ".", ",", "=", "\x00", "\t", "\x7f", "\u00e9", "\uff11", "0", "A", "f", "g", "-"]
text = st.text(
    alphabet=st.one_of(
        st.sampled_from(HOSTILE), st.characters(min_codepoint=0x21, max_codepoint=0x7E)
    ),
    max_size=80,
)


def hmac_both(
    name: str, body: bytes, headers: Mapping[str, str], secrets: list[str], limits: Limits
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    scheme = SCHEMES[name]
    return both(scheme, body, headers, scheme.load_keys(secrets), limits)


def genuine(name: str, body: bytes, ts: int = NOW, secret: str = SECRET_A) -> dict[str, str]:
    return Signer(SCHEMES[name], secret).sign(body, timestamp=ts, msg_id="72d3162e-cc78-11e3")


def mutate(draw: st.DrawFn, value: str) -> str:
    choice = draw(
        st.sampled_from(["truncate", "append", "insert", "replace", "text", "upper", "dup"])
    )
    if choice == "truncate":
        return value[: draw(st.integers(0, max(0, len(value) - 1)))]
    if choice == "append":
        return value + draw(text)
    position = draw(st.integers(0, len(value)))
    if choice == "insert":
        return value[:position] + draw(text) + value[position:]
    if choice == "replace":
        return value[:position] + draw(st.sampled_from(HOSTILE)) + value[position + 1 :]
    if choice == "upper":
        return value.upper()
    if choice == "dup":  # e.g. a second 'v1=' entry or a second 't='
        return value + "," + value
    return draw(text)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[str, bytes, dict[str, str]]:
    name = draw(st.sampled_from(sorted(SCHEMES)))
    body = draw(st.binary(max_size=200))
    secret = draw(st.sampled_from([SECRET_A, SECRET_A, SECRET_B]))
    headers = genuine(name, body, NOW + draw(st.integers(-400, 400)), secret)
    for target in TARGETS[name]:
        if draw(st.integers(0, 2)) == 0:
            headers[target] = mutate(draw, headers[target])
    if name == "stripe" and draw(st.booleans()):  # test mode's v0, or a rotation's second v1
        extra = draw(st.sampled_from(["v0", "v1"]))
        headers["Stripe-Signature"] += f",{extra}=" + "ab" * 32
    if draw(st.integers(0, 3)) == 0:
        del headers[draw(st.sampled_from(sorted(headers)))]
    if draw(st.integers(0, 3)) == 0:
        body += b"\n"
    return name, body, headers


@given(
    delivery=deliveries(),
    key_set=st.sampled_from(sorted(KEY_SETS)),
    limits=st.sampled_from(LIMITS),
)
def test_github_stripe_slack_same_verdict_on_mutated_deliveries(
    delivery: tuple[str, bytes, dict[str, str]], key_set: str, limits: Limits
) -> None:
    name, body, headers = delivery
    fast, general = hmac_both(name, body, headers, KEY_SETS[key_set], limits)
    assert fast == general


@given(
    delivery=deliveries(),
    key_set=st.sampled_from(sorted(KEY_SETS)),
    shape=st.sampled_from(["lines", "bytes lines", "duplicate", "lower dict", "title dict"]),
)
def test_github_stripe_slack_same_verdict_on_every_header_shape(
    delivery: tuple[str, bytes, dict[str, str]], key_set: str, shape: str
) -> None:
    name, body, plain = delivery
    headers: Any
    if shape == "lines":
        headers = Headers(list(plain.items()))
    elif shape == "bytes lines":
        headers = Headers([(k.encode(), v.encode("utf-8")) for k, v in plain.items()])
    elif shape == "duplicate":
        items = list(plain.items())
        headers = Headers(items + items[:1])
    elif shape == "lower dict":
        headers = {k.lower(): v for k, v in plain.items()}
    else:
        headers = {k.title(): v for k, v in plain.items()}
    fast, general = hmac_both(name, body, headers, KEY_SETS[key_set], Limits())
    assert fast == general


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_a_dict_with_both_spellings_is_read_lower_case_first_on_both_paths(name: str) -> None:
    good = genuine(name, BODY)
    bad = genuine(name, BODY, secret=SECRET_B)
    for first, second in ((good, bad), (bad, good)):
        headers = {**second, **{k.lower(): v for k, v in first.items()}}
        fast, general = hmac_both(name, BODY, headers, [SECRET_A], Limits())
        assert fast == general
        assert fast[0] == ("accepted" if first is good else "rejected")


HOSTILE_VALUES = {
    "github": {
        "X-Hub-Signature-256": [
            "sha256=" + "g" * 64,
            "sha256=" + "a" * 63 + " ",
            "sha1=" + "a" * 66,
            "SHA256=" + "a" * 64,
            "sha256=" + "\u00e9" * 64,
        ],
        "X-GitHub-Delivery": ["", "   ", "a b", "x" * 257, "id\x00", "\u00e9t\u00e9"],
    },
    "stripe": {
        "Stripe-Signature": [
            f"t=0{NOW},v1=" + "a" * 64,
            f"t={NOW},v1=" + "g" * 64,
            f"t= {NOW},v1=" + "a" * 64,
            f"t={NOW}.5,v1=" + "a" * 64,
            f"t={NOW - 301},v1=" + "a" * 64,
            f"t={NOW + 301},v1=" + "a" * 64,
            "t=,v1=" + "a" * 64,
            f"t={NOW},v0=" + "a" * 64,
            f"t={NOW},t={NOW},v1=" + "a" * 64,
            "t=" + "9" * 13 + ",v1=" + "a" * 64,
            f"t={NOW},v1=" + "\uff11" * 64,
        ],
    },
    "slack": {
        "X-Slack-Signature": [
            "v0=" + "g" * 64,
            "v1=" + "a" * 64,
            "v0=" + "a" * 63 + "\x00",
            "v0=" + "\u00e9" * 64,
        ],
        "X-Slack-Request-Timestamp": [
            f"0{NOW}",
            f" {NOW}",
            f"{NOW}.5",
            "9" * 13,
            str(NOW - 301),
            str(NOW + 301),
            "\uff11" * 10,
            "",
        ],
    },
}
CASES = [
    (name, header, value)
    for name, by_header in HOSTILE_VALUES.items()
    for header, values in by_header.items()
    for value in values
]


@pytest.mark.parametrize(("name", "header", "value"), CASES, ids=stable_repr)
def test_github_stripe_slack_hostile_values_same_rejection(
    name: str, header: str, value: str
) -> None:
    headers = {**genuine(name, BODY), header: value}
    fast, general = hmac_both(name, BODY, headers, [SECRET_A], Limits())
    assert fast == general
    if header != "X-GitHub-Delivery" or value.strip():  # a blank GitHub id is simply absent
        assert fast[0] == "rejected"


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_the_fast_check_accepts_the_common_delivery_of_a_rotation(name: str) -> None:
    scheme = SCHEMES[name]
    keys = scheme.load_keys([SECRET_B, SECRET_A])
    fast = scheme.prepare_fast_check(keys, Limits())
    assert fast is not None
    headers = genuine(name, BODY)
    expected = outcome(lambda: scheme.check(BODY, headers, keys, Limits(), NOW, None, None))
    assert expected[0] == "accepted"
    assert expected[4] == 1  # the older key matched; the replay key is still the newest's
    lower = {k.lower(): v for k, v in headers.items()}
    for shaped in (headers, lower, Headers(list(headers.items()))):
        verified = fast(BODY, shaped, NOW)
        assert verified is not None  # accepted by the fast check alone, check never called
        assert accepted(verified) == expected


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_a_header_limit_below_the_signature_length_is_the_same_rejection(name: str) -> None:
    """Below the length of the common signature no fast check can accept: check refuses."""
    headers = genuine(name, BODY)
    fast, general = hmac_both(name, BODY, headers, [SECRET_A], Limits(max_header_bytes=66))
    assert fast == general
    assert fast[:3] == ("rejected", MalformedHeader, "header_too_long")


def test_standard_webhooks_header_limit_below_one_entry_is_the_same_rejection() -> None:
    fast, general = sw_both(BODY, sw_genuine(BODY), [SW_SECRET_A], Limits(max_header_bytes=46))
    assert fast == general
    assert fast[:3] == ("rejected", MalformedHeader, "header_too_long")


# == the verifier's use of the fast checks =====================================================

VERIFIER_SECRETS = {
    "standard-webhooks": "whsec_" + base64.b64encode(b"k" * 32).decode(),
    "github": "github-secret",
    "stripe": "whsec_stripe_secret",
    "slack": "slack-signing-secret",
}
VERIFIER_SCHEMES: dict[str, type[Scheme]] = {
    "standard-webhooks": StandardWebhooks,
    "github": GitHub,
    "stripe": Stripe,
    "slack": Slack,
}
OTHER_SECRETS = {
    "standard-webhooks": "whsec_" + base64.b64encode(b"o" * 32).decode(),
    "github": "another-github-secret",
    "stripe": "whsec_another_stripe_secret",
    "slack": "another-slack-signing-secret",
}


def signed(name: str) -> dict[str, str]:
    headers = Signer(VERIFIER_SCHEMES[name](), VERIFIER_SECRETS[name]).sign(
        BODY, timestamp=NOW, msg_id="msg_fast_check"
    )
    return {key.lower(): value for key, value in headers.items()}


def test_every_scheme_with_a_fast_check_is_compared_here() -> None:
    """A new fast check needs its agreement tests (and its place in the lists above)."""
    assert {kind.name for kind in classes_with_fast_checks()} <= set(VERIFIER_SCHEMES)


@pytest.mark.parametrize("name", sorted(VERIFIER_SCHEMES))
def test_the_general_check_path_leaves_every_delivery_to_check(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What conftest.py's ``general`` param does: no fast check, so check sees every delivery."""
    kind = VERIFIER_SCHEMES[name]
    keys = kind().load_keys([VERIFIER_SECRETS[name]])
    assert kind().prepare_fast_check(keys, Limits()) is not None
    assert kind in disable_fast_checks(monkeypatch)
    assert kind().prepare_fast_check(keys, Limits()) is None
    calls: list[str] = []
    original = kind.check

    def counting(self: Scheme, *args: Any) -> Verified:
        calls.append(name)
        return original(self, *args)

    monkeypatch.setattr(kind, "check", counting)
    verifier = Verifier(kind(), VERIFIER_SECRETS[name], nonce_store=None)
    assert verifier.verify(BODY, signed(name), now=NOW).scheme == name
    assert calls == [name]


@pytest.mark.parametrize("name", sorted(VERIFIER_SCHEMES))
def test_every_verify_entry_point_uses_the_fast_check(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = VERIFIER_SCHEMES[name]
    headers = signed(name)
    verifier = Verifier(kind(), VERIFIER_SECRETS[name], nonce_store=None)
    allowlisted = Verifier(
        kind(), VERIFIER_SECRETS[name], nonce_store=None, allowlist=IPAllowlist(["10.0.0.0/8"])
    )

    def refuse(*args: object) -> None:
        raise AssertionError("scheme.check was called for the common delivery")

    monkeypatch.setattr(kind, "check", refuse)
    results = [
        verifier.verify(BODY, headers, now=NOW),
        verifier.verify(BODY, Headers(list(headers.items())), now=NOW),
        verifier.verify(bytearray(BODY), headers, now=NOW),  # not bytes: converted first
        asyncio.run(verifier.averify(BODY, headers, now=NOW)),
        allowlisted.verify(BODY, headers, remote_addr="10.1.2.3", now=NOW),
    ]
    for verified in results:
        assert verified.scheme == name
        assert verified.body == BODY


@pytest.mark.parametrize("name", sorted(VERIFIER_SCHEMES))
def test_a_declined_delivery_goes_to_check(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated header lines are not the common delivery: check decides (and refuses)."""
    kind = VERIFIER_SCHEMES[name]
    headers = signed(name)
    verifier = Verifier(kind(), VERIFIER_SECRETS[name], nonce_store=None)
    calls: list[str] = []
    original = kind.check

    def counting(self: Scheme, *args: Any) -> Verified:
        calls.append(name)
        return original(self, *args)

    monkeypatch.setattr(kind, "check", counting)
    lines = list(headers.items())
    verifier.verify(BODY, Headers(lines), now=NOW)
    assert calls == []
    with pytest.raises(VerificationError) as raised:
        verifier.verify(BODY, Headers(lines + lines), now=NOW)
    assert calls == [name]
    assert raised.value.reason == "duplicate_header"


@pytest.mark.parametrize("name", sorted(VERIFIER_SCHEMES))
def test_a_forged_common_delivery_is_declined_and_refused_by_check(name: str) -> None:
    """A fast check only accepts or declines: the rejection, and its reason, come from check."""
    headers = signed(name)
    scheme = VERIFIER_SCHEMES[name]()
    fast = scheme.prepare_fast_check(scheme.load_keys([OTHER_SECRETS[name]]), Limits())
    assert fast is not None
    assert fast(BODY, headers, NOW) is None
    verifier = Verifier(VERIFIER_SCHEMES[name](), OTHER_SECRETS[name], nonce_store=None)
    with pytest.raises(SignatureMismatch) as raised:
        verifier.verify(BODY, headers, now=NOW)
    assert raised.value.reason == "signature_mismatch"


@pytest.mark.parametrize("name", ["standard-webhooks", "stripe", "slack"])
def test_the_window_is_compared_exactly_as_check_window_does_with_any_clock(name: str) -> None:
    """abs(ts - now) rounds differently from 'ts <= now + tolerance' for some negative clocks."""
    kind = VERIFIER_SCHEMES[name]
    headers = Signer(kind(), VERIFIER_SECRETS[name]).sign(BODY, timestamp=59, msg_id="msg_w")
    verifier = Verifier(kind(), VERIFIER_SECRETS[name], tolerance=1024, nonce_store=None)
    now = -965.0000000000001
    assert not now + 1024 >= 59  # outside the window, by the arithmetic of check_window
    with pytest.raises(TimestampOutOfTolerance) as raised:
        verifier.verify(BODY, headers, now=now)
    assert raised.value.reason == "timestamp_in_future"


class _CountedState:
    def __init__(self, state: Any, copies: list[int]) -> None:
        self._state = state
        self._copies = copies

    def copy(self) -> Any:
        self._copies.append(1)
        return self._state.copy()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


@pytest.mark.parametrize(
    "signature",
    [
        "v1," + "!" * 44,
        "v1," + "\u00e9" * 44,
        "v1," + "\x00" * 44,
        "v1,=" + "A" * 43,  # padding first
        "v1," + "A" * 42 + "B=",  # non-zero trailing bits: not canonical
        "v1," + "A" * 43 + " ",  # a trailing space
        "v1,AAAA v1," + "A" * 36,  # two entries
    ],
)
def test_a_malformed_standard_webhooks_signature_costs_no_more_than_a_forgery(
    signature: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused as malformed, after at most one MAC per key (a declined fast check's work is
    not done again by check)."""
    headers = {**signed("standard-webhooks"), "webhook-signature": signature}
    copies: list[int] = []
    original_init = HMACKey.__init__

    def init(key: HMACKey, *args: Any, **kwargs: Any) -> None:
        original_init(key, *args, **kwargs)
        key._inner = _CountedState(key._inner, copies)  # type: ignore[assignment]

    monkeypatch.setattr(HMACKey, "__init__", init)
    verifier = Verifier(StandardWebhooks(), VERIFIER_SECRETS["standard-webhooks"], nonce_store=None)
    with pytest.raises(VerificationError) as raised:
        verifier.verify(BODY, headers, now=NOW)
    assert raised.value.reason in ("malformed_header", "signature_mismatch")
    if signature != "v1,AAAA v1," + "A" * 36:  # two well-formed (short) entries: a mismatch
        assert raised.value.reason == "malformed_header"
    assert len(copies) <= 1


@pytest.mark.parametrize("name", sorted(VERIFIER_SCHEMES))
def test_a_subclass_that_overrides_check_decides_alone(name: str) -> None:
    class Stricter(VERIFIER_SCHEMES[name]):  # type: ignore[valid-type, misc]
        def check(self, *args: object) -> Any:
            raise SignatureMismatch("refused by the subclass")

    verifier = Verifier(Stricter(), VERIFIER_SECRETS[name], nonce_store=None)
    with pytest.raises(SignatureMismatch, match="refused by the subclass"):
        verifier.verify(BODY, signed(name), now=NOW)


def test_huge_limits_still_build_a_fast_check() -> None:
    verifier = Verifier(
        StandardWebhooks(),
        VERIFIER_SECRETS["standard-webhooks"],
        nonce_store=None,
        max_id_length=2**40,
        max_header_bytes=2**40,
    )
    scheme = verifier.scheme
    keys = scheme.load_keys([VERIFIER_SECRETS["standard-webhooks"]])
    fast = scheme.prepare_fast_check(keys, verifier.limits)
    assert fast is not None
    assert fast(BODY, signed("standard-webhooks"), NOW) is not None
    assert verifier.verify(BODY, signed("standard-webhooks"), now=NOW).msg_id == "msg_fast_check"
