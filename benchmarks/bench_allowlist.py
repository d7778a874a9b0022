"""IPAllowlist lookup time for 10, 1,000 and 10,000 networks: it should stay flat.

Run: ``python benchmarks/bench_allowlist.py`` (add ``--quick`` for a short run). For each list
size it times ``allowlist.check(peer, {})`` on a mix of allowed and refused IPv4 and IPv6
peers, and, for contrast, a naive scan over ``ipaddress`` networks (what a hand-written
allowlist usually does), whose cost grows with the list.
"""

from __future__ import annotations

import ipaddress
import random
import sys
import timeit

from hookseal import ForbiddenAddress
from hookseal.network import IPAllowlist

SIZES = (10, 1_000, 10_000)


def make_networks(count: int, rng: random.Random) -> list[str]:
    networks: set[str] = set()
    while len(networks) < count:
        if rng.random() < 0.7:
            value = rng.getrandbits(32)
            prefix = rng.randint(16, 32)
            networks.add(ipaddress.IPv4Network((value, prefix), strict=False).with_prefixlen)
        else:
            value = (0x2001 << 112) | rng.getrandbits(112)
            prefix = rng.randint(32, 64)
            networks.add(ipaddress.IPv6Network((value, prefix), strict=False).with_prefixlen)
    return sorted(networks)


def make_peers(
    allowlist: IPAllowlist, networks: list[str], rng: random.Random, count: int = 100
) -> tuple[list[str], list[str]]:
    """``count`` allowed peers (inside a listed network) and ``count`` refused ones."""
    allowed = []
    for _ in range(count):
        net = ipaddress.ip_network(rng.choice(networks))
        allowed.append(str(net.network_address + rng.randrange(net.num_addresses)))
    refused: list[str] = []
    while len(refused) < count:
        peer = str(ipaddress.IPv4Address(rng.getrandbits(32)))
        if not allowlist.allows(peer):
            refused.append(peer)
    return allowed, refused


def per_call(func: object, peers: list[str], repeat: int, number: int) -> float:
    def run() -> None:
        for peer in peers:
            func(peer)  # type: ignore[operator]

    best = min(timeit.repeat(run, repeat=repeat, number=number))
    return best / (number * len(peers))


def main() -> None:
    quick = "--quick" in sys.argv
    rng = random.Random(20261124)
    repeat, number = (3, 5) if quick else (5, 20)
    print("Time per check() call (best of several runs); the naive scan is for contrast.\n")
    print(f"{'networks':>9} | {'check, allowed':>14} | {'check, refused':>14} | {'naive scan':>11}")
    print(f"{'-' * 9}-+-{'-' * 14}-+-{'-' * 14}-+-{'-' * 11}")
    for size in SIZES:
        networks = make_networks(size, rng)
        allowlist = IPAllowlist(networks)
        allowed, refused = make_peers(allowlist, networks, rng)

        def check(peer: str, allowlist: IPAllowlist = allowlist) -> None:
            try:  # noqa: SIM105 (contextlib.suppress would add its own overhead)
                allowlist.check(peer, {})
            except ForbiddenAddress:
                pass

        parsed = [ipaddress.ip_network(n) for n in networks]

        def naive(peer: str, parsed: list = parsed) -> None:  # type: ignore[type-arg]
            address = ipaddress.ip_address(peer)
            any(address in net for net in parsed)

        ok = per_call(check, allowed, repeat, number)
        ko = per_call(check, refused, repeat, number)
        slow_number = max(1, number // max(1, size // 100))
        slow = per_call(naive, (allowed + refused)[::4], 3, slow_number)
        print(f"{size:>9,} | {ok * 1e6:>11.2f} µs | {ko * 1e6:>11.2f} µs | {slow * 1e6:>8.1f} µs")


if __name__ == "__main__":
    main()
