"""Address forms and configuration of IPAllowlist (SECURITY.md checklist row 28)."""

from __future__ import annotations

import ipaddress

import pytest

from hookseal import ConfigurationError, ForbiddenAddress
from hookseal.network import IPAllowlist

TEN = IPAllowlist(["10.0.0.0/8", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "resolved"),
    [
        ("10.1.2.3", "10.1.2.3"),
        ("10.0.0.0", "10.0.0.0"),
        ("10.255.255.255", "10.255.255.255"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
        # IPv4-mapped and IPv4-compatible IPv6 are matched as the IPv4 they carry.
        ("::ffff:10.1.2.3", "10.1.2.3"),
        ("::FFFF:10.1.2.3", "10.1.2.3"),
        ("::ffff:a01:203", "10.1.2.3"),
        ("0:0:0:0:0:ffff:10.1.2.3", "10.1.2.3"),
        ("::10.1.2.3", "10.1.2.3"),
    ],
)
def test_allowed_address_forms(peer: str, resolved: str) -> None:
    assert TEN.check(peer, {}) == resolved
    assert TEN.allows(peer)


@pytest.mark.parametrize(
    "peer",
    [
        "9.255.255.255",
        "11.0.0.0",
        "8.8.8.8",
        "::ffff:8.8.8.8",  # row 28: mapped, but not a 10/8 address
        "2002:a01:203::1",  # row 28: 6to4 carrying 10.1.2.3 is NOT 10.1.2.3
        "2001::a01:203",  # Teredo-shaped, not unmapped either
        "64:ff9b::a01:203",  # NAT64 prefix, not unmapped
        "2001:db9::1",
        "::1",
        "::",
        "0.0.0.0",
        "127.0.0.1",
        "fe80::1",
    ],
)
def test_forbidden_address_forms(peer: str) -> None:
    with pytest.raises(ForbiddenAddress) as info:
        TEN.check(peer, {})
    assert info.value.reason == "forbidden_address"
    assert info.value.status_code == 403
    assert not TEN.allows(peer)


@pytest.mark.parametrize(
    "peer",
    [
        "fe80::1%eth0",  # zone id (row 28)
        "2001:db8::1%1",
        "010.1.2.3",  # leading zeros (row 28): octal in some parsers, refused here
        "10.01.2.3",
        "10.1.2.03",
        "::ffff:010.1.2.3",
        "10.1.2.3:80",  # ports
        "[2001:db8::1]",  # brackets
        "[2001:db8::1]:443",
        "[10.1.2.3]",
        "unknown",
        "_hidden",
        "",
        " ",
        " 10.1.2.3",
        "10.1.2.3 ",
        "10.1.2.3\n",
        "10.1.2",
        "10.1.2.3.4",
        "10.1.2.256",
        "167772161",  # 10.0.0.1 as one integer
        "0xa.1.2.3",
        "10.1.2.3/32",
        "1\u0660.1.2.3",  # Arabic-Indic zero
        "\uff11\uff10.1.2.3",  # full-width digits
        "2001:db8::g",
        "2001:db8:::1",
        "1:2:3:4:5:6:7:8:9",
        "2001:db8::1.2.3",
        "::ffff:" + "1" * 60,
        "a" * 10_000,
    ],
)
def test_malformed_addresses_are_refused_never_matched(peer: str) -> None:
    allow_all = IPAllowlist.allow_all()
    for allowlist in (TEN, allow_all):
        with pytest.raises(ForbiddenAddress) as info:
            allowlist.check(peer, {})
        assert info.value.reason == "malformed_address"
        assert not allowlist.allows(peer)


@pytest.mark.parametrize("peer", [None, 167772161, b"10.1.2.3", ipaddress.ip_address("10.1.2.3")])
def test_non_text_peer_is_refused(peer: object) -> None:
    with pytest.raises(ForbiddenAddress):
        TEN.check(peer, {})  # type: ignore[arg-type]


def test_default_ignores_forwarded_headers() -> None:
    # No trusted proxies: the socket peer is the client, whatever the headers claim (row 27).
    headers = {"X-Forwarded-For": "10.1.2.3", "Forwarded": "for=10.1.2.3"}
    with pytest.raises(ForbiddenAddress) as info:
        TEN.check("203.0.113.9", headers)
    assert info.value.reason == "forbidden_address"
    # ... even garbage in them is never parsed.
    assert TEN.check("10.9.9.9", {"X-Forwarded-For": "\x00garbage, [::1]:80"}) == "10.9.9.9"


def test_mapped_network_in_configuration_matches_ipv4() -> None:
    allowlist = IPAllowlist(["::ffff:10.0.0.0/104"])
    assert allowlist.networks == ("10.0.0.0/8",)
    assert allowlist.check("10.2.3.4", {}) == "10.2.3.4"
    assert allowlist.check("::ffff:10.2.3.4", {}) == "10.2.3.4"


def test_network_objects_and_bare_addresses_accepted() -> None:
    allowlist = IPAllowlist(
        [ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_address("2001:db8::5"), "198.51.100.7"]
    )
    assert allowlist.networks == ("192.0.2.0/24", "2001:db8::5/128", "198.51.100.7/32")
    assert allowlist.allows("198.51.100.7")
    assert not allowlist.allows("198.51.100.8")


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        (["10.1.2.3/8"], "did you mean '10.0.0.0/8'"),
        (["2001:db8::1/32"], "did you mean '2001:db8::/32'"),
        ([], "empty"),
        ("10.0.0.0/8", "not a single string"),
        (["10.0.0.0/33"], "prefix length"),
        (["2001:db8::/129"], "prefix length"),
        (["10.0.0.0/08"], "prefix length"),
        (["10.0.0.0/"], "prefix length"),
        (["10.0.0.0/255.0.0.0"], "netmask"),
        (["010.0.0.0/8"], "CIDR"),
        (["fe80::%eth0/64"], "CIDR"),
        (["example.com"], "CIDR"),
        (["::10.0.0.0/104"], "IPv4-compatible"),
        ([10], "CIDR string"),
        (["0.0.0.0/0"], "allow_all"),
        (["::/0"], "allow_all"),
        (["::ffff:0:0/96"], "allow_all"),  # the whole mapped range is 0.0.0.0/0
        # Every address, as a union rather than one /0 prefix:
        (["0.0.0.0/1", "128.0.0.0/1"], "allow_all"),
        (["::/1", "8000::/1"], "allow_all"),
        (["::ffff:0:0/97", "::ffff:128.0.0.0/97"], "allow_all"),
        (["0.0.0.0/1", "::ffff:128.0.0.0/97"], "allow_all"),
        ([f"{i}.0.0.0/8" for i in range(256)], "allow_all"),
        (["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"], "allow_all"),
        # Half an address family or more is no allowlist either:
        (["0.0.0.0/1"], "allow_all"),
        (["8000::/1"], "allow_all"),
        (["0.0.0.0/2", "64.0.0.0/2", "10.0.0.0/8"], "allow_all"),
        (None, "list"),
    ],
)
def test_configuration_mistakes_raise_at_construction(networks: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        IPAllowlist(networks)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trusted_proxies": []}, "empty"),
        ({"trusted_proxies": "10.0.0.0/8"}, "not a single string"),
        ({"trusted_proxies": ["10.0.0.1/8"]}, "host bits"),
        ({"trusted_proxies": ["0.0.0.0/0"]}, "/0"),
        ({"trusted_proxies": ["0.0.0.0/1", "128.0.0.0/1"]}, "every peer as a proxy"),
        ({"trusted_proxies": ["::/1", "8000::/1"]}, "every peer as a proxy"),
        ({"trusted_proxies": ["::ffff:0:0/97", "128.0.0.0/1"]}, "every peer as a proxy"),
        ({"trusted_proxies": ["0.0.0.0/1"]}, "every peer as a proxy"),
        ({"trusted_proxies": 0}, "at least 1"),
        ({"trusted_proxies": -1}, "at least 1"),
        ({"trusted_proxies": 21}, "at most"),
        ({"trusted_proxies": True}, "count"),
        ({"trusted_proxies": 1, "forwarded_header": "x-real-ip"}, "forwarded_header"),
        ({"forwarded_header": "forwarded"}, "trusted_proxies"),
        ({"max_forwarded_entries": 0}, "positive"),
        ({"max_forwarded_entries": True}, "positive"),
        ({"max_forwarded_entries": 2.5}, "positive"),
    ],
)
def test_option_mistakes_raise_at_construction(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        IPAllowlist(["10.0.0.0/8"], **options)  # type: ignore[arg-type]


def test_allow_all_admits_every_well_formed_address() -> None:
    allowlist = IPAllowlist.allow_all()
    cases = {
        "8.8.8.8": "8.8.8.8",
        "0.0.0.0": "0.0.0.0",
        "2001:db8::1": "2001:db8::1",
        "::ffff:8.8.8.8": "8.8.8.8",
        "::1": "::1",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    }
    for peer, resolved in cases.items():
        assert allowlist.check(peer, {}) == resolved
    assert "allow_all" in repr(allowlist)


def test_overlapping_and_adjacent_networks_merge() -> None:
    allowlist = IPAllowlist(["10.0.0.0/9", "10.128.0.0/9", "10.0.0.0/16", "11.0.0.0/8"])
    for inside in ("10.0.0.0", "10.127.255.255", "10.128.0.0", "11.255.255.255"):
        assert allowlist.allows(inside)
    for outside in ("9.255.255.255", "12.0.0.0"):
        assert not allowlist.allows(outside)


def test_repr_shows_counts_only() -> None:
    allowlist = IPAllowlist(
        ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"], trusted_proxies=["192.168.0.0/16"]
    )
    text = repr(allowlist)
    assert text == (
        "IPAllowlist(networks=<2 IPv4, 1 IPv6>, trusted_proxies=<1 network>, "
        "forwarded_header='x-forwarded-for', max_forwarded_entries=20)"
    )
    assert "10.0.0.0" not in text
    assert "trusted_proxies=3" in repr(IPAllowlist(["10.0.0.0/8"], trusted_proxies=3))


@pytest.mark.parametrize(
    "networks",
    [
        ["0.0.0.0/2", "64.0.0.0/3", "10.0.0.0/8"],  # under half of IPv4
        ["2400::/6", "fc00::/7"],  # a large share of global unicast IPv6 plus ULA
        ["0.0.0.0/2", "8000::/2"],  # a quarter of each family
    ],
)
def test_broad_but_partial_allowlists_are_accepted(networks: list[str]) -> None:
    allowlist = IPAllowlist(networks)
    assert allowlist.networks
    assert IPAllowlist(["10.0.0.0/8"], trusted_proxies=networks)


def test_allow_all_is_the_way_to_admit_every_address() -> None:
    with pytest.raises(ConfigurationError, match=r"allow_all\(\)"):
        IPAllowlist(["0.0.0.0/1", "128.0.0.0/1", "2001:db8::/32"])
    assert IPAllowlist.allow_all().allows("203.0.113.9")


@pytest.mark.parametrize(
    "prefix",
    ["2002::/16", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "::ffff:0:0:0/96", "2000::/3"],
)
def test_ipv6_prefixes_embedding_every_ipv4_address_are_refused(prefix: str) -> None:
    """6to4, NAT64, Teredo and SIIT stand for every IPv4 host behind a translator."""
    with pytest.raises(ConfigurationError, match="embeds every IPv4"):
        IPAllowlist([prefix])
    with pytest.raises(ConfigurationError, match="embeds every IPv4"):
        IPAllowlist(["192.0.2.0/24"], trusted_proxies=[prefix])
    IPAllowlist(["2002:c000:0200::/40"])  # 6to4 of 192.0.2.0/24 alone is fine


def test_interval_set_merges_overlapping_and_adjacent_intervals() -> None:
    from hookseal._addresses import IntervalSet

    intervals = IntervalSet([(10, 20), (1, 3), (4, 5), (15, 30), (40, 40)])
    assert len(intervals) == 3  # [1, 5], [10, 30], [40, 40]
    assert [v for v in (0, 1, 5, 6, 9, 10, 30, 31, 40, 41) if v in intervals] == [1, 5, 10, 30, 40]
