"""Subscription handshakes: the replies a sender expects before (or instead of) deliveries.

Many senders check an endpoint before sending events to it: Slack's ``url_verification``,
Discord's PING, Zoom's ``endpoint.url_validation``, Twitch's callback verification, Meta's and
Dropbox's ``GET`` challenge, Amazon SNS's ``SubscriptionConfirmation``, Microsoft Graph's
``validationToken``. A scheme declares how to answer its provider's handshake; every adapter
sends the reply without calling the handler.

Two kinds exist, and a scheme may answer both:

* a **verified handshake** arrives signed like any delivery: the verifier checks it first (so
  only the provider can trigger the reply), then :meth:`Scheme.handshake_reply` recognises it
  in the verified body;
* an **unsigned handshake** (``GET ?challenge=...``) carries no signature:
  :meth:`Scheme.unsigned_handshake_reply` answers it only when the provider's own rule
  authenticates it (Meta's verify token) or when the reply proves nothing and commits nothing
  (an echoed challenge, bounded and sent as ``text/plain`` with ``nosniff``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["HandshakeReply", "HandshakeRequest", "echo_challenge"]

#: The longest challenge a reply echoes; senders use tokens of a few dozen characters.
MAX_CHALLENGE_LENGTH = 512


@dataclass(frozen=True)
class HandshakeReply:
    """What an adapter answers to a handshake, instead of calling the handler.

    Attributes:
        status: the HTTP status.
        body: the response body, exactly.
        content_type: the ``Content-Type`` header.
        headers: other response headers, as ``(name, value)`` pairs.
    """

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = field(default=())

    def all_headers(self) -> list[tuple[str, str]]:
        """Every response header, ``Content-Type`` and ``X-Content-Type-Options`` included."""
        return [
            ("Content-Type", self.content_type),
            ("X-Content-Type-Options", "nosniff"),
            *self.headers,
        ]


@dataclass(frozen=True)
class HandshakeRequest:
    """An unsigned request that may be a handshake, as the adapter received it.

    Attributes:
        method: the HTTP method.
        query: the query string's parameters (each name to its values, in order).
        headers: the request headers.
        body: the raw body (empty for a ``GET``).
    """

    method: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""

    def single_query(self, name: str) -> str | None:
        """The value of query parameter ``name`` when it was sent exactly once, else None."""
        values = self.query.get(name)
        if values is None or len(values) != 1:
            return None
        return values[0]


def echo_challenge(challenge: str | None) -> HandshakeReply | None:
    """Echo ``challenge`` as ``text/plain`` when it is a plausible token, else None.

    A plausible token is 1 to :data:`MAX_CHALLENGE_LENGTH` printable ASCII characters with no
    markup (``<``, ``>``, quotes, ``&``): the reply then proves nothing, commits nothing and
    cannot be read as anything but the text a sender asked for.
    """
    if challenge is None or not 0 < len(challenge) <= MAX_CHALLENGE_LENGTH:
        return None
    if not challenge.isascii() or not challenge.isprintable():
        return None
    if any(char in challenge for char in "<>\"'&"):
        return None
    return HandshakeReply(body=challenge.encode("ascii"))
