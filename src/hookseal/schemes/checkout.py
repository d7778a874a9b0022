"""Checkout.com: ``Cko-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://www.checkout.com/docs/developer-resources/webhooks/manage-webhooks

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["CheckoutCom"]


class CheckoutCom(BodyHMACPreset):
    """Checkout.com webhooks, signed with the webhook's secret key (its UTF-8 bytes).

    Docs: https://www.checkout.com/docs/developer-resources/webhooks/manage-webhooks
    """

    name = "checkout-com"
    signature_header = "Cko-Signature"
