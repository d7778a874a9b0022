"""Asana: ``X-Hook-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://developers.asana.com/docs/webhooks-guide#security

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Asana"]


class Asana(BodyHMACPreset):
    """Asana webhooks, signed with the ``X-Hook-Secret`` Asana sent in the handshake.

    Asana's handshake (a POST carrying ``X-Hook-Secret``, to be echoed back in the response)
    is how the secret is learned; it is unsigned and is not a delivery, so this scheme does
    not accept it. Configure the secret it carried.

    Docs: https://developers.asana.com/docs/webhooks-guide#security
    """

    name = "asana"
    signature_header = "X-Hook-Signature"
