"""How the verifier checks a delivery: the scheme's prepared fast check first, then ``check``.

The agreement tests compare this with the scheme's general path alone (``_check_general``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hookseal import Verified
from hookseal._policy import Policy
from hookseal.schemes._base import Scheme


def fast_then_check(
    scheme: Scheme,
    body: bytes,
    headers: Mapping[str, str],
    keys: Sequence[Any],
    policy: Policy,
    now: float,
) -> Verified:
    """What ``Verifier`` does: the prepared fast check, and ``check`` when it declines."""
    fast = scheme.prepare_fast_check(keys, policy)
    if fast is not None:
        verified = fast(body, headers, now)
        if verified is not None:
            return verified
    return scheme.check(body, headers, keys, policy, now, None, None)
