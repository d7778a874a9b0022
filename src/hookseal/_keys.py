"""Secrets in memory: validation at load time, redacted reprs, and prepared HMAC state."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from typing import Any

from ._errors import ConfigurationError

__all__ = ["HMACKey", "Secret", "secret_bytes"]

_HASHES: dict[str, Callable[..., Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
_TRANS_5C = bytes(x ^ 0x5C for x in range(256))
_TRANS_36 = bytes(x ^ 0x36 for x in range(256))


class Secret:
    """A secret value whose ``repr`` and ``str`` never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    @property
    def value(self) -> bytes:
        """The secret bytes. Do not log them."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def secret_bytes(secret: object, what: str = "secret") -> bytes:
    """Validate a user-supplied secret (text or bytes) and return its bytes.

    Refuses what is almost always a copy-paste accident: an empty secret (``hmac`` would
    happily key with it), surrounding whitespace or a trailing newline, a byte-order mark, and
    text that is not in Unicode NFC form (the same secret typed on two systems can differ).
    Text is encoded as UTF-8. Pass ``bytes`` to use other bytes exactly as given.
    """
    if isinstance(secret, str):
        if not secret or not secret.strip():
            raise ConfigurationError(f"The {what} is empty. Paste the value your provider shows.")
        if secret != secret.strip() or "\ufeff" in secret:
            raise ConfigurationError(
                f"The {what} has surrounding whitespace, a newline or a byte-order mark, which "
                "is almost always a copy-paste accident. Remove it (for example with .strip()), "
                "or pass bytes if these characters really are part of the secret."
            )
        if unicodedata.normalize("NFC", secret) != secret:
            raise ConfigurationError(
                f"The {what} is not in Unicode NFC form. Normalise it, or pass the exact bytes."
            )
        return secret.encode("utf-8")
    if isinstance(secret, (bytes, bytearray, memoryview)):
        value = bytes(secret)
        if not value:
            raise ConfigurationError(f"The {what} is empty.")
        return value
    if isinstance(secret, Secret):
        return secret_bytes(secret.value, what)
    raise ConfigurationError(f"The {what} must be str or bytes, not {type(secret).__name__}.")


def hash_constructor(algorithm: str, *, allow_sha1: bool = False) -> Callable[..., Any]:
    """The hashlib constructor for a configured algorithm name, refusing SHA-1 unless allowed."""
    if algorithm == "sha1" and not allow_sha1:
        raise ConfigurationError(
            "SHA-1 is refused by default: pass allow_sha1=True only for a sender that offers "
            "nothing stronger."
        )
    try:
        return _HASHES[algorithm]
    except (KeyError, TypeError):
        # The value is not echoed: a secret passed in the wrong place must not reach a log.
        raise ConfigurationError(
            "Unknown algorithm: use one of 'sha256', 'sha384', 'sha512' (or 'sha1' with "
            "allow_sha1=True)."
        ) from None


class HMACKey:
    """An HMAC key whose keyed inner and outer hash states are computed once.

    Each MAC copies the two prepared states instead of re-deriving them from the key, which
    is what makes short messages cheaper than ``hmac.digest``. The result is identical to
    ``hmac.digest(key, message, algorithm)`` (the test suite checks this on random input).
    """

    __slots__ = ("_inner", "_outer", "algorithm", "digest_size")

    def __init__(self, key: bytes, algorithm: str = "sha256", *, allow_sha1: bool = False):
        new = hash_constructor(algorithm, allow_sha1=allow_sha1)
        block_size = new().block_size
        if len(key) > block_size:
            key = new(key).digest()
        key = key.ljust(block_size, b"\0")
        self._inner = new(key.translate(_TRANS_36))
        self._outer = new(key.translate(_TRANS_5C))
        self.algorithm = algorithm
        self.digest_size: int = self._inner.digest_size

    def digest(self, message: bytes) -> bytes:
        """HMAC of ``message``."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()  # type: ignore[no-any-return]

    def digest_parts(self, prefix: bytes, message: bytes) -> bytes:
        """HMAC of ``prefix + message``, without building the concatenation."""
        inner = self._inner.copy()
        inner.update(prefix)
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"HMACKey({self.algorithm}, '**********')"
