"""Intercom: ``X-Hub-Signature: sha1=<hex>``, HMAC-SHA1 of the raw body.

Docs: https://developers.intercom.com/docs/references/webhooks/webhook-models

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Intercom"]


class Intercom(BodyHMACPreset):
    """Intercom webhooks, signed with the app's client secret (Developer Hub, Basic Info).

    Intercom offers HMAC-SHA1 and nothing stronger, so this scheme uses SHA-1 by name; no
    other algorithm is accepted.

    Docs: https://developers.intercom.com/docs/references/webhooks/webhook-models
    """

    name = "intercom"
    signature_header = "X-Hub-Signature"
    signature_prefix = "sha1="
    signature_algorithm = "sha1"
