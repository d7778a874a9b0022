"""Typeform: ``Typeform-Signature: sha256=<base64>``, HMAC-SHA256 of the raw body.

Docs: https://www.typeform.com/developers/webhooks/secure-your-webhooks/

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Typeform"]


class Typeform(BodyHMACPreset):
    """Typeform webhooks, signed with the secret set on the webhook (its UTF-8 bytes).

    Docs: https://www.typeform.com/developers/webhooks/secure-your-webhooks/
    """

    name = "typeform"
    signature_header = "Typeform-Signature"
    signature_prefix = "sha256="
    signature_encoding = "base64"
