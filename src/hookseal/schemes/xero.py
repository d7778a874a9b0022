"""Xero: ``x-xero-signature: <base64>``, HMAC-SHA256 of the raw body.

Docs: https://developer.xero.com/documentation/guides/webhooks/configuring-your-server/

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Xero"]


class Xero(BodyHMACPreset):
    """Xero webhooks, signed with the app's webhooks key (its UTF-8 bytes).

    Xero's "intent to receive" check sends correctly and incorrectly signed deliveries and
    expects 200 and 401 respectively, which a verifier's accept/refuse already produces.

    Docs: https://developer.xero.com/documentation/guides/webhooks/configuring-your-server/
    """

    name = "xero"
    signature_header = "x-xero-signature"
    signature_encoding = "base64"
