"""The verifier runs the scheme's prepared fast check first, on every path, and ``check`` after it.

The agreement tests next to this one prove that the fast checks give the verdicts of the
general path; these prove the verifier actually calls them (in ``verify`` with a dict, with
``Headers``, in ``averify``, after an allowlist) and falls back to ``check`` when they decline.
"""

from __future__ import annotations

import asyncio
import base64

import pytest

from hookseal import Headers, SignatureMismatch, Signer, Verifier
from hookseal.network import IPAllowlist
from hookseal.schemes import GitHub, Slack, StandardWebhooks, Stripe
from hookseal.schemes._base import Scheme

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
def test_a_forged_common_delivery_is_refused_by_the_fast_check(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A well-formed delivery with a wrong MAC gets its verdict without a second MAC pass."""
    headers = signed(name)
    verifier = Verifier(SCHEMES[name](), OTHER_SECRETS[name], nonce_store=None)
    refuse_check(monkeypatch, name)
    with pytest.raises(SignatureMismatch) as raised:
        verifier.verify(BODY, headers, now=NOW)
    assert raised.value.reason == "signature_mismatch"


def test_a_stale_delivery_is_left_to_check_for_its_exact_error() -> None:
    headers = signed("standard-webhooks")
    verifier = Verifier(StandardWebhooks(), SECRETS["standard-webhooks"], nonce_store=None)
    with pytest.raises(Exception) as raised:
        verifier.verify(BODY, headers, now=NOW + 301)
    assert getattr(raised.value, "reason", None) == "timestamp_too_old"
