"""Dropbox: ``X-Dropbox-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://www.dropbox.com/developers/reference/webhooks

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.

Dropbox verifies the endpoint with ``GET ?challenge=<token>``, unsigned, to be echoed as plain
text with ``X-Content-Type-Options: nosniff``. Echoing a plausible token proves nothing and
commits nothing, so every adapter answers it (:meth:`Dropbox.unsigned_handshake_reply`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typing_extensions import override

from ._body_hmac import BodyHMACPreset
from .base import HandshakeReply, HandshakeRequest, Limits, echo_challenge

__all__ = ["Dropbox"]


class Dropbox(BodyHMACPreset):
    """Dropbox webhooks, signed with the app secret (App Console).

    The verification request (``GET ?challenge=...``) is not signed and is not a delivery:
    :meth:`unsigned_handshake_reply` echoes its challenge, and the adapters send that reply.

    Docs: https://www.dropbox.com/developers/reference/webhooks
    """

    name = "dropbox"
    signature_header = "X-Dropbox-Signature"

    @override
    def unsigned_handshake_reply(
        self, request: HandshakeRequest, keys: Sequence[Any], limits: Limits
    ) -> HandshakeReply | None:
        """Echo the ``challenge`` of a ``GET`` as plain text (``nosniff``); None otherwise.

        The challenge must be sent once and be a plausible token (1 to 512 printable ASCII
        characters, no markup); anything else gets None and is then refused like an unsigned
        delivery.
        """
        if request.method != "GET":
            return None
        return echo_challenge(request.single_query("challenge"))
