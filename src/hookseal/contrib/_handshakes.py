"""Subscription handshakes for the framework adapters: ask the verifier, send its reply.

Every adapter does the same two things (see docs/handshakes.md): before verifying, it asks
:meth:`Verifier.unsigned_handshake_reply <hookseal.Verifier.unsigned_handshake_reply>` and
sends the reply if there is one; after a successful verification, it asks
:meth:`Verifier.handshake_reply <hookseal.Verifier.handshake_reply>` and sends that reply
instead of calling the handler. Nothing here names a scheme: what a scheme needs is read from
its declarations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .._delivery import Verified
from .._handshake import HandshakeReply
from .._verifier import Verifier
from ._common import handler_failed

__all__ = ["ahandshake_reply", "handshake_reply", "unsigned_handshake_reply"]


def unsigned_handshake_reply(
    verifier: Verifier,
    method: str,
    query: str | bytes,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    remote_addr: str | None,
) -> HandshakeReply | None:
    """The reply to an unsigned handshake request, or None (then verify the request)."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    return verifier.unsigned_handshake_reply(method, query, headers, remote_addr=remote_addr)


def handshake_reply(verifier: Verifier, verified: Verified) -> HandshakeReply | None:
    """The reply to send instead of calling the handler, when ``verified`` is a handshake.

    The replay record is kept (a replayed handshake is refused like any replay), except after
    a 5xx reply (the scheme could not complete the handshake now): it is released so that the
    sender's retry is answered.
    """
    reply = verifier.handshake_reply(verified)
    if reply is not None and handler_failed(reply.status):
        verifier.release(verified)
    return reply


async def ahandshake_reply(verifier: Verifier, verified: Verified) -> HandshakeReply | None:
    """:func:`handshake_reply` for async adapters.

    A scheme whose reply does I/O (``Scheme.handshake_blocks``: Amazon SNS visits the
    confirmation URL) is asked in a worker thread, never on the event loop.
    """
    reply = await verifier.ahandshake_reply(verified)
    if reply is not None and handler_failed(reply.status):
        await verifier.arelease(verified)
    return reply
