"""Secrets in memory: validation at load time, redacted reprs, and prepared HMAC state."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from ._errors import ConfigurationError

__all__ = [
    "HMACKey",
    "Secret",
    "SecretValue",
    "Secrets",
    "hmac_matches",
    "prepared_matcher",
    "secret_bytes",
]

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


#: One configured secret: text (UTF-8), exact bytes, or a :class:`Secret`.
SecretValue: TypeAlias = "str | bytes | bytearray | memoryview | Secret"
#: What ``Verifier(scheme, secrets)`` takes: one secret, a list of them (oldest first, while
#: rotating), or for schemes that name their keys (RFC 9421) a mapping of key id to key.
Secrets: TypeAlias = "SecretValue | Sequence[SecretValue] | Mapping[str, Any]"


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

    def keyed_states(self) -> tuple[Callable[[], Any], Callable[[], Any]]:
        """The ``copy`` methods of the keyed inner and outer hash states, for fast checks.

        ``inner = new_inner(); inner.update(prefix); inner.update(message); outer =
        new_outer(); outer.update(inner.digest()); outer.digest()`` is :meth:`digest_parts`
        without the method call, for a check that computes one MAC per delivery inline.
        """
        return self._inner.copy, self._outer.copy

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


def hmac_matches(
    keys: Sequence[HMACKey],
    presented: Sequence[bytes],
    prefix: bytes,
    body: bytes,
) -> tuple[int, tuple[bytes, ...]] | None:
    """Match the presented signatures against every key; None when no key matches.

    Every key's MAC of ``prefix + body`` is computed (one MAC per configured key) and compared
    in constant time with each presented signature. Returns ``(index of the newest matching
    key, every configured key's MAC)``: those MACs are the delivery's replay material. They
    depend only on the signed bytes and the configured keys, never on which or how many of
    the presented signatures match, so stripping one of a rotation's signatures from a
    captured delivery, in any order, leaves its identity unchanged; a worker holding
    ``[old]`` and one holding ``[old, new]`` share the old key's MAC, so a rolling deploy
    refuses the replay too; and endpoints with different secrets never share one.

    It returns instead of raising so that a rejection's traceback holds no expected MAC: the
    frame that computed them is gone by the time the caller raises.
    """
    index = -1
    macs: list[bytes] = []
    for position in range(len(keys) - 1, -1, -1):
        expected = keys[position].digest_parts(prefix, body)
        macs.append(expected)
        if index < 0:
            for candidate in presented:
                if hmac.compare_digest(expected, candidate):
                    index = position
                    break
    if index < 0:
        return None
    return index, tuple(macs)


def prepared_matcher(
    keys: Sequence[HMACKey],
) -> Callable[[bytes, bytes, str], tuple[int, bytes | tuple[bytes, ...]] | None]:
    """:func:`hmac_matches` for one signature given as hex digits, bound to these keys' states.

    For fast checks, which only accept or decline.

    The returned ``match(prefix, body, presented_hex)`` gives ``(key index, replay material)``
    exactly as :func:`hmac_matches` does for the decoded signature (with one key, the
    material is that key's MAC, which equals the signature); None when the text is not hex
    digits or no key matches: the fast check then declines and the general check decides
    (and says which).
    """
    states = tuple(
        (index, key._inner.copy, key._outer.copy) for index, key in reversed(list(enumerate(keys)))
    )
    if len(states) == 1:
        _, only_inner, only_outer = states[0]

        def match_one(prefix: bytes, body: bytes, presented_hex: str) -> tuple[int, bytes] | None:
            try:
                presented = binascii.a2b_hex(presented_hex)
            except (binascii.Error, ValueError):
                return None
            inner = only_inner()
            inner.update(prefix)
            inner.update(body)
            outer = only_outer()
            outer.update(inner.digest())
            if hmac.compare_digest(outer.digest(), presented):
                return 0, presented
            return None

        return match_one

    def match(
        prefix: bytes, body: bytes, presented_hex: str
    ) -> tuple[int, bytes | tuple[bytes, ...]] | None:
        try:
            presented = binascii.a2b_hex(presented_hex)
        except (binascii.Error, ValueError):
            return None
        found = -1
        macs = []
        for index, inner_copy, outer_copy in states:
            inner = inner_copy()
            inner.update(prefix)
            inner.update(body)
            outer = outer_copy()
            outer.update(inner.digest())
            mac = outer.digest()
            macs.append(mac)
            if found < 0 and hmac.compare_digest(mac, presented):
                found = index
        if found < 0:
            return None
        return found, tuple(macs)

    return match
