"""Strict IP address and network parsing, and interval sets for constant-cost lookups.

An address is read as ``(family, value)``: ``4`` and a 32-bit integer, or ``6`` and a 128-bit
integer. IPv4-mapped (``::ffff:a.b.c.d``) and IPv4-compatible (``::a.b.c.d``) IPv6 addresses
are read as the IPv4 address they carry, so ``::ffff:10.1.2.3`` is matched against
``10.0.0.0/8``; no other IPv6 form is translated (a 6to4 address ``2002:a01:203::1`` stays
IPv6). Anything else that is not a plain address (zone ids, ports, brackets, leading zeros,
surrounding space, ``unknown``) is refused, never matched.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from collections.abc import Iterable

from ._errors import ConfigurationError, ForbiddenAddress

__all__ = [
    "AddressSet",
    "IntervalSet",
    "Network",
    "format_address",
    "format_network",
    "parse_address",
    "parse_network",
    "read_address",
]

_IPV4 = re.compile(
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    r"(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}",
    re.ASCII,
)
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:.")
_PREFIX = re.compile(r"0|[1-9][0-9]{0,2}", re.ASCII)
# The longest IPv6 text form: six full groups and a dotted quad.
_MAX_ADDRESS_CHARS = 45
_MAPPED_BASE = 0xFFFF << 32
_LOW32 = 0xFFFFFFFF
# ::/128 and ::1/128 lie in ::/96 but are not IPv4-compatible addresses.
_KEPT = frozenset({(0, 128), (1, 128)})

#: (family, first address, last address, prefix length) of one configured network.
Network = tuple[int, int, int, int]


def _parse_ipv4(text: str) -> int | None:
    if _IPV4.fullmatch(text) is None:
        return None
    a, b, c, d = text.split(".")
    return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)


def _parse_ipv6(text: str) -> int | None:
    if not _IPV6_CHARS.issuperset(text) or ":" not in text:
        return None
    try:
        return int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


def _unmap(value: int) -> int | None:
    """The IPv4 address an IPv4-mapped or IPv4-compatible IPv6 address carries, else None."""
    high = value >> 32
    if high == 0xFFFF:
        return value & _LOW32
    if high == 0 and value > 1:  # ::a.b.c.d, but not :: (unspecified) or ::1 (loopback)
        return value
    return None


def read_address(text: object) -> tuple[int, int] | None:
    """``(family, value)`` for a plain IPv4 or IPv6 address, IPv4-in-IPv6 unmapped; else None."""
    if type(text) is not str or not 0 < len(text) <= _MAX_ADDRESS_CHARS:
        return None
    if ":" not in text:
        value = _parse_ipv4(text)
        return None if value is None else (4, value)
    value = _parse_ipv6(text)
    if value is None:
        return None
    carried = _unmap(value)
    if carried is not None:
        return (4, carried)
    return (6, value)


def parse_address(text: object, what: str) -> tuple[int, int]:
    """Like :func:`read_address`, raising ForbiddenAddress ``malformed_address`` when unreadable."""
    parsed = read_address(text)
    if parsed is None:
        shown = repr(text[:60]) if isinstance(text, str) else type(text).__name__
        raise ForbiddenAddress(
            f"The {what} {shown} is not a plain IPv4 or IPv6 address (ports, brackets, zone "
            "ids, leading zeros and placeholders such as 'unknown' are refused).",
            reason="malformed_address",
        )
    return parsed


def format_address(family: int, value: int) -> str:
    """The canonical text of an address (IPv4 dotted quad, IPv6 compressed)."""
    if family == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
    return str(ipaddress.IPv6Address(value))


def parse_network(spec: object, what: str = "network") -> Network:
    """Read one CIDR network (``"10.0.0.0/8"``, ``"2001:db8::/32"``) or a bare address.

    A bare address is a single-host network (``/32`` or ``/128``), as in Stripe's list. An
    ``ipaddress`` network or address object is accepted too. Host bits set below the prefix
    (``"10.1.2.3/8"``), netmask forms, zone ids and anything malformed raise
    ConfigurationError. IPv6 networks inside ``::ffff:0:0/96`` are stored as the IPv4 networks
    they map, so they match the same addresses.
    """
    if isinstance(spec, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        spec = spec.with_prefixlen
    elif isinstance(spec, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        spec = str(spec)
    if not isinstance(spec, str):
        raise ConfigurationError(
            f"Each {what} must be a CIDR string such as '203.0.113.0/24', not "
            f"{type(spec).__name__}."
        )
    text = spec.strip()
    address_text, slash, prefix_text = text.partition("/")
    if ":" in address_text:
        family, bits = 6, 128
        value = _parse_ipv6(address_text) if len(address_text) <= _MAX_ADDRESS_CHARS else None
    else:
        family, bits = 4, 32
        value = _parse_ipv4(address_text)
    if value is None:
        raise ConfigurationError(
            f"The {what} {spec!r} is not an IPv4 or IPv6 network in CIDR form "
            "(such as '203.0.113.0/24' or '2001:db8::/32')."
        )
    if slash:
        if _PREFIX.fullmatch(prefix_text) is None or int(prefix_text) > bits:
            raise ConfigurationError(
                f"The {what} {spec!r} has an invalid prefix length: give a number from 0 to "
                f"{bits} after the '/' (netmask forms are not accepted)."
            )
        prefix = int(prefix_text)
    else:
        prefix = bits
    host_bits = (1 << (bits - prefix)) - 1
    if value & host_bits:
        network = format_address(family, value & ~host_bits)
        raise ConfigurationError(
            f"The {what} {spec!r} has host bits set below its /{prefix} prefix; did you mean "
            f"'{network}/{prefix}' (or a single address, /{bits})?"
        )
    if family == 6 and prefix >= 96 and (value >> 32) == 0xFFFF:
        family, prefix, value, host_bits = 4, prefix - 96, value & _LOW32, host_bits & _LOW32
    elif family == 6 and prefix >= 96 and (value >> 32) == 0 and (value, prefix) not in _KEPT:
        raise ConfigurationError(
            f"The {what} {spec!r} is an IPv4-compatible IPv6 network; such addresses are "
            "matched as the IPv4 address they carry, so write the IPv4 network instead."
        )
    return (family, value, value | host_bits, prefix)


def format_network(network: Network) -> str:
    """The CIDR text of a parsed network."""
    family, first, _last, prefix = network
    return f"{format_address(family, first)}/{prefix}"


class IntervalSet:
    """Sorted, merged, non-overlapping ``[first, last]`` intervals of one address family.

    Membership is one binary search, so its cost grows with the logarithm of the number of
    intervals, and adjacent or overlapping networks merge into one interval.
    """

    __slots__ = ("_firsts", "_lasts")

    def __init__(self, intervals: Iterable[tuple[int, int]]) -> None:
        firsts: list[int] = []
        lasts: list[int] = []
        for first, last in sorted(intervals):
            if lasts and first <= lasts[-1] + 1:
                lasts[-1] = max(lasts[-1], last)
            else:
                firsts.append(first)
                lasts.append(last)
        self._firsts = firsts
        self._lasts = lasts

    def __contains__(self, value: int) -> bool:
        index = bisect_right(self._firsts, value) - 1
        return index >= 0 and value <= self._lasts[index]

    def __len__(self) -> int:
        return len(self._firsts)

    def size(self) -> int:
        """How many addresses the intervals hold together (overlaps counted once)."""
        return sum(last - first + 1 for first, last in zip(self._firsts, self._lasts, strict=True))


class AddressSet:
    """A set of networks of both families, with constant-cost membership per family."""

    __slots__ = ("_v4", "_v6", "networks")

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks: tuple[Network, ...] = tuple(networks)
        self._v4 = IntervalSet((n[1], n[2]) for n in self.networks if n[0] == 4)
        self._v6 = IntervalSet((n[1], n[2]) for n in self.networks if n[0] == 6)

    def contains(self, family: int, value: int) -> bool:
        """Whether the (unmapped) address lies in any of the networks."""
        return value in (self._v4 if family == 4 else self._v6)

    def sizes(self) -> tuple[int, int]:
        """How many IPv4 and how many IPv6 addresses the networks cover together."""
        return self._v4.size(), self._v6.size()

    def counts(self) -> tuple[int, int]:
        """How many configured networks are IPv4 and IPv6."""
        v4 = sum(1 for n in self.networks if n[0] == 4)
        return v4, len(self.networks) - v4
