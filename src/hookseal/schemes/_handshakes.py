"""Helpers the provider schemes share to answer subscription handshakes.

A verified handshake is recognised in a body that already passed every check, so parsing it
proves nothing by itself: these helpers only keep the work bounded (a byte marker first, so an
ordinary delivery is never parsed) and the replies inert (tokens are echoed only when they are
plausible tokens, and JSON replies are serialised by ``json``, never by string formatting).
"""

from __future__ import annotations

import json
from typing import Any

from .._handshake import HandshakeReply, echo_challenge

__all__ = ["echo_field", "json_reply", "plausible_token", "verified_json_object"]


def verified_json_object(body: bytes, marker: bytes) -> dict[str, Any] | None:
    """The verified ``body`` as a JSON object when it contains ``marker``, else None.

    The marker (a handshake's type name) is searched first, so the deliveries that are not
    handshakes (nearly all) are never parsed. Anything but a JSON object gives None.
    """
    if marker not in body:
        return None
    try:
        fields = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return fields if isinstance(fields, dict) else None


def plausible_token(value: object) -> str | None:
    """``value`` when it is a token :func:`~hookseal.schemes.base.echo_challenge` would echo."""
    if not isinstance(value, str) or echo_challenge(value) is None:
        return None
    return value


def echo_field(fields: dict[str, Any], name: str) -> HandshakeReply | None:
    """Echo ``fields[name]`` as plain text when it is a plausible token (a str), else None.

    For handshakes that carry their challenge in the verified JSON body (Slack, Twitch).
    """
    value = fields.get(name)
    return echo_challenge(value) if isinstance(value, str) else None


def json_reply(document: dict[str, Any]) -> HandshakeReply:
    """A 200 reply whose body is ``document`` as compact JSON."""
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return HandshakeReply(body=body, content_type="application/json")
