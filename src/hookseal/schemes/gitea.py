"""Gitea and Forgejo: ``X-Gitea-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://docs.gitea.com/usage/webhooks

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Gitea"]


class Gitea(BodyHMACPreset):
    """Gitea and Forgejo webhooks, signed with the webhook's secret (its UTF-8 bytes).

    Forgejo sends ``X-Gitea-Signature`` beside its own ``X-Forgejo-Signature`` (same value),
    so one scheme serves both. ``X-Gitea-Delivery`` (unsigned) is ``msg_id``.

    Docs: https://docs.gitea.com/usage/webhooks
    """

    name = "gitea"
    signature_header = "X-Gitea-Signature"
    delivery_id_header = "X-Gitea-Delivery"
