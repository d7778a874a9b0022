"""Discord interactions: Ed25519 over ``timestamp + body``, checked with the application key.

Docs: https://discord.com/developers/docs/interactions/overview (Setting up an endpoint,
Validating security request headers). Reference verifier:
``discord/discord-interactions-python`` ``discord_interactions/__init__.py`` (``verify_key``).

Discord sends ``X-Signature-Ed25519`` (the 64-byte signature as hex) and
``X-Signature-Timestamp`` (Unix seconds); the signed message is the timestamp text followed
directly by the raw body, with no separator. The key is the application's public key, shown
as 64 hex digits on the developer portal.

Discord checks the endpoint with a PING interaction (``"type": 1``), signed like every other
interaction, to be answered with a PONG, ``{"type": 1}`` as JSON (Receiving an Interaction).
It also sends requests with invalid signatures, which must be refused (they are, with 401).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._encoding import decode_hex
from .._errors import ConfigurationError, SignatureMismatch
from .._headers import HeaderName
from .._limits import Limits
from ._handshakes import json_reply
from ._timestamp import checked_timestamp
from .base import HandshakeReply, Scheme, make_replay_key, require_header

__all__ = ["Discord"]

_SIGNATURE = HeaderName("X-Signature-Ed25519")
_TIMESTAMP = HeaderName("X-Signature-Timestamp")
_NAME = "discord"
_KEY_SIZE = 32
_SIGNATURE_SIZE = 64
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_PING = 1
# A PING carries a few ids and a token: a larger body is an interaction with content.
_MAX_PING_BYTES = 16 * 1024


def _key_bytes(secret: object, what: str) -> bytes:
    if isinstance(secret, str):
        if len(secret) != 2 * _KEY_SIZE or not set(secret) <= _HEX_DIGITS:
            raise ConfigurationError(
                f"The Discord {what} must be {2 * _KEY_SIZE} hex digits (32 bytes), exactly as "
                "the developer portal shows it."
            )
        return bytes.fromhex(secret)
    if isinstance(secret, (bytes, bytearray, memoryview)):
        raw = bytes(secret)
        if len(raw) != _KEY_SIZE:
            raise ConfigurationError(f"The Discord {what} must be {_KEY_SIZE} raw bytes.")
        return raw
    raise ConfigurationError(
        f"The Discord {what} must be hex text, 32 raw bytes or a cryptography Ed25519 key, "
        f"not {type(secret).__name__}."
    )


class Discord(Scheme):
    """Discord interaction webhooks, verified with the application's Ed25519 public key.

    Secrets (for a :class:`~hookseal.Verifier`): the application's public key as 64 hex
    digits (or 32 raw bytes, or a ``cryptography`` ``Ed25519PublicKey``); list several while
    moving between applications. A :class:`~hookseal.Signer` takes the private key: a 32-byte
    seed as 64 hex digits or raw bytes, or an ``Ed25519PrivateKey`` (tests and local tools
    only; Discord holds the real one).

    The timestamp is signed, so the verifier's tolerance window applies to it (Discord's own
    libraries do not check it). The replay key is the signature itself: Ed25519 signatures
    are deterministic and cover the timestamp and body, and ``cryptography`` refuses
    non-canonical encodings, so one delivery has exactly one accepted signature.
    """

    name = _NAME
    #: Discord documents no size for interaction requests; they carry one interaction and the
    #: metadata (not the content) of attachments, so the generic 1 MiB fits.
    default_max_body_bytes = 1024 * 1024
    signs_timestamp = True

    @override
    def load_key(self, secret: object) -> Any:
        """The application's public key."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (
            Ed25519PrivateKey,
            Ed25519PublicKey,
        )

        if isinstance(secret, Ed25519PublicKey):
            return secret
        if isinstance(secret, Ed25519PrivateKey):
            raise ConfigurationError(
                "A Discord verifier takes the application's PUBLIC key; a private key belongs "
                "with a Signer only."
            )
        return Ed25519PublicKey.from_public_bytes(_key_bytes(secret, "public key"))

    @override
    def load_signing_key(self, secret: object) -> Any:
        """A private key for signing: a 32-byte seed (hex or raw) or an Ed25519PrivateKey."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if isinstance(secret, Ed25519PrivateKey):
            return secret
        return Ed25519PrivateKey.from_private_bytes(_key_bytes(secret, "private key"))

    @override
    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        """Check the headers, the timestamp window, then the Ed25519 signature."""
        from cryptography.exceptions import InvalidSignature

        header = _SIGNATURE.name
        value = require_header(headers, _SIGNATURE, limits)
        signature = decode_hex(value, header)
        raw_ts = require_header(headers, _TIMESTAMP, limits, "timestamp")
        timestamp = checked_timestamp(raw_ts, _TIMESTAMP.name, limits, now)
        if len(signature) != _SIGNATURE_SIZE:
            raise SignatureMismatch(
                f"The {header!r} header holds {len(signature)} bytes; an Ed25519 signature "
                f"is {_SIGNATURE_SIZE}.",
                header=header,
            )
        message = raw_ts.encode("ascii") + body
        for index in range(len(keys) - 1, -1, -1):
            try:
                keys[index].verify(signature, message)
            except InvalidSignature:
                continue
            return Verified(
                body,
                timestamp=timestamp,
                msg_id=None,
                key_index=index,
                scheme=_NAME,
                replay_key=make_replay_key(_NAME, signature),
            )
        raise SignatureMismatch(
            f"The {header!r} signature does not verify with any configured public key. Check "
            "that the key is this application's public key and that the body reaches the "
            "verifier exactly as sent.",
            header=header,
        )

    @override
    def handshake_reply(self, verified: Verified, keys: Sequence[Any]) -> HandshakeReply | None:
        """Answer a verified PING interaction with a PONG (``{"type": 1}``); None otherwise."""
        body = verified.body
        if len(body) > _MAX_PING_BYTES:
            return None
        try:
            fields = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(fields, dict):
            return None
        kind = fields.get("type")
        # ``type(kind) is int``: JSON ``true`` would compare equal to 1.
        if type(kind) is not int or kind != _PING:
            return None
        return json_reply({"type": _PING})

    @override
    def sign(
        self,
        key: Any,
        body: bytes,
        *,
        timestamp: int,
        msg_id: str,
        url: str | None,
        method: str,
    ) -> dict[str, str]:
        """The ``X-Signature-Ed25519`` and ``X-Signature-Timestamp`` headers."""
        raw_ts = str(timestamp)
        signature = key.sign(raw_ts.encode("ascii") + body)
        return {_SIGNATURE.name: signature.hex(), _TIMESTAMP.name: raw_ts}
