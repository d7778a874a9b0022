"""LINE Messaging API: ``x-line-signature: <base64>``, HMAC-SHA256 of the raw body.

Docs: https://developers.line.biz/en/docs/messaging-api/receiving-messages/#verify-signature

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Line"]


class Line(BodyHMACPreset):
    """LINE Messaging API webhooks, signed with the channel secret (its UTF-8 bytes).

    Docs: https://developers.line.biz/en/docs/messaging-api/receiving-messages/#verify-signature
    """

    name = "line"
    signature_header = "x-line-signature"
    signature_encoding = "base64"
