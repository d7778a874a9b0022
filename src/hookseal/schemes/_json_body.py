"""Strict JSON for a body that is parsed before its signature is checked (Mailgun, Amazon SNS).

Such a parse reads the attacker's bytes before anything is authenticated. It must stay linear
(CPython's ``json`` scanner is; nesting ends in ``RecursionError``), raise nothing the caller
does not turn into its own rejection, and give the document one reading: member names that
repeat (parsers disagree on which one wins) and the non-standard ``NaN`` / ``Infinity``
constants are refused, so the verifier and the handler's own parser cannot see two different
messages in the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["strict_json_object"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _reject_constant(name: str) -> None:
    raise ValueError("non-standard JSON constant")


def strict_json_object(body: bytes) -> dict[str, Any] | None:
    """``body`` as a JSON object, or None: not JSON, not an object, a repeated name, NaN."""
    try:
        document = json.loads(
            body, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return document if isinstance(document, dict) else None
