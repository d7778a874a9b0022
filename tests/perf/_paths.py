"""How the verifier checks a delivery: the scheme's prepared fast check first, then ``check``.

The agreement tests compare this with the scheme's general path alone (``_check_general``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hookseal import Verified
from hookseal._limits import Limits
from hookseal.schemes.base import Scheme


def fast_then_check(
    scheme: Scheme,
    body: bytes,
    headers: Mapping[str, str],
    keys: Sequence[Any],
    limits: Limits,
    now: float,
) -> Verified:
    """What ``Verifier`` does: the prepared fast check, and ``check`` when it declines."""
    fast = scheme.prepare_fast_check(keys, limits)
    if fast is not None:
        verified = fast(body, headers, now)
        if verified is not None:
            return verified
    return scheme.check(body, headers, keys, limits, now, None, None)
