"""The ``name=value`` signature headers of Paddle and WorkOS: one timestamp, several MACs.

``Paddle-Signature: ts=1700000000;h1=<hex>[;h1=<hex>]`` and
``WorkOS-Signature: t=1700000000000, v1=<hex>[, v1=<hex>]`` share one shape, parsed here
strictly and with the number of entries bounded before anything is decoded.
"""

from __future__ import annotations

from .._encoding import decode_hex
from .._errors import MalformedHeader, SignatureMismatch
from .._limits import Limits

__all__ = ["parse_keyed_signatures"]


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
) -> tuple[str, list[bytes]]:
    """Return the raw timestamp text and the decoded signatures of a keyed header.

    Refuses (``MalformedHeader``) more than ``max_signatures`` signature entries, an entry
    that is not ``name=value``, spaces (except one after the separator when
    ``space_after_separator``), a repeated or missing timestamp, and bad hex. Entries with
    other names are ignored (a future signature version); a header holding only those is a
    ``SignatureMismatch`` with reason ``no_supported_signature``.
    """
    # The timestamp plus up to max_signatures signatures: refuse anything longer unparsed.
    limits.check_signatures(value.count(separator), header)
    raw_ts: str | None = None
    presented: list[bytes] = []
    others = 0
    for position, part in enumerate(value.split(separator)):
        entry = part[1:] if space_after_separator and position and part[:1] == " " else part
        name, sep, item = entry.partition("=")
        if not sep or not name or not item or " " in entry:
            raise MalformedHeader(
                f"Each entry of the {header!r} header must be 'name=value' (e.g. {example!r}).",
                header=header,
            )
        if name == timestamp_key:
            if raw_ts is not None:
                raise MalformedHeader(
                    f"The {header!r} header holds more than one {timestamp_key!r} entry.",
                    header=header,
                )
            raw_ts = item
        elif name == signature_key:
            presented.append(decode_hex(item, header))
        else:
            others += 1
    if raw_ts is None:
        raise MalformedHeader(
            f"The {header!r} header has no {timestamp_key!r} entry (the signed timestamp).",
            header=header,
        )
    if not presented:
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
