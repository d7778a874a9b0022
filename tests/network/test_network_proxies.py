"""Client resolution behind trusted proxies: X-Forwarded-For and RFC 7239 Forwarded.

SECURITY.md checklist row 27, plus the Forwarded forms of RFC 7239 section 6 and its examples
(https://www.rfc-editor.org/rfc/rfc7239#section-4 and #section-6).
"""

from __future__ import annotations

from typing import Any

import pytest

from hookseal import ForbiddenAddress, Headers
from hookseal.network import IPAllowlist

ALLOWED = ["10.0.0.0/8", "2001:db8::/32"]
PROXY_NETS = ["192.168.0.0/16", "fd00::/8"]
BY_NETWORK = IPAllowlist(ALLOWED, trusted_proxies=PROXY_NETS)
PROXY = "192.168.1.1"


def xff(*lines: str) -> Headers:
    return Headers([("X-Forwarded-For", line) for line in lines])


def reason_of(allowlist: IPAllowlist, peer: str | None, headers: object) -> str:
    with pytest.raises(ForbiddenAddress) as info:
        allowlist.check(peer, headers)  # type: ignore[arg-type]
    assert info.value.status_code == 403
    return info.value.reason


# -- trusted proxies by network --------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "headers", "resolved"),
    [
        (PROXY, {"X-Forwarded-For": "10.1.2.3"}, "10.1.2.3"),
        (PROXY, {"x-forwarded-for": "10.1.2.3"}, "10.1.2.3"),
        (PROXY, {"X-FORWARDED-FOR": "10.1.2.3"}, "10.1.2.3"),
        # walk from the right over trusted proxies
        (PROXY, {"X-Forwarded-For": "10.1.2.3, 192.168.7.7, 192.168.8.8"}, "10.1.2.3"),
        (PROXY, {"X-Forwarded-For": "10.1.2.3,192.168.7.7"}, "10.1.2.3"),
        (PROXY, {"X-Forwarded-For": " 10.1.2.3 ,\t192.168.7.7 "}, "10.1.2.3"),
        # a spoofed left-most claim is never reached: the right-most untrusted entry wins
        (PROXY, {"X-Forwarded-For": "8.8.8.8, 10.1.2.3"}, "10.1.2.3"),
        (PROXY, {"X-Forwarded-For": "unknown, [::1]:80, 10.1.2.3"}, "10.1.2.3"),
        (PROXY, {"X-Forwarded-For": "\x00\xff garbage, 10.1.2.3"}, "10.1.2.3"),
        # empty list elements are ignored (RFC 9110 section 5.6.1)
        (PROXY, {"X-Forwarded-For": ", 10.1.2.3,"}, "10.1.2.3"),
        # mapped forms in the chain and as the peer
        (PROXY, {"X-Forwarded-For": "::ffff:10.1.2.3"}, "10.1.2.3"),
        ("::ffff:192.168.1.1", {"X-Forwarded-For": "10.1.2.3"}, "10.1.2.3"),
        # IPv6 proxies and clients
        ("fd00::1", {"X-Forwarded-For": "2001:db8::7, fd12::3"}, "2001:db8::7"),
        # every hop trusted: the client is the left-most (furthest) one
        # an untrusted peer: its own address, headers ignored
        ("10.5.5.5", {"X-Forwarded-For": "8.8.8.8"}, "10.5.5.5"),
    ],
)
def test_resolution_by_network(peer: str, headers: dict[str, str], resolved: str) -> None:
    assert BY_NETWORK.check(peer, headers) == resolved


def test_all_hops_trusted_resolves_to_left_most() -> None:
    allowlist = IPAllowlist(["192.168.0.0/16"], trusted_proxies=["192.168.0.0/16"])
    assert allowlist.check(PROXY, {"X-Forwarded-For": "192.168.3.3, 192.168.2.2"}) == "192.168.3.3"
    assert allowlist.check(PROXY, {}) == PROXY  # no header: only the peer is known
    # ... and with the usual configuration (proxies not allowlisted) that is refused.
    assert reason_of(BY_NETWORK, PROXY, {}) == "forbidden_address"
    assert reason_of(BY_NETWORK, PROXY, {"X-Forwarded-For": "192.168.2.2"}) == "forbidden_address"


@pytest.mark.parametrize(
    ("peer", "headers", "reason"),
    [
        # row 27: an untrusted peer claiming an allowlisted client
        ("203.0.113.9", {"X-Forwarded-For": "10.1.2.3"}, "forbidden_address"),
        ("203.0.113.9", {"Forwarded": "for=10.1.2.3"}, "forbidden_address"),
        # row 27: trusted proxy, the attacker appended after a spoofed allowlisted entry
        (PROXY, {"X-Forwarded-For": "10.1.2.3, 203.0.113.9"}, "forbidden_address"),
        (PROXY, {"X-Forwarded-For": "10.1.2.3, 203.0.113.9, 192.168.5.5"}, "forbidden_address"),
        # row 27: malformed right-most entries
        (PROXY, {"X-Forwarded-For": "10.1.2.3, unknown"}, "malformed_address"),
        (PROXY, {"X-Forwarded-For": "10.1.2.3:80"}, "malformed_address"),
        (PROXY, {"X-Forwarded-For": "[2001:db8::1]"}, "malformed_address"),
        (PROXY, {"X-Forwarded-For": "[2001:db8::1]:443"}, "malformed_address"),
        (PROXY, {"X-Forwarded-For": "010.1.2.3"}, "malformed_address"),
        (PROXY, {"X-Forwarded-For": "fe80::1%eth0"}, "malformed_address"),
        (PROXY, {"X-Forwarded-For": "10.1.2.3 10.1.2.4"}, "malformed_address"),
        (PROXY, {"X-Forwarded-For": '"10.1.2.3"'}, "malformed_address"),
        (PROXY, {"X-Forwarded-For": "10.1.2.3\u2028"}, "malformed_address"),
        # a malformed entry between trusted hops stops the walk
        (PROXY, {"X-Forwarded-For": "10.1.2.3, garbage, 192.168.3.3"}, "malformed_address"),
        # mapped spoof: ::ffff:8.8.8.8 is 8.8.8.8
        (PROXY, {"X-Forwarded-For": "::ffff:8.8.8.8"}, "forbidden_address"),
        (PROXY, {"X-Forwarded-For": "2002:a01:203::1"}, "forbidden_address"),
        # a malformed peer is refused before any header is read
        ("192.168.1.1:5000", {"X-Forwarded-For": "10.1.2.3"}, "malformed_address"),
    ],
)
def test_spoofing_and_garbage_by_network(peer: str, headers: object, reason: str) -> None:
    assert reason_of(BY_NETWORK, peer, headers) == reason


def test_several_header_lines_are_combined_in_order() -> None:
    # The proxy appended a new line; the client sent its own line first.
    assert BY_NETWORK.check(PROXY, xff("8.8.8.8", "10.1.2.3")) == "10.1.2.3"
    # Spoofed allowlisted entry in the client's line, attacker's real address last.
    assert reason_of(BY_NETWORK, PROXY, xff("10.1.2.3", "203.0.113.9")) == "forbidden_address"
    assert BY_NETWORK.check(PROXY, xff("8.8.8.8, 10.1.2.3", "192.168.4.4")) == "10.1.2.3"
    # Headers built from raw lines through Headers(...) given as a list keep their order too.
    lines = [("x-forwarded-for", "10.1.2.3"), ("X-Forwarded-For", "203.0.113.9")]
    assert reason_of(BY_NETWORK, PROXY, Headers(lines)) == "forbidden_address"


def test_plain_mapping_with_several_spellings_is_refused() -> None:
    headers = {"X-Forwarded-For": "10.1.2.3", "x-forwarded-for": "203.0.113.9"}
    assert reason_of(BY_NETWORK, PROXY, headers) == "malformed_address"


def test_plain_mapping_with_list_and_bytes_values() -> None:
    as_list: Any = {"X-Forwarded-For": ["8.8.8.8", "10.1.2.3"]}
    as_bytes: Any = {b"x-forwarded-for": b"10.1.2.3"}
    assert BY_NETWORK.check(PROXY, as_list) == "10.1.2.3"
    assert BY_NETWORK.check(PROXY, as_bytes) == "10.1.2.3"
    assert reason_of(BY_NETWORK, PROXY, {"X-Forwarded-For": 10}) == "malformed_address"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": ", ".join(["10.1.2.3"] * 1000)},  # row 27: 1,000 entries
        {"X-Forwarded-For": ",".join(["10.1.2.3"] * 21)},
        xff(*(["10.1.2.3"] * 21)),  # 21 lines
        {"X-Forwarded-For": "10.1.2.3" + " " * 6000},  # bounded by characters too
        {"X-Forwarded-For": "," * 100_000},
    ],
)
def test_over_long_chains_are_refused_unparsed(headers: object) -> None:
    assert reason_of(BY_NETWORK, PROXY, headers) == "forbidden_address"


def test_chain_at_the_limit_is_read() -> None:
    allowlist = IPAllowlist(ALLOWED, trusted_proxies=PROXY_NETS, max_forwarded_entries=3)
    assert allowlist.check(PROXY, {"X-Forwarded-For": "8.8.8.8, 10.1.2.3, 192.168.9.9"})
    assert (
        reason_of(allowlist, PROXY, {"X-Forwarded-For": "1.1.1.1, 8.8.8.8, 10.1.2.3, 192.168.9.9"})
        == "forbidden_address"
    )


def test_forwarded_header_other_than_configured_is_never_read() -> None:
    # Configured for X-Forwarded-For: a Forwarded header is ignored (and vice versa).
    headers = {"Forwarded": "for=10.1.2.3", "X-Forwarded-For": "203.0.113.9"}
    assert reason_of(BY_NETWORK, PROXY, headers) == "forbidden_address"
    by_forwarded = IPAllowlist(ALLOWED, trusted_proxies=PROXY_NETS, forwarded_header="Forwarded")
    assert by_forwarded.check(PROXY, headers) == "10.1.2.3"


# -- trusted proxies by count ----------------------------------------------------------------

ONE = IPAllowlist(ALLOWED, trusted_proxies=1)
TWO = IPAllowlist(ALLOWED, trusted_proxies=2)


@pytest.mark.parametrize(
    ("allowlist", "value", "outcome"),
    [
        (ONE, "10.1.2.3", "10.1.2.3"),
        (ONE, "8.8.8.8, 10.1.2.3", "10.1.2.3"),  # spoofed left-most claim ignored
        (ONE, "10.1.2.3, 8.8.8.8", "forbidden_address"),
        (ONE, "garbage, 10.1.2.3", "10.1.2.3"),  # entries left of the client never parsed
        (ONE, "10.1.2.3, unknown", "malformed_address"),
        (ONE, "", "forbidden_address"),  # fewer entries than proxies
        (TWO, "10.1.2.3, 172.16.0.1", "10.1.2.3"),  # the outer proxy's address is right-most
        (TWO, "8.8.8.8, 10.1.2.3, 172.16.0.1", "10.1.2.3"),
        (TWO, "10.1.2.3, 8.8.8.8, 172.16.0.1", "forbidden_address"),
        (TWO, "10.1.2.3", "forbidden_address"),  # only one entry for two proxies
        (TWO, "10.1.2.3:1234, 172.16.0.1", "malformed_address"),
        (TWO, "2001:db8::9, fd00::1", "2001:db8::9"),
    ],
)
def test_resolution_by_count(allowlist: IPAllowlist, value: str, outcome: str) -> None:
    for peer in ("127.0.0.1", None):  # the peer is not consulted with a count
        if outcome.endswith("_address"):
            assert reason_of(allowlist, peer, {"X-Forwarded-For": value}) == outcome
        else:
            assert allowlist.check(peer, {"X-Forwarded-For": value}) == outcome


def test_count_without_header_is_refused() -> None:
    assert reason_of(ONE, "127.0.0.1", {}) == "forbidden_address"
    assert reason_of(ONE, "127.0.0.1", None) == "forbidden_address"


def test_count_across_several_lines() -> None:
    assert TWO.check(None, xff("8.8.8.8", "10.1.2.3", "172.16.0.1")) == "10.1.2.3"
    assert reason_of(TWO, None, xff("10.1.2.3", "8.8.8.8", "172.16.0.1")) == "forbidden_address"


# -- RFC 7239 Forwarded ----------------------------------------------------------------------

FWD_NET = IPAllowlist(ALLOWED, trusted_proxies=PROXY_NETS, forwarded_header="forwarded")
FWD_ONE = IPAllowlist(ALLOWED, trusted_proxies=1, forwarded_header="forwarded")


@pytest.mark.parametrize(
    ("value", "resolved"),
    [
        ("for=10.1.2.3", "10.1.2.3"),
        ("For=10.1.2.3", "10.1.2.3"),  # parameter names are case-insensitive
        ('for="10.1.2.3"', "10.1.2.3"),
        ('for="10.1.2.3:4711"', "10.1.2.3"),
        ('for="10.1.2.3:_port"', "10.1.2.3"),  # obfuscated port (RFC 7239 section 6.3)
        ('for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),  # RFC 7239 section 4
        ('for="[2001:db8:cafe::17]"', "2001:db8:cafe::17"),
        ('for="[::ffff:10.1.2.3]"', "10.1.2.3"),
        ("for=10.1.2.3;proto=http;by=203.0.113.43", "10.1.2.3"),  # RFC 7239 section 4
        ("proto=http;for=10.1.2.3", "10.1.2.3"),
        ("for=10.1.2.3 ; proto=https", "10.1.2.3"),
        ('for=192.0.2.43, for="[2001:db8:cafe::17]"', "2001:db8:cafe::17"),
        ("for=8.8.8.8, for=10.1.2.3", "10.1.2.3"),  # spoofed left-most element ignored
        ('for=unknown, for="10.1.2.3"', "10.1.2.3"),
        ('host="a,b;c";for=10.1.2.3', "10.1.2.3"),  # separators inside a quoted string
        ('for="\\10.1.2.3"', "10.1.2.3"),  # quoted-pair
        ("for=10.1.2.3,,", "10.1.2.3"),
        ("for=10.1.2.3;;proto=http", "10.1.2.3"),
    ],
)
def test_forwarded_forms(value: str, resolved: str) -> None:
    assert FWD_ONE.check(None, {"Forwarded": value}) == resolved
    assert FWD_NET.check(PROXY, {"Forwarded": value}) == resolved


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("for=unknown", "malformed_address"),  # RFC 7239 section 6.2
        ("for=_hidden", "malformed_address"),  # obfuscated identifier, section 6.3
        ('for="_SEVKISEK"', "malformed_address"),
        ("proto=https", "malformed_address"),  # the proxy gave no for=
        ('for="[2001:db8::1"', "malformed_address"),
        ('for="2001:db8::1"', "malformed_address"),  # IPv6 must be bracketed
        ('for="[10.1.2.3]"', "malformed_address"),  # brackets are for IPv6 only
        ('for="10.1.2.3:"', "malformed_address"),
        ('for="10.1.2.3:123456"', "malformed_address"),
        ('for="10.1.2.3:http"', "malformed_address"),
        ('for="[2001:db8::1]x"', "malformed_address"),
        ("for=[2001:db8::1]", "malformed_address"),  # unquoted brackets are not a token
        ('for="10.1.2.3', "malformed_address"),  # unterminated quote
        ("for=10.1.2.3;for=10.1.2.4", "malformed_address"),  # for= twice in one element
        ("for=", "malformed_address"),
        ("=10.1.2.3", "malformed_address"),
        ("for 10.1.2.3", "malformed_address"),
        ("for=10.1.2.3 junk", "malformed_address"),
        ('for="fe80::1%eth0"', "malformed_address"),
        ('for="[fe80::1%25eth0]"', "malformed_address"),
        ("for=010.1.2.3", "malformed_address"),
        ("for=10.1.2.3, for=8.8.8.8", "forbidden_address"),
        ("for=10.1.2.3, for=_hidden", "malformed_address"),
        ('for="[2002:a01:203::1]"', "forbidden_address"),
    ],
)
def test_forwarded_refusals(value: str, reason: str) -> None:
    assert reason_of(FWD_ONE, None, {"Forwarded": value}) == reason
    assert reason_of(FWD_NET, PROXY, {"Forwarded": value}) == reason


def test_unterminated_quote_cannot_swallow_the_proxy_element() -> None:
    # The client's element leaves a quote open; the proxy appends its element. Read leniently,
    # the proxy's element would become part of the client's string; it is refused instead.
    spoof = 'for="10.1.2.3, for=203.0.113.9'
    assert reason_of(FWD_ONE, None, {"Forwarded": spoof}) == "malformed_address"
    # On separate lines a quote cannot span lines: the proxy's line is read on its own.
    lines = Headers([("Forwarded", 'for="10.1.2.3'), ("Forwarded", "for=10.9.9.9")])
    assert reason_of(FWD_ONE, None, lines) == "malformed_address"


def test_forwarded_lines_combined_and_walked_over_trusted_proxies() -> None:
    lines = Headers(
        [
            ("Forwarded", "for=8.8.8.8"),
            ("Forwarded", 'for="[2001:db8::7]:5000";proto=https'),
            ("Forwarded", "for=192.168.3.3;by=192.168.1.1"),
        ]
    )
    assert FWD_NET.check(PROXY, lines) == "2001:db8::7"
    two = IPAllowlist(ALLOWED, trusted_proxies=2, forwarded_header="forwarded")
    assert two.check(None, lines) == "2001:db8::7"


def test_forwarded_chain_is_bounded() -> None:
    value = ", ".join(["for=10.1.2.3"] * 1000)
    assert reason_of(FWD_NET, PROXY, {"Forwarded": value}) == "forbidden_address"


def test_header_lines_read_a_getlist_mapping() -> None:
    """A Starlette-like mapping: its getlist gives every line, or None when the name is absent."""
    from hookseal._forwarded import header_lines

    class GetList(dict[str, str]):
        def getlist(self, name: str) -> object:
            return self.get(name)

    assert header_lines(GetList(), "forwarded") == []
    assert header_lines(GetList({"forwarded": "for=1.2.3.4"}), "forwarded") == ["for=1.2.3.4"]


def test_forwarded_with_an_unterminated_quote_or_only_separators() -> None:
    from hookseal._forwarded import parse_forwarded

    with pytest.raises(ForbiddenAddress):
        parse_forwarded(['for="1.2.3.4\\'])
    assert parse_forwarded(["  ,  "]) == []
