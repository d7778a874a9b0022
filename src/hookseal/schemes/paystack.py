"""Paystack: ``x-paystack-signature: <hex>``, HMAC-SHA512 of the raw body.

Docs: https://paystack.com/docs/payments/webhooks/#verify-event-origin

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Paystack"]


class Paystack(BodyHMACPreset):
    """Paystack webhooks, signed with the account's secret key (``sk_live_...``/``sk_test_...``).

    Docs: https://paystack.com/docs/payments/webhooks/#verify-event-origin
    """

    name = "paystack"
    signature_header = "x-paystack-signature"
    signature_algorithm = "sha512"
