"""Segment webhooks destination: ``X-Signature: <hex>``, HMAC-SHA1 of the raw body.

Docs: https://segment.com/docs/connections/destinations/catalog/actions-webhook/

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Segment"]


class Segment(BodyHMACPreset):
    """Segment webhook deliveries, signed with the destination's shared secret.

    Segment signs with HMAC-SHA1 and offers nothing stronger, so this scheme uses SHA-1 by
    name; no other algorithm is accepted.

    Docs: https://segment.com/docs/connections/destinations/catalog/actions-webhook/
    """

    name = "segment"
    signature_header = "X-Signature"
    signature_algorithm = "sha1"
