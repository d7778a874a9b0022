"""Meta (WhatsApp Cloud API, Messenger, Instagram): ``X-Hub-Signature-256: sha256=<hex>``.

Docs: https://developers.facebook.com/docs/graph-api/webhooks/getting-started/
("Validate payloads"); WhatsApp Cloud API, Messenger and Instagram webhooks all use it.

Meta signs the raw body alone with the app secret (App Dashboard, Settings, Basic): no
timestamp and no delivery id, so the replay bound is the nonce store's retention. The endpoint
verification request (``GET ?hub.mode=subscribe&hub.challenge=...&hub.verify_token=...``) is
not signed and carries no body: it is authenticated by the *Verify Token* you typed in the App
Dashboard. Give it as ``Meta(verify_token=...)`` and every adapter answers the request; without
it, nothing is answered and the request is refused like an unsigned delivery.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from typing_extensions import override

from .._errors import ConfigurationError
from .._keys import Secret
from ._body_hmac import BodyHMACPreset
from .base import HandshakeReply, HandshakeRequest, Limits, echo_challenge

__all__ = ["Meta"]

# Meta's dashboard takes a short token; the bound only keeps a typo'd file path out.
_MAX_VERIFY_TOKEN_LENGTH = 256


def _digest(token: bytes) -> bytes:
    # Compared as digests, so the comparison takes the same time whatever the lengths.
    return hashlib.sha256(token).digest()


class Meta(BodyHMACPreset):
    """Meta webhooks (WhatsApp, Messenger, Instagram), signed with the app secret (UTF-8).

    Checks ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``. The legacy
    SHA-1 ``X-Hub-Signature`` is never accepted.

    Args:
        verify_token: the *Verify Token* entered with the callback URL in the App Dashboard.
            With it, the verification request (``GET`` with ``hub.mode=subscribe``, a
            ``hub.verify_token`` equal to it, compared in constant time, and a plausible
            ``hub.challenge``) is answered with the challenge; without it (the default), the
            request is not answered. It is not the app secret: use another random value.
    """

    name = "meta"
    signature_header = "X-Hub-Signature-256"
    signature_prefix = "sha256="

    def __init__(self, *, verify_token: str | None = None) -> None:
        super().__init__()
        if verify_token is None:
            self._verify_token: Secret | None = None
            return
        if (
            not isinstance(verify_token, str)
            or not 0 < len(verify_token) <= _MAX_VERIFY_TOKEN_LENGTH
            or not verify_token.isascii()
            or not verify_token.isprintable()
            or verify_token != verify_token.strip()
        ):
            raise ConfigurationError(
                "verify_token must be the Verify Token typed in Meta's App Dashboard: 1 to "
                f"{_MAX_VERIFY_TOKEN_LENGTH} printable ASCII characters, with no surrounding "
                "spaces."
            )
        self._verify_token = Secret(_digest(verify_token.encode("ascii")))

    @override
    def unsigned_handshake_reply(
        self, request: HandshakeRequest, keys: Sequence[Any], limits: Limits
    ) -> HandshakeReply | None:
        """Answer Meta's verification request, when a ``verify_token`` is configured.

        The request must be a ``GET`` with ``hub.mode=subscribe``, ``hub.verify_token`` equal
        to the configured token (compared in constant time) and a plausible
        ``hub.challenge`` (each parameter sent once); the reply is the challenge as plain
        text. Anything else gets None and is then refused like an unsigned delivery.
        """
        expected = self._verify_token
        if expected is None or request.method != "GET":
            return None
        if request.single_query("hub.mode") != "subscribe":
            return None
        presented = request.single_query("hub.verify_token")
        if presented is None:
            return None
        matches = hmac.compare_digest(
            _digest(presented.encode("utf-8", "surrogatepass")), expected.value
        )
        if not matches:
            return None
        return echo_challenge(request.single_query("hub.challenge"))

    def __repr__(self) -> str:
        if self._verify_token is None:
            return "Meta()"
        return "Meta(verify_token='**********')"
