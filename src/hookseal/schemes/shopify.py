"""Shopify: ``X-Shopify-Hmac-Sha256``, base64 HMAC-SHA256 of the raw body.

Docs: https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook

Shopify signs the body alone with the app's client secret (or, for webhooks created in the
store admin, the secret shown there). ``X-Shopify-Webhook-Id`` is exposed as
:attr:`Verified.msg_id` for the handler's idempotency but is not signed, and neither is
``X-Shopify-Triggered-At``, which is therefore ignored: replay decisions use the matched MAC,
remembered for ``Verifier(replay_retention=...)``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from .._delivery import Verified
from .._encoding import decode_base64, encode_base64
from .._headers import HeaderName, read_header
from .._policy import Policy
from ._base import Scheme, check_message_id, match_hmac, require_header

__all__ = ["Shopify"]

_SIGNATURE_HEADER = HeaderName("X-Shopify-Hmac-Sha256")
_ID_HEADER = HeaderName("X-Shopify-Webhook-Id")


class Shopify(Scheme):
    """Shopify webhooks, signed with the app's client secret (its UTF-8 bytes).

    Shopify signs no timestamp, so the replay bound is the nonce store's retention
    (``Verifier(replay_retention=...)``, default one day).
    """

    name = "shopify"
    signs_timestamp = False
    id_header = _ID_HEADER

    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        policy: Policy,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        """Check the base64 HMAC-SHA256 in ``X-Shopify-Hmac-Sha256`` against the body."""
        header = _SIGNATURE_HEADER.name
        value = require_header(headers, _SIGNATURE_HEADER, policy)
        presented = decode_base64(value, header)
        msg_id = read_header(headers, _ID_HEADER, policy.max_header_bytes)
        if msg_id is not None:
            check_message_id(msg_id, _ID_HEADER.name, policy)
        index, macs = match_hmac(keys, [presented], b"", body, header)
        return Verified(
            body,
            timestamp=None,
            msg_id=msg_id,
            key_index=index,
            scheme=self.name,
            replay_material=macs,
        )

    def sign(
        self,
        key: Any,
        body: bytes,
        *,
        timestamp: int,
        msg_id: str,
        url: str | None,
        method: str,
    ) -> dict[str, str]:
        """Return ``X-Shopify-Hmac-Sha256`` and ``X-Shopify-Webhook-Id``."""
        return {
            _SIGNATURE_HEADER.name: encode_base64(key.digest(body)),
            _ID_HEADER.name: msg_id,
        }

    def new_message_id(self) -> str:
        """A random UUID, the form Shopify's webhook ids take."""
        return str(uuid.uuid4())
