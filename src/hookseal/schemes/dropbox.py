"""Dropbox: ``X-Dropbox-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://www.dropbox.com/developers/reference/webhooks

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Dropbox"]


class Dropbox(BodyHMACPreset):
    """Dropbox webhooks, signed with the app secret (App Console).

    The verification request (``GET ?challenge=...``, echoed back) is not signed and is not
    a delivery; this scheme does not check it.

    Docs: https://www.dropbox.com/developers/reference/webhooks
    """

    name = "dropbox"
    signature_header = "X-Dropbox-Signature"
