"""Lemon Squeezy: ``X-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://docs.lemonsqueezy.com/help/webhooks/signing-requests

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["LemonSqueezy"]


class LemonSqueezy(BodyHMACPreset):
    """Lemon Squeezy webhooks, signed with the webhook's signing secret (its UTF-8 bytes).

    Docs: https://docs.lemonsqueezy.com/help/webhooks/signing-requests
    """

    name = "lemon-squeezy"
    signature_header = "X-Signature"
