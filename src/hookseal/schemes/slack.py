"""Slack: ``X-Slack-Signature: v0=<hex>``, HMAC-SHA256 over ``v0:timestamp:body``.

Docs: https://docs.slack.dev/authentication/verifying-requests-from-slack/

Slack checks an Events API Request URL with a ``url_verification`` event, signed like every
other request: ``{"type": "url_verification", "challenge": ...}``, answered 200 with the
challenge as plain text (https://api.slack.com/events/url_verification).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._encoding import decode_hex
from .._errors import MalformedHeader
from .._headers import HeaderName, single_lines_reader
from .._keys import prepared_matcher
from .._limits import Limits
from ._handshakes import echo_field, verified_json_object
from ._timestamp import checked_timestamp
from .base import (
    FastCheck,
    HandshakeReply,
    Scheme,
    match_hmac,
    require_header,
)

__all__ = ["Slack"]

_NAME = "slack"
_VERSION = "v0"
_SIGNATURE = "X-Slack-Signature"
_TIMESTAMP = "X-Slack-Request-Timestamp"
# 'v0=' and 64 hex digits of HMAC-SHA256.
_FAST_SIGNATURE_LENGTH = 67
_MAX_TIMESTAMP_DIGITS = 12


class Slack(Scheme):
    """Slack's request signatures (Events API, slash commands, interactivity).

    The secret is the app's *Signing Secret* (Basic Information page), used as UTF-8 text.
    ``X-Slack-Request-Timestamp`` is signed and checked against the tolerance window.
    """

    name = _NAME
    #: Slack documents no size for Events API or interactivity requests; each carries one event
    #: or one interaction, so the generic 1 MiB fits (docs/providers/slack.md).
    default_max_body_bytes = 1024 * 1024
    signs_timestamp = True

    def __init__(self) -> None:
        self._signature = HeaderName(_SIGNATURE)
        self._timestamp = HeaderName(_TIMESTAMP)

    @override
    def prepare_fast_check(self, keys: Sequence[Any], limits: Limits) -> FastCheck | None:
        """The common request's check: one ``v0=<64 hex>``, a timestamp inside the window.

        It runs the checks of :meth:`check` with fewer Python operations, on the keyed HMAC
        states prepared once per secret; anything unusual is left to :meth:`check`, which
        produces the precise error.
        """
        if not keys or limits.max_header_bytes < _FAST_SIGNATURE_LENGTH:
            return None
        match = prepared_matcher(keys)
        # The instance's headers (a subclass may rename them), exactly as check reads them.
        read = single_lines_reader(self._signature, self._timestamp)
        in_window = limits.in_window

        name = self.name  # the instance's, exactly as check reports it

        def fast_check(body: bytes, headers: Mapping[str, str], now: float) -> Verified | None:
            value, raw_ts = read(headers)
            # Before any crypto: 'v0=' + 64 hex digits; a timestamp of 1 to 12 ASCII digits
            # without a leading zero, inside the window as Limits.check_window compares it (a
            # NaN clock fails). Anything else is left to the general path.
            if not (
                type(value) is str
                and type(raw_ts) is str
                and len(value) == _FAST_SIGNATURE_LENGTH
                and value.startswith("v0=")
                and 0 < len(raw_ts) <= _MAX_TIMESTAMP_DIGITS
                and raw_ts.isdigit()
                and raw_ts.isascii()
                and raw_ts[0] != "0"
                and in_window(timestamp := int(raw_ts), now)
            ):
                return None
            matched = match(f"v0:{raw_ts}:".encode(), body, value[3:])
            if matched is None:
                return None  # the general check decides (and says why)
            return Verified(body, timestamp, None, matched[0], name, matched[1])

        return fast_check

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
        """Check both headers, the timestamp window, then the signature."""
        header = self._signature.name
        value = require_header(headers, self._signature, limits)
        if not value.startswith("v0=") or len(value) == 3:
            raise MalformedHeader(
                f"The {header!r} header must be 'v0=' followed by 64 hex digits.",
                header=header,
            )
        presented = decode_hex(value[3:], header)
        raw_ts = require_header(headers, self._timestamp, limits, "timestamp")
        timestamp = checked_timestamp(raw_ts, self._timestamp.name, limits, now)
        index, mac = match_hmac(
            keys, (presented,), f"{_VERSION}:{raw_ts}:".encode("ascii"), body, header
        )
        # replay_key == make_replay_key(self.name, mac), derived only if a nonce store asks.
        return Verified(body, timestamp, None, index, self.name, mac)

    @override
    def handshake_reply(self, verified: Verified, keys: Sequence[Any]) -> HandshakeReply | None:
        """Answer a verified ``url_verification`` event with its challenge, as plain text.

        None for every other request, and for a challenge that is not a plausible token.
        """
        fields = verified_json_object(verified.body, b"url_verification")
        if fields is None or fields.get("type") != "url_verification":
            return None
        return echo_field(fields, "challenge")

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
        """The two headers Slack sends."""
        mac = key.digest_parts(f"{_VERSION}:{timestamp}:".encode("ascii"), body)
        return {
            self._signature.name: f"{_VERSION}={mac.hex()}",
            self._timestamp.name: str(timestamp),
        }
