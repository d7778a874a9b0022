"""The length check on presented MACs: a signature of another length is refused before any MAC.

A shorter signature must never be compared as a prefix (svix, CVE-2024-21491), and one of
another length cannot match: refusing it up front costs nothing and spends no MAC on it. The
length is the configured algorithm's digest size, so the configuration, not the message,
fixes it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from .._errors import SignatureMismatch
from .._keys import hash_constructor

__all__ = ["check_mac_length"]


@functools.cache
def _digest_size(algorithm: str) -> int:
    # Only configured algorithms reach here: whether SHA-1 is allowed was decided then.
    size: int = hash_constructor(algorithm, allow_sha1=True)().digest_size
    return size


def check_mac_length(presented: bytes | Sequence[bytes], algorithm: str, header: str) -> None:
    """Raise SignatureMismatch unless a presented signature has ``algorithm``'s MAC length.

    ``presented`` is one decoded signature or several (then one of the right length is
    enough: the others simply never match).
    """
    size = _digest_size(algorithm)
    candidates = (presented,) if isinstance(presented, bytes) else presented
    if not any(len(candidate) == size for candidate in candidates):
        # A lone signature's length tells the sender's algorithm (a SHA-1 MAC is 20 bytes).
        got = f"; this one is {len(presented)} bytes" if isinstance(presented, bytes) else ""
        raise SignatureMismatch(
            f"No signature in the {header!r} header has the length of an HMAC-"
            f"{algorithm.upper()} ({size} bytes{got}): check that the sender signs with "
            f"{algorithm.upper()} and that nothing truncated the header.",
            header=header,
        )
