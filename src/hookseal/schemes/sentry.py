"""Sentry integration platform: ``Sentry-Hook-Signature: <hex>``, HMAC-SHA256 of the body.

Docs: https://docs.sentry.io/integrations/integration-platform/webhooks/

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Sentry"]


class Sentry(BodyHMACPreset):
    """Sentry integration-platform webhooks, signed with the integration's client secret.

    ``Sentry-Hook-Timestamp`` is not covered by the signature, so it is not checked: a
    replayed delivery could carry any time. ``Request-ID`` (unsigned) is ``msg_id``.

    Docs: https://docs.sentry.io/integrations/integration-platform/webhooks/
    """

    name = "sentry"
    signature_header = "Sentry-Hook-Signature"
    delivery_id_header = "Request-ID"
