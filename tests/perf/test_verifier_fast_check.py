"""The verifier runs the scheme's prepared fast check first, on every path, and ``check`` after it.

The agreement tests next to this one prove that the fast checks give the verdicts of the
general path; these prove the verifier actually calls them (in ``verify`` with a dict, with
``Headers``, in ``averify``, after an allowlist) and falls back to ``check`` when they decline.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from hookseal import (
    ConfigurationError,
    Headers,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal._keys import HMACKey
from hookseal._limits import Limits
from hookseal.network import IPAllowlist
from hookseal.schemes import GitHub, Slack, StandardWebhooks, Stripe
from hookseal.schemes.base import Scheme

NOW = 1_700_000_000
SECRETS = {
    "standard-webhooks": "whsec_" + base64.b64encode(b"k" * 32).decode(),
    "github": "github-secret",
    "stripe": "whsec_stripe_secret",
    "slack": "slack-signing-secret",
}
SCHEMES: dict[str, type[Scheme]] = {
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
BODY = b'{"type":"invoice.paid"}'


def signed(name: str) -> dict[str, str]:
    headers = Signer(SCHEMES[name](), SECRETS[name]).sign(
        BODY, timestamp=NOW, msg_id="msg_fast_check"
    )
    return {key.lower(): value for key, value in headers.items()}


def refuse_check(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("scheme.check was called for the common delivery")

    monkeypatch.setattr(SCHEMES[name], "check", refuse)


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_every_verify_path_uses_the_fast_check(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    headers = signed(name)
    verifier = Verifier(SCHEMES[name](), SECRETS[name], nonce_store=None)
    allowlisted = Verifier(
        SCHEMES[name](), SECRETS[name], nonce_store=None, allowlist=IPAllowlist(["10.0.0.0/8"])
    )
    refuse_check(monkeypatch, name)
    results = [
        verifier.verify(BODY, headers, now=NOW),
        verifier.verify(BODY, Headers(list(headers.items())), now=NOW),
        verifier.verify(bytearray(BODY), headers, now=NOW),  # not bytes: through _check
        asyncio.run(verifier.averify(BODY, headers, now=NOW)),
        allowlisted.verify(BODY, headers, remote_addr="10.1.2.3", now=NOW),
    ]
    for verified in results:
        assert verified.scheme == name
        assert verified.body == BODY


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_a_declined_delivery_goes_to_check(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated header lines are not the common delivery: check decides (and refuses)."""
    headers = signed(name)
    verifier = Verifier(SCHEMES[name](), SECRETS[name], nonce_store=None)
    calls: list[str] = []
    original = SCHEMES[name].check

    def counting(self: Scheme, *args: object) -> object:
        calls.append(name)
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SCHEMES[name], "check", counting)
    lines = list(headers.items())
    verifier.verify(BODY, Headers(lines), now=NOW)
    assert calls == []
    with pytest.raises(Exception) as raised:
        verifier.verify(BODY, Headers(lines + lines), now=NOW)
    assert calls == [name]
    assert getattr(raised.value, "reason", None) == "duplicate_header"


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_a_forged_common_delivery_is_declined_and_refused_by_check(name: str) -> None:
    """A fast check only accepts or declines: the rejection, and its reason, come from check."""
    headers = signed(name)
    scheme = SCHEMES[name]()
    fast = scheme.prepare_fast_check(scheme.load_keys([OTHER_SECRETS[name]]), Limits())
    assert fast is not None
    assert fast(BODY, headers, NOW) is None
    verifier = Verifier(SCHEMES[name](), OTHER_SECRETS[name], nonce_store=None)
    with pytest.raises(SignatureMismatch) as raised:
        verifier.verify(BODY, headers, now=NOW)
    assert raised.value.reason == "signature_mismatch"


def test_a_stale_delivery_is_left_to_check_for_its_exact_error() -> None:
    headers = signed("standard-webhooks")
    verifier = Verifier(StandardWebhooks(), SECRETS["standard-webhooks"], nonce_store=None)
    with pytest.raises(Exception) as raised:
        verifier.verify(BODY, headers, now=NOW + 301)
    assert getattr(raised.value, "reason", None) == "timestamp_too_old"


# -- found by review: each of these once diverged from the general path ------------------------


@pytest.mark.parametrize("name", ["standard-webhooks", "stripe", "slack"])
def test_the_window_is_compared_exactly_as_check_window_does_with_any_clock(name: str) -> None:
    """abs(ts - now) rounds differently from 'ts <= now + tolerance' for some negative clocks."""
    headers = Signer(SCHEMES[name](), SECRETS[name]).sign(BODY, timestamp=59, msg_id="msg_w")
    verifier = Verifier(SCHEMES[name](), SECRETS[name], tolerance=1024, nonce_store=None)
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
    """Refused as malformed, after at most one MAC per key (a declined fast check is not
    tried again)."""
    headers = {**signed("standard-webhooks"), "webhook-signature": signature}
    copies: list[int] = []
    original_init = HMACKey.__init__

    def init(key: HMACKey, *args: Any, **kwargs: Any) -> None:
        original_init(key, *args, **kwargs)
        key._inner = _CountedState(key._inner, copies)

    monkeypatch.setattr(HMACKey, "__init__", init)
    verifier = Verifier(StandardWebhooks(), SECRETS["standard-webhooks"], nonce_store=None)
    with pytest.raises(VerificationError) as raised:
        verifier.verify(BODY, headers, now=NOW)
    assert raised.value.reason in ("malformed_header", "signature_mismatch")
    if signature != "v1,AAAA v1," + "A" * 36:  # two well-formed (short) entries: a mismatch
        assert raised.value.reason == "malformed_header"
    assert len(copies) <= 1


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_a_subclass_that_overrides_check_decides_alone(name: str) -> None:
    class Stricter(SCHEMES[name]):  # type: ignore[valid-type, misc]
        def check(self, *args: object) -> Any:
            raise SignatureMismatch("refused by the subclass")

    verifier = Verifier(Stricter(), SECRETS[name], nonce_store=None)
    with pytest.raises(SignatureMismatch, match="refused by the subclass"):
        verifier.verify(BODY, signed(name), now=NOW)


def test_huge_limits_still_build_a_fast_check() -> None:
    verifier = Verifier(
        StandardWebhooks(),
        SECRETS["standard-webhooks"],
        nonce_store=None,
        max_id_length=2**40,
        max_header_bytes=2**40,
    )
    assert verifier._fast_check is not None
    assert verifier.verify(BODY, signed("standard-webhooks"), now=NOW).msg_id == "msg_fast_check"


def test_the_policy_cannot_change_under_a_prepared_check() -> None:
    verifier = Verifier(Stripe(), SECRETS["stripe"], nonce_store=None)
    with pytest.raises(AttributeError, match="read-only"):
        verifier.limits.tolerance = 10  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        del verifier.limits.max_header_bytes  # type: ignore[misc]
    with pytest.raises(ConfigurationError, match="2\\*\\*53"):
        Verifier(Stripe(), SECRETS["stripe"], tolerance=10**400)
