"""The ``name=value`` signature headers of Paddle and WorkOS: one timestamp, several MACs.

``Paddle-Signature: ts=1700000000;h1=<hex>[;h1=<hex>]`` and
``WorkOS-Signature: t=1700000000000, v1=<hex>[, v1=<hex>]`` share one shape, parsed here
strictly and with the number of entries bounded before anything is decoded; so does the
``t=<ts>,v1=<sig>`` header of Stripe and the senders that sign the way Stripe does (Calendly,
Mux, Persona, Sanity).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .._encoding import decode_hex
from .._errors import MalformedHeader, SignatureMismatch
from .._headers import HeaderName
from .._keys import HMACKey
from .._limits import Limits
from ._timestamp import checked_timestamp
from .base import match_hmac, require_header

__all__ = ["KeyedHeaderFormat", "parse_keyed_signatures"]


def parse_keyed_signatures(
    value: str,
    header: str,
    limits: Limits,
    *,
    separator: str,
    timestamp_key: str,
    signature_key: str,
    example: str,
    space_after_separator: bool = False,
    group_separator: str | None = None,
    decode: Callable[[str, str], bytes] = decode_hex,
) -> tuple[str, list[bytes]]:
    """Return the raw timestamp text and the decoded signatures of a keyed header.

    Refuses (``MalformedHeader``) more than ``max_signatures`` signature entries, an entry
    that is not ``name=value``, spaces (except one after the separator when
    ``space_after_separator``), a repeated or missing timestamp, and a signature ``decode``
    refuses (hex by default). Entries with other names are ignored (a future signature
    version); a header holding only those is a ``SignatureMismatch`` with reason
    ``no_supported_signature``.

    With ``group_separator`` the header may repeat the whole ``timestamp, signatures`` group
    (Persona, one group per active secret): every group needs its timestamp entry, and all
    of them must be the same.
    """
    # The timestamp plus up to max_signatures signatures: refuse anything longer unparsed.
    bound = value.count(separator)
    if group_separator is not None:
        bound += value.count(group_separator)
    limits.check_signatures(bound, header)
    groups = [value] if group_separator is None else value.split(group_separator)
    raw_ts: str | None = None
    presented: list[bytes] = []
    others = 0
    for group in groups:
        group_ts, group_others = _parse_group(
            group,
            header,
            presented,
            separator=separator,
            timestamp_key=timestamp_key,
            signature_key=signature_key,
            example=example,
            space_after_separator=space_after_separator,
            decode=decode,
        )
        others += group_others
        if raw_ts is None:
            raw_ts = group_ts
        elif group_ts != raw_ts:
            # One delivery has one timestamp: groups that disagree leave it undefined.
            raise MalformedHeader(
                f"The signature groups of the {header!r} header carry different timestamps.",
                header=header,
            )
    if raw_ts is None or not presented:
        if not others:
            raise MalformedHeader(
                f"The {header!r} header has no {signature_key!r} signature.", header=header
            )
        raise SignatureMismatch(
            f"The {header!r} header holds no {signature_key!r} signature, the only version "
            "this verifier accepts.",
            reason="no_supported_signature",
            header=header,
        )
    return raw_ts, presented


def _parse_group(
    group: str,
    header: str,
    presented: list[bytes],
    *,
    separator: str,
    timestamp_key: str,
    signature_key: str,
    example: str,
    space_after_separator: bool,
    decode: Callable[[str, str], bytes],
) -> tuple[str, int]:
    """One ``timestamp, signatures`` group: its timestamp and how many other entries it holds.

    The decoded signatures are appended to ``presented``.
    """
    group_ts: str | None = None
    others = 0
    for position, part in enumerate(group.split(separator)):
        entry = part[1:] if space_after_separator and position and part[:1] == " " else part
        name, sep, item = entry.partition("=")
        if not sep or not name or not item or " " in entry:
            raise MalformedHeader(
                f"Each entry of the {header!r} header must be 'name=value' (e.g. {example!r}).",
                header=header,
            )
        if name == timestamp_key:
            if group_ts is not None:
                raise MalformedHeader(
                    f"The {header!r} header holds more than one {timestamp_key!r} entry.",
                    header=header,
                )
            group_ts = item
        elif name == signature_key:
            presented.append(decode(item, header))
        else:
            others += 1
    if group_ts is None:
        raise MalformedHeader(
            f"The {header!r} header has no {timestamp_key!r} entry (the signed timestamp).",
            header=header,
        )
    return group_ts, others


@dataclass(frozen=True)
class KeyedHeaderFormat:
    """One provider's keyed signature header, and the HMAC over ``<timestamp><joiner><body>``.

    The whole check of Stripe-like senders (Paddle, WorkOS, Calendly, Mux, Persona, Sanity):
    the header parsed and bounded by :func:`parse_keyed_signatures`, the timestamp checked
    against the window in the unit sent (:func:`~hookseal.schemes._timestamp.checked_timestamp`),
    then every signature against every configured key (:func:`~hookseal.schemes.base.match_hmac`).
    The fields are :func:`parse_keyed_signatures`'s arguments, plus:

    - ``joiner``: what the sender puts between the timestamp digits and the body (``"."``);
    - ``per_second``: 1 for Unix seconds, 1000 for milliseconds.
    """

    separator: str
    timestamp_key: str
    signature_key: str
    example: str
    joiner: str = "."
    per_second: int = 1
    space_after_separator: bool = False
    group_separator: str | None = None
    decode: Callable[[str, str], bytes] = decode_hex

    def signed_prefix(self, raw_ts: str) -> bytes:
        """The bytes the MAC covers before the body: the timestamp as sent and the joiner."""
        return f"{raw_ts}{self.joiner}".encode("ascii")

    def check(
        self,
        name: HeaderName,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[HMACKey],
        limits: Limits,
        now: float,
    ) -> tuple[int, int, tuple[bytes, ...]]:
        """Check the ``name`` header of one delivery, in the security model's order.

        Returns the timestamp (whole Unix seconds), the index of the matching key and the
        replay material (every configured key's MAC); raises the VerificationError of the
        first check that fails.
        """
        header = name.name
        raw_ts, presented = parse_keyed_signatures(
            require_header(headers, name, limits),
            header,
            limits,
            separator=self.separator,
            timestamp_key=self.timestamp_key,
            signature_key=self.signature_key,
            example=self.example,
            space_after_separator=self.space_after_separator,
            group_separator=self.group_separator,
            decode=self.decode,
        )
        timestamp = checked_timestamp(raw_ts, header, limits, now, per_second=self.per_second)
        index, macs = match_hmac(keys, presented, self.signed_prefix(raw_ts), body, header)
        return timestamp, index, macs
