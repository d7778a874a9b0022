"""Vercel: ``x-vercel-signature: <hex>``, HMAC-SHA1 of the raw body.

Docs: https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Vercel"]


class Vercel(BodyHMACPreset):
    """Vercel webhooks, signed with the webhook's secret (or an integration's client secret).

    Vercel signs with HMAC-SHA1 and offers nothing stronger, so this scheme uses SHA-1 by
    name; no other algorithm is accepted.

    Docs: https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks
    """

    name = "vercel"
    signature_header = "x-vercel-signature"
    signature_algorithm = "sha1"
