"""PagerDuty v3 webhooks: ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`` over the body.

Docs: https://developer.pagerduty.com/docs/verifying-webhook-signatures

PagerDuty signs the raw body alone, with HMAC-SHA256 keyed with the subscription's secret
(shown once when the webhook subscription is created), used as UTF-8 text. While a secret
rotates, the header carries one ``v1=`` signature per secret, separated by commas.

The signature covers no timestamp: a captured delivery stays valid for ever. Replays are
refused only for as long as the nonce store remembers them (``Verifier(replay_retention=...)``,
default one day); ``X-Webhook-Id`` is exposed as :attr:`Verified.msg_id` for the handler's
idempotency, but it is not signed.
"""

from __future__ import annotations

from .generic_hmac import HMACScheme

__all__ = ["PagerDuty"]


class PagerDuty(HMACScheme):
    """PagerDuty v3 webhook subscriptions (``X-PagerDuty-Signature``).

    The secret is the subscription's signing secret, as text. No timestamp is signed, so the
    replay bound is the nonce store's retention.
    """

    name = "pagerduty"

    def __init__(self) -> None:
        super().__init__("X-PagerDuty-Signature", prefix="v1=", id_header="X-Webhook-Id")

    def __repr__(self) -> str:
        return "PagerDuty()"
