"""Meta (WhatsApp Cloud API, Messenger, Instagram): ``X-Hub-Signature-256: sha256=<hex>``.

Docs: https://developers.facebook.com/docs/graph-api/webhooks/getting-started/
("Validate payloads"); WhatsApp Cloud API, Messenger and Instagram webhooks all use it.

Meta signs the raw body alone with the app secret (App Dashboard, Settings, Basic): no
timestamp and no delivery id, so the replay bound is the nonce store's retention. The endpoint
verification request (``GET ?hub.mode=subscribe&hub.challenge=...&hub.verify_token=...``) is
not signed and carries no body; it is not a delivery and this scheme does not check it.
"""

from __future__ import annotations

from ._body_hmac import BodyHMACPreset

__all__ = ["Meta"]


class Meta(BodyHMACPreset):
    """Meta webhooks (WhatsApp, Messenger, Instagram), signed with the app secret (UTF-8).

    Checks ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``. The legacy
    SHA-1 ``X-Hub-Signature`` is never accepted.
    """

    name = "meta"
    signature_header = "X-Hub-Signature-256"
    signature_prefix = "sha256="
