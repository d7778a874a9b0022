"""GitHub, Stripe and Slack: the prepared fast check and the general path agree on every input.

Each of these schemes prepares a shortcut for the common delivery (one signature, the canonical
header names, every value well formed) and leaves everything else to ``_check_general``. The
tests feed both paths the same genuine, mutated and hostile deliveries, under several key sets
(rotation, wrong key) and policies, and require the same verdict: the same accepted fields
(including the replay key, which must not depend on which key matched), or the same error
class, reason and header.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import Headers, Signer, VerificationError
from hookseal._limits import Limits
from hookseal.schemes import GitHub, Slack, Stripe
from hookseal.schemes.base import Scheme

from ._paths import fast_then_check

NOW = 1_700_000_000
SECRET_A = "whsec_fast_path_secret_a"
SECRET_B = "whsec_fast_path_secret_b"
KEY_SETS = {
    "a": [SECRET_A],
    "b,a": [SECRET_B, SECRET_A],  # the older key matches
    "a,b": [SECRET_A, SECRET_B],
    "b (wrong)": [SECRET_B],
}
POLICIES = [
    Limits(),
    Limits(tolerance=60, max_id_length=8),
    Limits(max_header_bytes=66),  # below each fast path's signature length
    Limits(max_header_bytes=79),  # Stripe's usual header is 80 characters
    Limits(max_signatures=1),
]
SCHEMES: dict[str, Scheme] = {"github": GitHub(), "stripe": Stripe(), "slack": Slack()}
# The header a mutation targets, per scheme (the signature, the timestamp, the id).
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


def both(scheme: Scheme, body: bytes, headers: Any, secrets: list[str], limits: Limits) -> Any:
    keys = scheme.load_keys(secrets)
    fast = outcome(fast_then_check, scheme, body, headers, keys, limits, NOW)
    general = outcome(scheme._check_general, body, headers, keys, limits, NOW)  # type: ignore[attr-defined]
    return fast, general


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
    limits=st.sampled_from(POLICIES),
)
def test_fast_and_general_paths_agree_on_plain_dicts(
    delivery: tuple[str, bytes, dict[str, str]], key_set: str, limits: Limits
) -> None:
    name, body, headers = delivery
    fast, general = both(SCHEMES[name], body, headers, KEY_SETS[key_set], limits)
    assert fast == general


@given(
    delivery=deliveries(),
    key_set=st.sampled_from(sorted(KEY_SETS)),
    shape=st.sampled_from(["lines", "bytes lines", "duplicate", "lower dict", "title dict"]),
)
def test_fast_and_general_paths_agree_on_other_header_shapes(
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
    fast, general = both(SCHEMES[name], body, headers, KEY_SETS[key_set], Limits())
    assert fast == general


def test_both_spellings_in_one_dict_read_the_same_header() -> None:
    """A dict holding the lower-case and the canonical spelling: both paths read lower first."""
    body = b"{}"
    for name, scheme in SCHEMES.items():
        good = genuine(name, body)
        bad = genuine(name, body, secret=SECRET_B)
        for first, second in ((good, bad), (bad, good)):
            headers = {**second, **{k.lower(): v for k, v in first.items()}}
            fast, general = both(scheme, body, headers, [SECRET_A], Limits())
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
        "Stripe-Signature": [f"t=0{NOW},v1=" + "a" * 64, f"t={NOW},v1=" + "g" * 64,
                             f"t= {NOW},v1=" + "a" * 64, f"t={NOW}.5,v1=" + "a" * 64,
                             f"t={NOW - 301},v1=" + "a" * 64, f"t={NOW + 301},v1=" + "a" * 64,
                             "t=,v1=" + "a" * 64, f"t={NOW},v0=" + "a" * 64,
                             f"t={NOW},t={NOW},v1=" + "a" * 64, "t=" + "9" * 13 + ",v1=" + "a" * 64,
                             f"t={NOW},v1=" + "\uff11" * 64],
    },
    "slack": {
        "X-Slack-Signature": ["v0=" + "g" * 64, "v1=" + "a" * 64, "v0=" + "a" * 63 + "\x00",
                              "v0=" + "\u00e9" * 64],
        "X-Slack-Request-Timestamp": [f"0{NOW}", f" {NOW}", f"{NOW}.5", "9" * 13,
                                      str(NOW - 301), str(NOW + 301), "\uff11" * 10, ""],
    },
}
CASES = [
    (name, header, value)
    for name, by_header in HOSTILE_VALUES.items()
    for header, values in by_header.items()
    for value in values
]


@pytest.mark.parametrize(("name", "header", "value"), CASES, ids=repr)
def test_hostile_values_get_the_same_verdict_on_both_paths(
    name: str, header: str, value: str
) -> None:
    body = b'{"type":"invoice.paid"}'
    headers = {**genuine(name, body), header: value}
    fast, general = both(SCHEMES[name], body, headers, [SECRET_A], Limits())
    assert fast == general
    if header != "X-GitHub-Delivery" or value.strip():  # a blank GitHub id is simply absent
        assert fast[0] == "rejected"


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_the_common_delivery_takes_the_fast_path(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without this, the agreement tests above could pass by never leaving the general path."""
    scheme = SCHEMES[name]
    body = b'{"type":"invoice.paid"}'
    headers = genuine(name, body)
    expected = outcome(scheme._check_general, body, headers,  # type: ignore[attr-defined]
                       scheme.load_keys([SECRET_B, SECRET_A]), Limits(), NOW)

    def refuse(*args: object) -> None:
        raise AssertionError("the general path was used")

    monkeypatch.setattr(type(scheme), "_check_general", refuse)
    keys = scheme.load_keys([SECRET_B, SECRET_A])
    fast = scheme.prepare_fast_check(keys, Limits())
    assert fast is not None
    lower = {k.lower(): v for k, v in headers.items()}
    for shaped in (headers, lower, Headers(list(headers.items()))):
        assert outcome(fast, body, shaped, NOW) == expected
    assert expected[0] == "accepted"
    assert expected[4] == 1  # the older key matched; the replay key is still the newest's


def test_github_without_delivery_id_on_both_paths() -> None:
    body = b"{}"
    headers = genuine("github", body)
    del headers["X-GitHub-Delivery"]
    for shaped in (headers, Headers(list(headers.items()))):
        fast, general = both(SCHEMES["github"], body, shaped, [SECRET_A], Limits())
        assert fast == general
        assert fast[0] == "accepted"
        assert fast[3] is None
