"""Secrets that the provider shows as base64 and keys its HMAC with once decoded."""

from __future__ import annotations

from .._encoding import decode_base64
from .._errors import ConfigurationError, MalformedHeader
from .._keys import secret_bytes

__all__ = ["decoded_base64_secret"]


def decoded_base64_secret(secret: object, what: str) -> bytes:
    """The key bytes of a secret shown as base64 text; ``bytes`` are taken as the raw key.

    Text must be canonical padded base64 (standard alphabet): anything else is a
    ConfigurationError, raised at construction, whose message never shows the value.
    """
    if isinstance(secret, (bytes, bytearray, memoryview)):
        return secret_bytes(secret, what)
    text = secret_bytes(secret, what).decode("utf-8")
    try:
        raw = decode_base64(text, what)  # the strict decoder signatures go through
    except MalformedHeader:
        raw = b""  # raised below, outside this handler: no exception chain to show
    if not raw:
        raise ConfigurationError(
            f"The {what} must be the base64 text the provider shows (standard alphabet, with "
            "padding, nothing before or after it). Pass bytes to give the decoded key itself."
        )
    return raw
