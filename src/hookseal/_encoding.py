"""Strict decoders for what arrives in headers: hex, base64 and ASCII timestamps.

Lenient decoding is how verifiers get fooled (``b64decode`` without ``validate=True`` accepts
``sig + "!!!"``; ``bytes.fromhex`` accepts spaces; ``int()`` accepts full-width digits and
``"1_000"``). Each function here accepts exactly one spelling of a value and raises
:class:`MalformedHeader` for anything else.
"""

from __future__ import annotations

import binascii

from ._errors import MalformedHeader

__all__ = ["decode_base64", "decode_hex", "encode_base64", "parse_timestamp"]

_b2a_base64 = binascii.b2a_base64
_a2b_base64 = binascii.a2b_base64
_a2b_hex = binascii.a2b_hex


def decode_hex(value: str, header: str) -> bytes:
    """Decode hex digits (either case, even length, nothing else) or raise MalformedHeader."""
    try:
        return _a2b_hex(value)
    except (binascii.Error, ValueError):
        raise MalformedHeader(
            f"The signature in the {header!r} header is not valid hex. It must be an even "
            "number of hex digits with no spaces or other characters.",
            header=header,
        ) from None


def decode_base64(value: str, header: str) -> bytes:
    """Decode canonical padded base64 or raise MalformedHeader.

    The decoded bytes must re-encode to exactly the input: junk after the padding, missing
    padding, whitespace and non-zero trailing bits are all refused.
    """
    try:
        raw = _a2b_base64(value)
        canonical = value.isascii() and _b2a_base64(raw, newline=False) == value.encode("ascii")
    except (binascii.Error, ValueError):
        canonical = False
    if not canonical:
        raise MalformedHeader(
            f"The signature in the {header!r} header is not canonical base64 (standard "
            "alphabet, with padding, nothing before or after it).",
            header=header,
        )
    return raw


def encode_base64(raw: bytes) -> str:
    """Standard padded base64 of ``raw`` as text."""
    return _b2a_base64(raw, newline=False).decode("ascii")


def parse_timestamp(value: str, header: str, max_digits: int = 12) -> int:
    """Parse a Unix timestamp written as 1 to ``max_digits`` ASCII digits.

    Signs, spaces, underscores, decimal points, exponents, hex prefixes, non-ASCII digits and
    leading zeros (other than ``"0"`` itself) are all refused, and the length cap keeps huge
    numbers from ever reaching ``int()``. One number has exactly one accepted spelling, so
    digits can never move between a timestamp and a neighbouring signed field.
    """
    if (
        0 < len(value) <= max_digits
        and value.isascii()
        and value.isdigit()
        and (value[0] != "0" or len(value) == 1)
    ):
        return int(value)
    raise MalformedHeader(
        f"The {header!r} header is not a Unix timestamp: expected 1 to {max_digits} ASCII "
        "digits (seconds since the epoch, no sign, spaces, decimal point or leading zero).",
        reason="malformed_timestamp",
        header=header,
    )
