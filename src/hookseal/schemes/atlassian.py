"""Atlassian: Bitbucket Cloud and Jira, ``X-Hub-Signature: sha256=<hex>`` of the body.

Docs: https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/#Secure-webhooks
https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks

The signature covers the body alone: no timestamp, so the replay bound is the nonce store's
retention (``Verifier(replay_retention=...)``), and the replay identity is every configured
key's MAC of the body.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Bitbucket", "Jira"]


class Bitbucket(BodyHMACPreset):
    """Bitbucket Cloud webhooks, signed with the webhook's secret (its UTF-8 bytes).

    ``X-Request-UUID`` (unsigned) is ``msg_id``.

    Docs: https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/#Secure-webhooks
    """

    name = "bitbucket"
    signature_header = "X-Hub-Signature"
    signature_prefix = "sha256="
    delivery_id_header = "X-Request-UUID"


class Jira(BodyHMACPreset):
    """Jira Cloud (and Confluence) admin webhooks with a secret (its UTF-8 bytes).

    ``X-Atlassian-Webhook-Identifier`` (unsigned) is ``msg_id``.

    Docs: https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks
    """

    name = "jira"
    signature_header = "X-Hub-Signature"
    signature_prefix = "sha256="
    delivery_id_header = "X-Atlassian-Webhook-Identifier"
