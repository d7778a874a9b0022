"""Intuit QuickBooks Online: ``intuit-signature: <base64>``, HMAC-SHA256 of the raw body.

Docs: https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/managing-webhooks-notifications

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["QuickBooks"]


class QuickBooks(BodyHMACPreset):
    """Intuit QuickBooks Online webhooks, signed with the app's webhook verifier token.

    Docs: https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/managing-webhooks-notifications
    """

    name = "quickbooks"
    signature_header = "intuit-signature"
    signature_encoding = "base64"
