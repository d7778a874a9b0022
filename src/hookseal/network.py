"""IP allowlists: which networks may deliver webhooks, and who the client is behind proxies.

:class:`IPAllowlist` answers "may this delivery's sender reach us?". A
``Verifier(..., allowlist=...)`` calls :meth:`IPAllowlist.check` before any header or
signature work and refuses other senders with :class:`~hookseal.ForbiddenAddress`.

By default the client is the socket peer and forwarding headers are ignored. Behind your own
proxies, name them (``trusted_proxies=["10.0.0.0/8"]`` or a count) and the client is read from
``X-Forwarded-For`` (or RFC 7239 ``Forwarded``), walking from the right. The published webhook
source ranges of GitHub and Stripe ship as dated snapshots (:func:`provider_ranges`); refresh
them from the JSON document the provider serves, which you download yourself: nothing here
ever reaches the network.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

from ._addresses import (
    AddressSet,
    Network,
    format_address,
    format_network,
    parse_address,
    parse_network,
    read_address,
)
from ._errors import ConfigurationError, ForbiddenAddress
from ._forwarded import Hop, header_lines, parse_forwarded, parse_x_forwarded_for

__all__ = ["IPAllowlist", "NetworkSpec", "ProviderRanges", "provider_ranges"]

#: A network as configured: CIDR text, a bare address, or an ``ipaddress`` object.
NetworkSpec = (
    str
    | ipaddress.IPv4Network
    | ipaddress.IPv6Network
    | ipaddress.IPv4Address
    | ipaddress.IPv6Address
)

_HEADERS = {"x-forwarded-for": "X-Forwarded-For", "forwarded": "Forwarded"}
#: Characters allowed per forwarded entry before a chain is refused unparsed.
_CHARS_PER_ENTRY = 256
_PROVIDERS = {
    "github": ("github-hooks.json", "hooks"),
    "stripe": ("stripe-webhooks.json", "WEBHOOKS"),
}
_EVERYTHING = (parse_network("0.0.0.0/0"), parse_network("::/0"))
#: Address-space sizes per family. An allowlist or proxy list whose networks together cover
#: half of a family or more is refused: no sender or proxy fleet needs a /1, and a union such
#: as 0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0 spelled another way.
_SPACE = {4: 1 << 32, 6: 1 << 128}


#: IPv6 prefixes that embed the whole IPv4 space (6to4, NAT64 well-known and local-use,
#: Teredo, SIIT): a network containing one stands for every IPv4 host behind a translator.
_EMBEDDING_ALL_IPV4 = tuple(
    ipaddress.ip_network(text)
    for text in ("2002::/16", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "::ffff:0:0:0/96")
)


def _embeds_every_ipv4(networks: list[Network]) -> str | None:
    """The first IPv6 network that contains a whole IPv4-embedding prefix, else None."""
    for network in networks:
        parsed = ipaddress.ip_network(format_network(network))
        if parsed.version == 6:
            for prefix in _EMBEDDING_ALL_IPV4:
                if prefix.subnet_of(parsed):  # type: ignore[arg-type]
                    return str(parsed)
    return None


def _broad_family(networks: AddressSet) -> tuple[int, str] | None:
    """``(family, share)`` of a family the networks cover half or more of, else None."""
    for family, size in zip((4, 6), networks.sizes(), strict=True):
        space = _SPACE[family]
        if 2 * size >= space:
            return family, "all" if size == space else f"{100 * size // space}%"
    return None


@dataclass(frozen=True)
class ProviderRanges:
    """A provider's published webhook source networks, as shipped with hookseal.

    Attributes:
        provider: ``"github"`` or ``"stripe"``.
        networks: the networks (CIDR text; Stripe publishes single addresses).
        source: the document the snapshot mirrors (URL and key).
        retrieved: the snapshot's date (ISO ``YYYY-MM-DD``); refresh when it is old.
        key: the key of the list in the provider's JSON document (``hooks``, ``WEBHOOKS``).
    """

    provider: str
    networks: tuple[str, ...]
    source: str
    retrieved: str
    key: str


def provider_ranges(provider: str) -> ProviderRanges:
    """The shipped, dated snapshot of ``provider``'s webhook ranges (``"github"``, ``"stripe"``).

    Raises:
        ConfigurationError: for an unknown provider name.
    """
    filename, key = _provider_file(provider)
    text = resources.files("hookseal").joinpath("data").joinpath(filename).read_text("utf-8")
    document = json.loads(text)
    networks = _list_under_key(document, key)
    return ProviderRanges(
        provider=provider,
        networks=tuple(networks),
        source=str(document["_source"]),
        retrieved=str(document["_retrieved"]),
        key=key,
    )


def _provider_file(provider: str) -> tuple[str, str]:
    try:
        return _PROVIDERS[provider]
    except (KeyError, TypeError):
        raise ConfigurationError(
            f"Unknown provider {provider!r}; shipped ranges exist for "
            f"{', '.join(sorted(_PROVIDERS))}. For another sender use "
            "IPAllowlist.from_json(document, key=...) or list its networks."
        ) from None


def _list_under_key(document: object, key: str) -> list[str]:
    if not isinstance(document, Mapping):
        raise ConfigurationError("The JSON document must be an object (a mapping of keys).")
    if key not in document:
        raise ConfigurationError(
            f"The JSON document has no {key!r} key (present: {sorted(map(str, document))[:10]})."
        )
    networks = document[key]
    if not isinstance(networks, list) or not all(isinstance(n, str) for n in networks):
        raise ConfigurationError(f"The {key!r} entry must be a list of network strings.")
    return networks


def _as_networks(networks: object, what: str) -> list[Network]:
    if isinstance(networks, (str, bytes)):
        raise ConfigurationError(
            f"{what} must be a list of networks, such as [{networks!r}], not a single string."
        )
    if not isinstance(networks, Iterable):
        raise ConfigurationError(f"{what} must be a list of CIDR networks.")
    one = {"networks": "network", "trusted_proxies": "trusted proxy"}.get(what, what)
    parsed = [parse_network(spec, one) for spec in networks]
    if not parsed:
        raise ConfigurationError(f"{what} is empty: give at least one network.")
    return parsed


class IPAllowlist:
    """The networks webhook deliveries may come from, and how to find the client behind proxies.

    Args:
        networks: CIDR networks (``"203.0.113.0/24"``, ``"2001:db8::/32"``) or single
            addresses, IPv4 and IPv6. A network with host bits set (``"10.1.2.3/8"``), an empty
            list, or a ``/0`` network raises ConfigurationError: to allow every address, say
            so with :meth:`allow_all`.
        trusted_proxies: who may tell us the client address. ``None`` (default): nobody; the
            client is the socket peer and forwarding headers are ignored. A list of networks:
            when the peer is in them, the client is the right-most forwarded entry that is not
            in them. An int ``n``: exactly ``n`` proxies stand in front of the application and
            the client is the ``n``-th forwarded entry from the right; the peer is not checked,
            so use a count only when the application cannot be reached except through them.
        forwarded_header: ``"x-forwarded-for"`` (default) or ``"forwarded"`` (RFC 7239);
            only with ``trusted_proxies``. The other header is never read.
        max_forwarded_entries: the longest forwarded chain accepted (default 20), counted
            over all header lines before anything is parsed; longer chains are refused.

    IPv4-mapped and IPv4-compatible IPv6 addresses (``::ffff:203.0.113.7``) are matched as
    the IPv4 address they carry. Zone ids, ports, brackets, leading zeros and placeholders
    such as ``unknown`` are refused as ``malformed_address``, never matched.

    Raises:
        ConfigurationError: for any configuration mistake, at construction.
    """

    def __init__(
        self,
        networks: Iterable[NetworkSpec],
        *,
        trusted_proxies: Iterable[NetworkSpec] | int | None = None,
        forwarded_header: str | None = None,
        max_forwarded_entries: int = 20,
    ) -> None:
        if networks is _ALLOW_ALL:
            parsed = list(_EVERYTHING)
            self._allow_all = True
        else:
            parsed = _as_networks(networks, "networks")
            self._allow_all = False
        self._networks = AddressSet(parsed)
        broad = None if self._allow_all else _broad_family(self._networks)
        embedding = None if self._allow_all or broad else _embeds_every_ipv4(parsed)
        if embedding is not None:
            raise ConfigurationError(
                f"The network {embedding!r} holds a prefix that embeds every IPv4 address "
                "(6to4, NAT64, Teredo or SIIT), so it allows any sender behind a translator. "
                "List the senders' networks (or use IPAllowlist.allow_all() if every address "
                "is intended)."
            )
        if broad is not None:
            family, share = broad
            widest = min(parsed, key=lambda n: n[3])
            what = (
                f"The network {format_network(widest)!r} allows"
                if widest[3] == 0 or len(parsed) == 1
                else "The networks together allow"
            )
            raise ConfigurationError(
                f"{what} {share} of the IPv{family} addresses, which is no allowlist. If every "
                "address is intended, spell it out with IPAllowlist.allow_all(); otherwise "
                "list the senders' networks."
            )
        if (
            isinstance(max_forwarded_entries, bool)
            or not isinstance(max_forwarded_entries, int)
            or max_forwarded_entries < 1
        ):
            raise ConfigurationError("max_forwarded_entries must be a positive integer.")
        self.max_forwarded_entries = max_forwarded_entries
        self._proxies: AddressSet | None = None
        self._proxy_count: int | None = None
        if trusted_proxies is None:
            pass
        elif isinstance(trusted_proxies, bool):
            raise ConfigurationError("trusted_proxies must be None, a list of networks or a count.")
        elif isinstance(trusted_proxies, int):
            if not 1 <= trusted_proxies <= max_forwarded_entries:
                raise ConfigurationError(
                    "trusted_proxies as a count must be at least 1 (use None for no proxies) "
                    f"and at most max_forwarded_entries ({max_forwarded_entries})."
                )
            self._proxy_count = trusted_proxies
        else:
            proxy_networks = _as_networks(trusted_proxies, "trusted_proxies")
            proxies = AddressSet(proxy_networks)
            broad = _broad_family(proxies)
            embedding = None if broad else _embeds_every_ipv4(proxy_networks)
            if embedding is not None:
                raise ConfigurationError(
                    f"trusted_proxies holds {embedding!r}, which embeds every IPv4 address "
                    "(6to4, NAT64, Teredo or SIIT): trusting it lets any client choose its own "
                    "address. List your proxies' networks."
                )
            if broad is not None:
                family, share = broad
                raise ConfigurationError(
                    f"trusted_proxies covers {share} of the IPv{family} addresses (a /0 network, "
                    "a /1, or networks whose union is as large): trusting nearly every peer as "
                    "a proxy lets any client choose its own address. List your proxies' "
                    "networks."
                )
            self._proxies = proxies
        if forwarded_header is None:
            forwarded_header = "x-forwarded-for"
        elif trusted_proxies is None:
            raise ConfigurationError(
                "forwarded_header is only read behind trusted proxies: set trusted_proxies "
                "too (without them the client is always the socket peer)."
            )
        header = forwarded_header.lower() if isinstance(forwarded_header, str) else None
        if header not in _HEADERS:
            raise ConfigurationError(
                f"forwarded_header must be 'x-forwarded-for' or 'forwarded', not "
                f"{forwarded_header!r}."
            )
        self.forwarded_header: str = header
        self.source: str | None = None

    # -- constructors ----------------------------------------------------------------------

    @classmethod
    def allow_all(
        cls,
        *,
        trusted_proxies: Iterable[NetworkSpec] | int | None = None,
        forwarded_header: str | None = None,
        max_forwarded_entries: int = 20,
    ) -> IPAllowlist:
        """An allowlist that admits every well-formed address (``0.0.0.0/0`` and ``::/0``).

        Malformed addresses are still refused, and with ``trusted_proxies`` the resolved
        client is still returned by :meth:`check` (for logging).
        """
        return cls(
            _ALLOW_ALL,
            trusted_proxies=trusted_proxies,
            forwarded_header=forwarded_header,
            max_forwarded_entries=max_forwarded_entries,
        )

    @classmethod
    def from_json(
        cls,
        document: str | bytes | Mapping[str, object],
        *,
        key: str,
        trusted_proxies: Iterable[NetworkSpec] | int | None = None,
        forwarded_header: str | None = None,
        max_forwarded_entries: int = 20,
    ) -> IPAllowlist:
        """An allowlist from a provider's JSON document that you downloaded yourself.

        Args:
            document: the JSON text (``str`` or ``bytes``) or the already decoded object,
                e.g. GitHub's ``https://api.github.com/meta``.
            key: the key holding the list, e.g. ``"hooks"`` (GitHub) or ``"WEBHOOKS"``
                (Stripe's ``ips_webhooks.json``).
            trusted_proxies: as for :class:`IPAllowlist`.
            forwarded_header: as for :class:`IPAllowlist`.
            max_forwarded_entries: as for :class:`IPAllowlist`.
        """
        if isinstance(document, (str, bytes, bytearray)):
            try:
                document = json.loads(document)
            except ValueError as exc:
                raise ConfigurationError(f"The document is not valid JSON ({exc}).") from exc
            except RecursionError:
                raise ConfigurationError(
                    "The document nests arrays or objects too deeply to be a provider's list of "
                    "networks: give the JSON document the provider serves."
                ) from None
        allowlist = cls(
            _list_under_key(document, key),
            trusted_proxies=trusted_proxies,
            forwarded_header=forwarded_header,
            max_forwarded_entries=max_forwarded_entries,
        )
        allowlist.source = f"JSON document key {key!r}"
        return allowlist

    @classmethod
    def from_provider(
        cls,
        provider: str,
        *,
        document: str | bytes | Mapping[str, object] | None = None,
        trusted_proxies: Iterable[NetworkSpec] | int | None = None,
        forwarded_header: str | None = None,
        max_forwarded_entries: int = 20,
    ) -> IPAllowlist:
        """A provider's webhook ranges: the shipped snapshot, or ``document`` to refresh.

        Args:
            provider: ``"github"`` or ``"stripe"``.
            document: the provider's current JSON document, downloaded by you (GitHub's
                ``/meta``, Stripe's ``ips_webhooks.json``); by default the dated snapshot
                shipped with hookseal (see :func:`provider_ranges`).
            trusted_proxies: as for :class:`IPAllowlist`.
            forwarded_header: as for :class:`IPAllowlist`.
            max_forwarded_entries: as for :class:`IPAllowlist`.
        """
        _filename, key = _provider_file(provider)
        options = {
            "trusted_proxies": trusted_proxies,
            "forwarded_header": forwarded_header,
            "max_forwarded_entries": max_forwarded_entries,
        }
        if document is not None:
            allowlist = cls.from_json(document, key=key, **options)  # type: ignore[arg-type]
            allowlist.source = f"{provider} (document given)"
            return allowlist
        snapshot = provider_ranges(provider)
        allowlist = cls(snapshot.networks, **options)  # type: ignore[arg-type]
        allowlist.source = f"{provider} snapshot of {snapshot.retrieved}"
        return allowlist

    @classmethod
    def github(
        cls,
        *,
        document: str | bytes | Mapping[str, object] | None = None,
        trusted_proxies: Iterable[NetworkSpec] | int | None = None,
        forwarded_header: str | None = None,
        max_forwarded_entries: int = 20,
    ) -> IPAllowlist:
        """GitHub's webhook source ranges (the ``hooks`` list of ``/meta``); see from_provider."""
        return cls.from_provider(
            "github",
            document=document,
            trusted_proxies=trusted_proxies,
            forwarded_header=forwarded_header,
            max_forwarded_entries=max_forwarded_entries,
        )

    @classmethod
    def stripe(
        cls,
        *,
        document: str | bytes | Mapping[str, object] | None = None,
        trusted_proxies: Iterable[NetworkSpec] | int | None = None,
        forwarded_header: str | None = None,
        max_forwarded_entries: int = 20,
    ) -> IPAllowlist:
        """Stripe's webhook source addresses (``WEBHOOKS``); see from_provider."""
        return cls.from_provider(
            "stripe",
            document=document,
            trusted_proxies=trusted_proxies,
            forwarded_header=forwarded_header,
            max_forwarded_entries=max_forwarded_entries,
        )

    # -- queries ---------------------------------------------------------------------------

    @property
    def networks(self) -> tuple[str, ...]:
        """The allowed networks in CIDR form (IPv4-mapped IPv6 networks shown as IPv4)."""
        return tuple(format_network(n) for n in self._networks.networks)

    def allows(self, address: str) -> bool:
        """Whether ``address`` itself is allowed (no proxy resolution; malformed: False)."""
        parsed = read_address(address)
        return parsed is not None and self._networks.contains(*parsed)

    def check(self, remote_addr: str | None, headers: Mapping[str, str] | None = None) -> str:
        """Resolve the client address and check it against the allowlist.

        Args:
            remote_addr: the socket peer address, as the server reports it.
            headers: the request headers; only read behind trusted proxies. Repeated
                forwarding header lines (``hookseal.Headers``) are combined in order.

        Returns:
            The client address in canonical form (IPv4-mapped addresses as IPv4).

        Raises:
            ForbiddenAddress: ``forbidden_address`` when the client is not allowed (or cannot
                be resolved), ``malformed_address`` when an address that matters is not a
                plain IP address.
        """
        if self._proxy_count is not None:
            hops = self._chain(headers)
            if len(hops) < self._proxy_count:
                raise ForbiddenAddress(
                    f"trusted_proxies={self._proxy_count} expects at least "
                    f"{self._proxy_count} {_HEADERS[self.forwarded_header]} entries, but the "
                    f"request carries {len(hops)}: the proxies are not configured as stated.",
                )
            family, value = _hop_address(hops[-self._proxy_count], self.forwarded_header)
            via = " (forwarded)"
        else:
            if remote_addr is None:
                raise ForbiddenAddress(
                    "No peer address was given: pass remote_addr= (the socket peer) so the "
                    "allowlist can be checked.",
                )
            family, value = parse_address(remote_addr, "peer address")
            via = ""
            proxies = self._proxies
            if proxies is not None and proxies.contains(family, value):
                for hop in reversed(self._chain(headers)):
                    family, value = _hop_address(hop, self.forwarded_header)
                    if not proxies.contains(family, value):
                        break
                via = " (forwarded)"
        client = format_address(family, value)
        if not self._allow_all and not self._networks.contains(family, value):
            error = ForbiddenAddress(f"The client address {client}{via} is not in the allowlist.")
            error.client_addr = client
            raise error
        return client

    def _chain(self, headers: Mapping[str, str] | None) -> list[Hop]:
        if headers is None:
            return []
        name = self.forwarded_header
        lines = header_lines(headers, name)
        limit = self.max_forwarded_entries
        entries = sum(line.count(",") + 1 for line in lines)
        chars = sum(len(line) for line in lines)
        if entries > limit or chars > limit * _CHARS_PER_ENTRY:
            raise ForbiddenAddress(
                f"The {_HEADERS[name]} chain has more than {limit} entries or "
                f"{limit * _CHARS_PER_ENTRY} characters (max_forwarded_entries); it is "
                "refused unparsed.",
            )
        if name == "forwarded":
            return parse_forwarded(lines)
        return parse_x_forwarded_for(lines)

    def __repr__(self) -> str:
        v4, v6 = self._networks.counts()
        if self._allow_all:
            allowed = "allow_all"
        else:
            allowed = f"networks=<{v4} IPv4, {v6} IPv6>"
        if self._proxy_count is not None:
            proxies = f"trusted_proxies={self._proxy_count}"
        elif self._proxies is not None:
            count = len(self._proxies.networks)
            proxies = f"trusted_proxies=<{count} network{'' if count == 1 else 's'}>"
        else:
            proxies = "trusted_proxies=None"
        source = f", source={self.source!r}" if self.source else ""
        return (
            f"IPAllowlist({allowed}, {proxies}, forwarded_header={self.forwarded_header!r}, "
            f"max_forwarded_entries={self.max_forwarded_entries}{source})"
        )


def _hop_address(hop: Hop, header: str) -> tuple[int, int]:
    text, raw = hop
    parsed = None if text is None else read_address(text)
    if parsed is None:
        raise ForbiddenAddress(
            f"The {_HEADERS[header]} entry {raw[:60]!r} is not a plain IPv4 or IPv6 address "
            "(ports and brackets are refused in X-Forwarded-For; 'unknown', obfuscated and "
            "missing nodes in Forwarded), so the client address cannot be checked.",
            reason="malformed_address",
        )
    return parsed


class _AllowAll(list[str]):
    """The private marker :meth:`IPAllowlist.allow_all` passes as ``networks``."""


_ALLOW_ALL = _AllowAll()
