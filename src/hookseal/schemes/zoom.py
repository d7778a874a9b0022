"""Zoom: ``x-zm-signature: v0=<hex>``, HMAC-SHA256 over ``v0:<timestamp>:<body>``.

Docs: https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events

Zoom signs the Unix timestamp of ``x-zm-request-timestamp`` together with the raw body, keyed
with the app's *Secret Token* (Marketplace → your app → Features → Access), used as UTF-8 text.
There is no message id header; the replay identity is the MAC of the signed bytes.

Zoom also validates the endpoint URL (``endpoint.url_validation``, on creation and every 72
hours): a signed POST whose JSON body holds ``payload.plainToken``, to be answered with that
token and ``encryptedToken``, the hex HMAC-SHA256 of the token under the same Secret Token.
It is verified like any other request; :meth:`Zoom.handshake_reply` then builds the answer
and every adapter sends it (https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typing_extensions import override

from .._keys import HMACKey
from ._handshakes import json_reply, plausible_token, verified_json_object
from .base import HandshakeReply, Verified
from .generic_hmac import HMACScheme

_VALIDATION = "endpoint.url_validation"

__all__ = ["Zoom"]


class Zoom(HMACScheme):
    """Zoom webhooks (``x-zm-signature`` and ``x-zm-request-timestamp``).

    The secret is the app's *Secret Token*, as text. The timestamp is signed and checked
    against the verifier's window (default 300 s, the 5 minutes Zoom's samples allow).
    """

    name = "zoom"

    def __init__(self) -> None:
        super().__init__(
            "x-zm-signature",
            prefix="v0=",
            timestamp_header="x-zm-request-timestamp",
            template="v0:{timestamp}:{body}",
        )

    @override
    def handshake_reply(self, verified: Verified, keys: Sequence[Any]) -> HandshakeReply | None:
        """Answer a verified ``endpoint.url_validation`` event; None for every other event.

        The reply is ``{"plainToken": <token>, "encryptedToken": <hex HMAC-SHA256 of the
        token>}``, keyed with the Secret Token that verified the request
        (:attr:`Verified.key_index`): during a rotation, the one Zoom is using. A token that
        is not a plausible token (1 to 512 printable ASCII characters, no markup) gets None.
        """
        fields = verified_json_object(verified.body, _VALIDATION.encode("ascii"))
        if fields is None or fields.get("event") != _VALIDATION:
            return None
        payload = fields.get("payload")
        token = plausible_token(payload.get("plainToken")) if isinstance(payload, dict) else None
        index = verified.key_index
        if token is None or not 0 <= index < len(keys) or not isinstance(keys[index], HMACKey):
            return None
        encrypted = keys[index].digest(token.encode("ascii")).hex()
        return json_reply({"plainToken": token, "encryptedToken": encrypted})

    def __repr__(self) -> str:
        return "Zoom()"
