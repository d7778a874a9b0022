"""Hypothesis: the allowlist agrees with a naive ``ipaddress`` scan; the parsers never crash."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import ConfigurationError, Headers, VerificationError
from hookseal.network import IPAllowlist

MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
COMPAT = ipaddress.IPv6Network("::/96")
Net = ipaddress.IPv4Network | ipaddress.IPv6Network
Addr = ipaddress.IPv4Address | ipaddress.IPv6Address


def naive_unmap(addr: Addr) -> Addr:
    """What the address is matched as: IPv4-mapped and IPv4-compatible IPv6 as their IPv4."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
        if addr in COMPAT and int(addr) > 1:
            return ipaddress.IPv4Address(int(addr))
    return addr


def naive_network(net: Net) -> Net | None:
    """The network as configured, or None when the configuration must be refused."""
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96:
        if net.subnet_of(MAPPED):
            net = ipaddress.IPv4Network((int(net.network_address) & 0xFFFFFFFF, net.prefixlen - 96))
        elif net.subnet_of(COMPAT) and (net.prefixlen < 128 or int(net.network_address) > 1):
            return None  # IPv4-compatible: the IPv4 network must be written instead
    if net.prefixlen == 0:
        return None
    return net


EMBEDDING_ALL_IPV4 = [
    ipaddress.ip_network(text)
    for text in ("2002::/16", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "::ffff:0:0:0/96")
]


def naive_too_broad(networks: list[Net]) -> bool:
    """Whether the networks cover half an address family or more, or a whole IPv6 prefix
    that embeds every IPv4 address (6to4, NAT64, Teredo, SIIT): refused."""
    for net in networks:
        if net.version == 6 and any(prefix.subnet_of(net) for prefix in EMBEDDING_ALL_IPV4):  # type: ignore[arg-type]
            return True
    for version, space in ((4, 2**32), (6, 2**128)):
        family = [net for net in networks if net.version == version]
        covered = sum(net.num_addresses for net in ipaddress.collapse_addresses(family))
        if 2 * covered >= space:
            return True
    return False


def attempt(allowlist: IPAllowlist, peer: str, headers: object) -> tuple[str | None, str | None]:
    """``(resolved address, None)`` or ``(None, reason)``; any other exception propagates."""
    try:
        return allowlist.check(peer, headers), None  # type: ignore[arg-type]
    except VerificationError as exc:
        return None, exc.reason


def naive_allows(networks: list[Net], address: str) -> bool:
    addr = naive_unmap(ipaddress.ip_address(address))
    return any(addr.version == net.version and addr in net for net in networks)


@st.composite
def networks(draw: st.DrawFn) -> Net:
    if draw(st.booleans()):
        value = draw(st.integers(0, 2**32 - 1))
        prefix = draw(st.integers(0, 32))
        return ipaddress.IPv4Network((value, prefix), strict=False)
    # Bias IPv6 towards the mapped and compatible ranges, where the edge cases live.
    base = draw(st.sampled_from([0, 0xFFFF << 32, 0x2002 << 112, 0x20010DB8 << 96]))
    value = base | draw(st.integers(0, 2 ** draw(st.sampled_from([16, 32, 48, 128])) - 1))
    value &= 2**128 - 1
    prefix = draw(st.integers(0, 128))
    return ipaddress.IPv6Network((value, prefix), strict=False)


def address_texts(nets: list[Net]) -> st.SearchStrategy[str]:
    """Random addresses plus the edges of the drawn networks, in several text forms."""
    edges: list[Addr] = []
    for net in nets:
        first, last = int(net.network_address), int(net.broadcast_address)
        top = 2**32 - 1 if net.version == 4 else 2**128 - 1
        for value in (first - 1, first, last, last + 1):
            if 0 <= value <= top:
                edges.append(
                    ipaddress.ip_address(value)
                    if net.version == 4
                    else ipaddress.IPv6Address(value)
                )
    v4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
    v6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)
    plain = st.one_of(v4, v6, *([st.sampled_from(edges)] if edges else [])).map(str)
    mapped = (
        st.one_of(v4, *([st.sampled_from(edges)] if edges else []))
        .filter(lambda a: a.version == 4)
        .flatmap(
            lambda a: st.sampled_from(
                [f"::ffff:{a}", f"::{a}", f"::FFFF:{int(a) >> 16:x}:{int(a) & 0xFFFF:x}"]
            )
        )
    )
    return st.one_of(plain, mapped)


@given(st.data(), st.lists(networks(), min_size=1, max_size=8))
def test_agrees_with_naive_ipaddress_scan(data: st.DataObject, drawn: list[Net]) -> None:
    configured = [naive_network(net) for net in drawn]
    specs = [net.with_prefixlen for net in drawn]
    kept = [net for net in configured if net is not None]
    if len(kept) < len(configured) or naive_too_broad(kept):
        try:
            IPAllowlist(specs)
        except ConfigurationError:
            return
        raise AssertionError(f"{specs} should have been refused")
    allowlist = IPAllowlist(specs)
    for _ in range(10):
        address = data.draw(address_texts(drawn))
        expected = naive_allows(kept, address)
        assert allowlist.allows(address) is expected, (specs, address)
        resolved, reason = attempt(allowlist, address, {})
        if expected:
            assert resolved == str(naive_unmap(ipaddress.ip_address(address)))
        else:
            assert reason == "forbidden_address"


@given(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=400), st.data())
def test_many_networks_agree(values: list[int], data: st.DataObject) -> None:
    prefix = data.draw(st.integers(8, 32))
    nets = [ipaddress.IPv4Network((v, prefix), strict=False) for v in values]
    if naive_too_broad(list(nets)):  # e.g. 128 distinct /8 networks: refused, see above
        with pytest.raises(ConfigurationError, match="allow_all"):
            IPAllowlist([n.with_prefixlen for n in nets])
        return
    allowlist = IPAllowlist([n.with_prefixlen for n in nets])
    for _ in range(20):
        address = str(ipaddress.IPv4Address(data.draw(st.integers(0, 2**32 - 1))))
        assert allowlist.allows(address) is naive_allows(list(nets), address)


# -- the forwarded-header parsers on arbitrary input -----------------------------------------

PIECES = st.sampled_from(
    [
        "for=",
        "For=",
        "by=",
        "proto=",
        '"',
        "\\",
        "[",
        "]",
        ":",
        ",",
        ";",
        " ",
        "\t",
        "=",
        "10.1.2.3",
        "2001:db8::1",
        "::ffff:10.1.2.3",
        "unknown",
        "_hidden",
        "%eth0",
        "010",
        "80",
        "192.168.1.1",
        "fe80::1",
        "\x00",
        "\u00e9",
        "\uff11",
    ]
)
HEADER_TEXT = st.one_of(st.text(max_size=200), st.lists(PIECES, max_size=40).map("".join))

CONFIGS = [
    IPAllowlist.allow_all(trusted_proxies=["192.168.0.0/16", "fd00::/8"]),
    IPAllowlist.allow_all(trusted_proxies=["192.168.0.0/16"], forwarded_header="forwarded"),
    IPAllowlist.allow_all(trusted_proxies=2),
    IPAllowlist.allow_all(trusted_proxies=1, forwarded_header="forwarded"),
    IPAllowlist(["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"], max_forwarded_entries=5),
]


@given(st.lists(HEADER_TEXT, min_size=1, max_size=4), st.sampled_from(CONFIGS))
def test_parser_yields_an_address_or_a_verification_error(
    lines: list[str], allowlist: IPAllowlist
) -> None:
    for headers in (
        Headers([(allowlist.forwarded_header, line) for line in lines]),
        {allowlist.forwarded_header.title(): ", ".join(lines)},
    ):
        resolved, reason = attempt(allowlist, "192.168.1.1", headers)
        if resolved is None:
            assert reason in ("forbidden_address", "malformed_address")
        else:
            assert str(ipaddress.ip_address(resolved)) == resolved  # canonical, plain address


@given(
    st.lists(
        st.sampled_from(
            [
                "10.1.2.3",
                "10.9.9.9",
                "8.8.8.8",
                "192.168.1.2",
                "192.168.7.7",
                "fd00::5",
                "2001:db8::3",
                "::ffff:192.168.3.3",
            ]
        ),
        max_size=8,
    ),
)
def test_resolution_is_the_right_most_untrusted_entry(chain: list[str]) -> None:
    trusted = [ipaddress.ip_network("192.168.0.0/16"), ipaddress.ip_network("fd00::/8")]
    allowlist = IPAllowlist.allow_all(trusted_proxies=[n.with_prefixlen for n in trusted])
    peer = "192.168.1.1"
    expected = naive_unmap(ipaddress.ip_address(peer))
    for entry in reversed(chain):
        expected = naive_unmap(ipaddress.ip_address(entry))
        if not any(expected.version == n.version and expected in n for n in trusted):
            break
    assert allowlist.check(peer, {"X-Forwarded-For": ", ".join(chain)}) == str(expected)
    # An untrusted peer is the client whatever the chain says.
    assert allowlist.check("203.0.113.1", {"X-Forwarded-For": ", ".join(chain)}) == "203.0.113.1"
