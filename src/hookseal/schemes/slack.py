"""Slack: ``X-Slack-Signature: v0=<hex>``, HMAC-SHA256 over ``v0:timestamp:body``.

Docs: https://docs.slack.dev/authentication/verifying-requests-from-slack/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._delivery import Verified, _verified_deferred
from .._encoding import decode_hex, parse_timestamp
from .._errors import MalformedHeader
from .._headers import HeaderName
from .._policy import Policy
from ._base import Scheme, match_hmac, require_header

__all__ = ["Slack"]

_NAME = "slack"
_VERSION = "v0"


class Slack(Scheme):
    """Slack's request signatures (Events API, slash commands, interactivity).

    The secret is the app's *Signing Secret* (Basic Information page), used as UTF-8 text.
    ``X-Slack-Request-Timestamp`` is signed and checked against the tolerance window.
    """

    name = _NAME
    signs_timestamp = True

    def __init__(self) -> None:
        self._signature = HeaderName("X-Slack-Signature")
        self._timestamp = HeaderName("X-Slack-Request-Timestamp")

    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        policy: Policy,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        """Check both headers, the timestamp window, then the signature."""
        header = self._signature.name
        value = require_header(headers, self._signature, policy)
        if not value.startswith("v0=") or len(value) == 3:
            raise MalformedHeader(
                f"The {header!r} header must be 'v0=' followed by 64 hex digits.",
                header=header,
            )
        presented = decode_hex(value[3:], header)
        raw_ts = require_header(headers, self._timestamp, policy, "timestamp")
        timestamp = parse_timestamp(raw_ts, self._timestamp.name)
        policy.check_window(timestamp, now, self._timestamp.name)
        index, mac = match_hmac(
            keys, (presented,), f"{_VERSION}:{raw_ts}:".encode("ascii"), body, header
        )
        # replay_key == make_replay_key(_NAME, mac), derived only if a nonce store asks.
        return _verified_deferred(body, timestamp, None, index, _NAME, mac)

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
        """The two headers Slack sends."""
        mac = key.digest_parts(f"{_VERSION}:{timestamp}:".encode("ascii"), body)
        return {
            self._signature.name: f"{_VERSION}={mac.hex()}",
            self._timestamp.name: str(timestamp),
        }
