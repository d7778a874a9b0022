"""Linear: ``Linear-Signature: <hex>`` over the body, whose ``webhookTimestamp`` is the signed time.

Docs: https://linear.app/developers/webhooks ("Securing webhooks") and the official SDK's
``LinearWebhookClient`` (@linear/sdk, packages/sdk/src/webhooks/client.ts in
github.com/linear/linear): HMAC-SHA256 of the raw body keyed with the webhook's signing secret
(the text Linear shows), hex, in ``Linear-Signature``. The body is JSON carrying
``webhookTimestamp``, the sending time in Unix milliseconds; being inside the body it is
covered by the signature, so it bounds replays like a signed timestamp header. The SDK also
reads a ``Linear-Timestamp`` header when the body has none; that header is not signed and is
never used here: a body without ``webhookTimestamp`` is refused.

The MAC is checked first (the timestamp is only trustworthy once the body is authenticated),
then the authenticated body is parsed (strict JSON, bounded by the body limit) and its
``webhookTimestamp`` checked against the window. ``Linear-Delivery`` (a per-delivery id) is not
signed; it is exposed as ``msg_id`` for logs and the handler's own idempotency only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import MalformedHeader, VerificationError
from .._headers import read_header
from ._body_hmac import BodyHMACPreset
from .aws_sns import parse_message
from .base import Limits, Verified, check_message_id, match_hmac, require_header

__all__ = ["Linear"]

FIELD = "webhookTimestamp"
#: Milliseconds before 10**15 (the year 33658): a larger number is no clock reading, and
#: bounding it keeps the window arithmetic on small integers.
_MAX_MILLIS = 10**15
_NOT_JSON = (
    "The body's signature is valid but the body is not a JSON object without duplicate "
    "members, so its signed 'webhookTimestamp' cannot be read. Check that this endpoint "
    "receives Linear webhooks."
)


def _malformed_timestamp(problem: str) -> MalformedHeader:
    return MalformedHeader(
        f"The signed body's {FIELD!r} {problem}; Linear sends the sending time as an integer "
        "number of milliseconds. Check that this endpoint receives Linear webhooks.",
        reason="malformed_timestamp",
        header=FIELD,
    )


def signed_timestamp(body: bytes) -> int:
    """The ``webhookTimestamp`` (Unix milliseconds) of an authenticated Linear body.

    Raises MalformedHeader (``malformed_body`` or ``malformed_timestamp``) when the body is not
    a strict JSON object or the field is absent or not a plausible integer.
    """
    document = parse_message(body, _NOT_JSON)
    millis = document.get(FIELD)
    if millis is None:
        raise _malformed_timestamp("is missing")
    if type(millis) is not int:  # not a bool, a float such as 1.7e12, or a string
        raise _malformed_timestamp("is not an integer")
    if not 0 < millis < _MAX_MILLIS:
        raise _malformed_timestamp("is out of range")
    return millis


class Linear(BodyHMACPreset):
    """Linear webhooks, signed with the webhook's signing secret (UTF-8 text).

    Checks ``Linear-Signature: <hex HMAC-SHA256 of the raw body>``, then the body's signed
    ``webhookTimestamp`` (milliseconds) against the verifier's window. Linear's own SDK
    allows one minute each way: ``Verifier(Linear(), secret, tolerance=60)`` matches it (the
    verifier's default is 300 s).
    """

    name = "linear"
    signature_header = "Linear-Signature"
    delivery_id_header = "Linear-Delivery"

    def __init__(self) -> None:
        super().__init__()
        self.signs_timestamp = True

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
        """Check the signature header, the signature, then the signed timestamp's window."""
        header = self.header.name
        value = require_header(headers, self.header, limits)
        presented = self._parse(value, header, limits)
        raw_id: str | None = None
        if self.id_header is not None:
            raw_id = read_header(headers, self.id_header, limits.max_header_bytes)
            if raw_id is not None:
                check_message_id(raw_id, self.id_header.name, limits)
        index, macs = match_hmac(keys, presented, b"", body, header)
        try:
            millis = signed_timestamp(body)
            limits.check_window(millis, now, FIELD, per_second=1000)
        except VerificationError:
            # ``macs`` holds every configured key's MAC of this body: valid signatures the
            # sender never sent (during a rotation). Drop them before the rejection's
            # traceback, which keeps this frame, reaches a log or an error tracker.
            del macs
            raise
        return Verified(body, millis // 1000, raw_id, index, self.name, macs)
