"""Coinbase Commerce: ``X-CC-Webhook-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://docs.cdp.coinbase.com/commerce-onchain/docs/webhooks-security

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["CoinbaseCommerce"]


class CoinbaseCommerce(BodyHMACPreset):
    """Coinbase Commerce webhooks, signed with the endpoint's shared secret (Settings).

    Docs: https://docs.cdp.coinbase.com/commerce-onchain/docs/webhooks-security
    """

    name = "coinbase-commerce"
    signature_header = "X-CC-Webhook-Signature"
