"""Twitch EventSub (webhook transport): HMAC-SHA256 over ``id + timestamp + body``.

Docs: https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message

Twitch sends ``Twitch-Eventsub-Message-Id``, ``Twitch-Eventsub-Message-Timestamp`` (RFC 3339,
with up to nanoseconds) and ``Twitch-Eventsub-Message-Signature: sha256=<hex>``, the HMAC-SHA256
of the id, the timestamp and the raw body concatenated with no separator, keyed with the
``secret`` you chose when creating the subscription (10 to 100 ASCII characters).

The fields are not separated, but the split is unambiguous: the timestamp is parsed strictly
(four-digit year, ``-``, ... ``Z`` or an offset), so no other cut of the same signed bytes
gives a valid timestamp, and the id may not contain ``:`` (every timestamp does).

The first request of a subscription is a ``webhook_callback_verification``
(``Twitch-Eventsub-Message-Type``), signed like every other message, whose JSON body holds a
``challenge`` to be answered as plain text with status 200; :meth:`Twitch.handshake_reply`
builds that answer and every adapter sends it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_hex
from .._errors import ConfigurationError, MalformedHeader
from .._headers import HeaderName
from .._keys import HMACKey, secret_bytes
from .._limits import Limits
from ._handshakes import echo_field, verified_json_object
from ._rfc3339 import parse_rfc3339
from .base import (
    HandshakeReply,
    Scheme,
    Verified,
    check_message_id,
    match_hmac,
    require_header,
)

__all__ = ["Twitch"]

_SIGNATURE = HeaderName("Twitch-Eventsub-Message-Signature")
_TIMESTAMP = HeaderName("Twitch-Eventsub-Message-Timestamp")
_ID = HeaderName("Twitch-Eventsub-Message-Id")
_PREFIX = "sha256="


class Twitch(Scheme):
    """Twitch EventSub webhook notifications, verifications and revocations.

    The secret is the subscription's ``secret`` (10 to 100 ASCII characters), as text. Twitch
    asks receivers to refuse messages older than 10 minutes:
    ``Verifier(Twitch(), [secret], tolerance=600)``. The message id is signed and exposed as
    :attr:`Verified.msg_id`; Twitch may deliver one message more than once, so make the
    handler idempotent on it.
    """

    name = "twitch"
    signs_timestamp = True
    id_header = _ID

    @override
    def load_key(self, secret: object) -> HMACKey:
        """The subscription secret as its bytes (10 to 100 ASCII characters)."""
        raw = secret_bytes(secret, "Twitch subscription secret")
        if not (10 <= len(raw) <= 100 and raw.isascii()):
            raise ConfigurationError(
                "A Twitch EventSub secret is 10 to 100 ASCII characters (Twitch refuses "
                "others when the subscription is created). Use the secret you sent to Twitch."
            )
        return HMACKey(raw)

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
        """Check the three headers, the timestamp window, then the signature."""
        header = _SIGNATURE.name
        value = require_header(headers, _SIGNATURE, limits)
        if not value.startswith(_PREFIX) or len(value) == len(_PREFIX):
            raise MalformedHeader(
                f"The {header!r} header must be 'sha256=' followed by 64 hex digits.",
                header=header,
            )
        presented = decode_hex(value[len(_PREFIX) :], header)
        msg_id = require_header(headers, _ID, limits, "message id")
        check_message_id(msg_id, _ID.name, limits, forbidden=":")
        raw_ts = require_header(headers, _TIMESTAMP, limits, "timestamp")
        timestamp = parse_rfc3339(raw_ts, _TIMESTAMP.name)
        limits.check_window(timestamp, now, _TIMESTAMP.name)
        prefix = (msg_id + raw_ts).encode("ascii")
        index, macs = match_hmac(keys, (presented,), prefix, body, header)
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=msg_id,
            key_index=index,
            scheme=self.name,
            replay_material=macs,
        )

    @override
    def handshake_reply(self, verified: Verified, keys: Sequence[Any]) -> HandshakeReply | None:
        """Answer a verified ``webhook_callback_verification`` with its challenge, as plain text.

        The message is recognised by its signed body (a top-level ``challenge`` beside the
        ``subscription``, and no ``event``), not by the ``Twitch-Eventsub-Message-Type``
        header, which the signature does not cover. None for notifications, revocations and
        challenges that are not plausible tokens.
        """
        fields = verified_json_object(verified.body, b'"challenge"')
        if fields is None or "event" in fields or not isinstance(fields.get("subscription"), dict):
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
        """The three headers Twitch sends (the timestamp in RFC 3339 UTC, whole seconds)."""
        raw_ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
        mac = key.digest_parts((msg_id + raw_ts).encode("ascii"), body)
        return {
            _ID.name: msg_id,
            _TIMESTAMP.name: raw_ts,
            _SIGNATURE.name: _PREFIX + mac.hex(),
        }

    @override
    def new_message_id(self) -> str:
        """A random UUID, the form of Twitch's message ids."""
        return str(uuid.uuid4())

    def __repr__(self) -> str:
        return "Twitch()"
