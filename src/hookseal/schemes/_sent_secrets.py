"""Secrets a sender sends as they are (a shared token, Graph's ``clientState``).

Such a secret cannot be compared as it arrives: its length and bytes would time the
comparison. Each configured secret is kept only as a keyed BLAKE2b digest (a random key per
scheme instance, so a digest seen elsewhere means nothing here), the presented value is
digested the same way, and every configured digest is compared, whatever matched before.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

__all__ = ["SentSecret", "SentSecrets"]


class SentSecret:
    """One configured secret, kept only as its keyed digest."""

    __slots__ = ("digest",)

    def __init__(self, digest: bytes) -> None:
        self.digest = digest

    def __repr__(self) -> str:
        return "SentSecret('**********')"


class SentSecrets:
    """Digests configured and presented secrets with one random key, and compares them."""

    __slots__ = ("_key",)

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _digest(self, value: bytes) -> bytes:
        return hashlib.blake2b(value, digest_size=32, key=self._key).digest()

    def configured(self, value: bytes) -> SentSecret:
        """A configured secret, as the key a verifier holds."""
        return SentSecret(self._digest(value))

    def match(self, keys: Sequence[SentSecret], presented: bytes) -> int:
        """The position of the newest configured secret equal to ``presented``, else -1.

        Every configured digest is compared with the presented one (two 32-byte values), with
        no early exit on a match: the time depends on neither the secrets nor the value sent.
        """
        digest = self._digest(presented)
        index = -1
        for position, key in enumerate(keys):
            if hmac.compare_digest(key.digest, digest):
                index = position
        return index
