"""Shipped provider ranges (dated snapshots) and the refresh path from a downloaded document.

Sources of the published lists:
- GitHub: the ``hooks`` list of https://api.github.com/meta
  (docs: https://docs.github.com/en/rest/meta/meta);
- Stripe: the ``WEBHOOKS`` list of https://stripe.com/files/ips/ips_webhooks.json
  (docs: https://docs.stripe.com/ips).
"""

from __future__ import annotations

import datetime
import json
from importlib import resources

import pytest

from hookseal import ConfigurationError, ForbiddenAddress
from hookseal.network import IPAllowlist, provider_ranges

GITHUB_HOOKS = [
    "192.30.252.0/22",
    "185.199.108.0/22",
    "140.82.112.0/20",
    "143.55.64.0/20",
    "2a0a:a440::/29",
    "2606:50c0::/32",
]


@pytest.mark.parametrize(("provider", "key"), [("github", "hooks"), ("stripe", "WEBHOOKS")])
def test_shipped_files_are_dated_and_sourced(provider: str, key: str) -> None:
    ranges = provider_ranges(provider)
    assert ranges.provider == provider
    assert ranges.key == key
    assert ranges.source.startswith("https://")
    assert datetime.date.fromisoformat(ranges.retrieved) >= datetime.date(2026, 11, 1)
    assert ranges.networks
    # The file is shaped like the provider's own document, so the refresh path reads it too.
    name = {"github": "github-hooks.json", "stripe": "stripe-webhooks.json"}[provider]
    text = resources.files("hookseal").joinpath("data").joinpath(name).read_text("utf-8")
    document = json.loads(text)
    assert document["_retrieved"] == ranges.retrieved
    assert (
        IPAllowlist.from_json(text, key=key).networks
        == IPAllowlist.from_provider(provider).networks
    )


def test_github_snapshot() -> None:
    allowlist = IPAllowlist.github()
    assert allowlist.networks == tuple(GITHUB_HOOKS)
    for inside in (
        "192.30.252.1",
        "185.199.111.255",
        "140.82.127.254",
        "143.55.64.9",
        "2a0a:a440::1",
        "2a0a:a447:ffff::1",
        "2606:50c0:ffff::1",
        "::ffff:140.82.112.7",
    ):
        assert allowlist.check(inside, {})
    for outside in (
        "192.30.251.255",
        "192.30.0.1",
        "140.82.128.0",
        "2a0a:a448::1",
        "2a0a:a43f:ffff::1",
        "2606:50c1::1",
        "8.8.8.8",
    ):
        with pytest.raises(ForbiddenAddress):
            allowlist.check(outside, {})
    assert "github snapshot of 2026-11-24" in repr(allowlist)


def test_stripe_snapshot_single_addresses() -> None:
    allowlist = IPAllowlist.stripe()
    assert len(allowlist.networks) == 12
    assert all(n.endswith("/32") for n in allowlist.networks)
    assert allowlist.check("54.187.174.169", {}) == "54.187.174.169"
    assert allowlist.check("::ffff:3.18.12.63", {}) == "3.18.12.63"
    with pytest.raises(ForbiddenAddress):
        allowlist.check("54.187.174.170", {})


def test_refresh_from_a_downloaded_document() -> None:
    # What a user downloads from https://api.github.com/meta (abridged; other keys ignored).
    meta = {
        "verifiable_password_authentication": False,
        "hooks": ["198.51.100.0/24"],
        "web": ["192.0.2.0/24"],
    }
    for document in (meta, json.dumps(meta), json.dumps(meta).encode()):
        allowlist = IPAllowlist.github(document=document, trusted_proxies=1)
        assert allowlist.networks == ("198.51.100.0/24",)
        assert allowlist.check(None, {"X-Forwarded-For": "198.51.100.4"}) == "198.51.100.4"
        with pytest.raises(ForbiddenAddress):
            allowlist.check(None, {"X-Forwarded-For": "192.0.2.1"})  # "web" is not "hooks"
    stripe = IPAllowlist.stripe(document='{"WEBHOOKS": ["203.0.113.5"]}')
    assert stripe.networks == ("203.0.113.5/32",)
    generic = IPAllowlist.from_json('{"ranges": ["2001:db8::/48"]}', key="ranges")
    assert generic.allows("2001:db8::1")
    assert "JSON document key 'ranges'" in repr(generic)


@pytest.mark.parametrize(
    ("document", "key", "message"),
    [
        ("not json", "hooks", "not valid JSON"),
        ("[]", "hooks", "must be an object"),
        ('{"web": []}', "hooks", "no 'hooks' key"),
        ('{"hooks": "192.30.252.0/22"}', "hooks", "list of network strings"),
        ('{"hooks": [1]}', "hooks", "list of network strings"),
        ('{"hooks": []}', "hooks", "empty"),
        ('{"hooks": ["192.30.252.1/22"]}', "hooks", "host bits"),
        ('{"hooks": ["0.0.0.0/0"]}', "hooks", "allow_all"),
        ('{"hooks": ["0.0.0.0/1", "128.0.0.0/1"]}', "hooks", "allow_all"),
        ("[" * 100_000 + "]" * 100_000, "hooks", "nests"),
        ('{"hooks": ' + "[" * 100_000 + "]" * 100_000 + "}", "hooks", "nests"),
        (b"[" * 100_000 + b"]" * 100_000, "hooks", "nests"),
    ],
)
def test_bad_documents_raise_configuration_error(
    document: str | bytes, key: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        IPAllowlist.from_json(document, key=key)


def test_unknown_provider() -> None:
    with pytest.raises(ConfigurationError, match="Unknown provider"):
        IPAllowlist.from_provider("gitlab")
    with pytest.raises(ConfigurationError, match="Unknown provider"):
        provider_ranges("GitHub ")


def test_options_pass_through_provider_constructors() -> None:
    allowlist = IPAllowlist.github(trusted_proxies=["10.0.0.0/8"], forwarded_header="forwarded")
    assert allowlist.check("10.0.0.2", {"Forwarded": "for=192.30.252.9"}) == "192.30.252.9"
    with pytest.raises(ForbiddenAddress):
        allowlist.check("10.0.0.2", {"Forwarded": "for=8.8.8.8"})
