"""Airtable: ``X-Airtable-Content-MAC: hmac-sha256=<hex>``, keyed with a base64 secret.

Docs: https://airtable.com/developers/web/api/webhooks-overview ("Webhook notification
delivery") and https://airtable.com/developers/web/api/model/webhooks-notification

Airtable's notification is a small ping (base id, webhook id, timestamp) telling the receiver
to fetch the payloads with the API; it is signed over the body alone with the webhook's
``macSecretBase64`` (returned once when the webhook is created), *decoded* from base64. The
body's ``timestamp`` is not checked: replays are bounded by the nonce store's retention, and a
replayed ping only makes the receiver list payloads it would list anyway.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Airtable"]


class Airtable(BodyHMACPreset):
    """Airtable webhook notifications, keyed with the decoded ``macSecretBase64``.

    Configure the ``macSecretBase64`` text exactly as the create-webhook response shows it
    (it is base64-decoded here), or the decoded key as ``bytes``.

    Docs: https://airtable.com/developers/web/api/webhooks-overview
    """

    name = "airtable"
    signature_header = "X-Airtable-Content-MAC"
    signature_prefix = "hmac-sha256="
    key_encoding = "base64"
    key_label = "Airtable macSecretBase64"
