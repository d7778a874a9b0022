"""GoCardless: ``Webhook-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://developer.gocardless.com/getting-started/staying-up-to-date-with-webhooks

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["GoCardless"]


class GoCardless(BodyHMACPreset):
    """GoCardless webhooks, signed with the webhook endpoint's secret.

    Docs: https://developer.gocardless.com/getting-started/staying-up-to-date-with-webhooks
    """

    name = "gocardless"
    signature_header = "Webhook-Signature"
