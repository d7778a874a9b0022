"""Razorpay: ``X-Razorpay-Signature: <hex>``, HMAC-SHA256 of the raw body.

Docs: https://razorpay.com/docs/webhooks/validate-test/

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Razorpay"]


class Razorpay(BodyHMACPreset):
    """Razorpay webhooks, signed with the webhook secret set in the Dashboard.

    ``x-razorpay-event-id`` (unsigned) is ``msg_id``, for the handler's idempotency.

    Docs: https://razorpay.com/docs/webhooks/validate-test/
    """

    name = "razorpay"
    signature_header = "X-Razorpay-Signature"
    delivery_id_header = "x-razorpay-event-id"
