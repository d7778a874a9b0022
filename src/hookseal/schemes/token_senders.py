"""Senders that authenticate with a shared token or HTTP basic credentials, signing nothing.

Telegram (``X-Telegram-Bot-Api-Secret-Token``), Okta event hooks (a header and value you
configure), Flutterwave v3 (``verif-hash``) and every sender that puts credentials in the
webhook URL (Postmark and others: ``Authorization: Basic``). Each is a
:class:`~hookseal.schemes.SharedToken` preset, so everything said there applies: the token
proves only that the sender knows it; the body, the time and the message id are not covered;
a captured token authenticates any body at any time; replays are **not** detected
(:attr:`Verified.replay_key` is empty and the nonce store is not written). Use HTTPS, keep the
token out of logs, and combine it with the sender's published IP ranges where there are some.

Docs:

- Telegram: https://core.telegram.org/bots/api#setwebhook (``secret_token``)
- Okta: https://developer.okta.com/docs/concepts/event-hooks/
- Flutterwave: https://developer.flutterwave.com/docs/webhooks (secret hash, ``verif-hash``)
- Postmark: https://postmarkapp.com/developer/webhooks/webhooks-overview (basic auth in the URL)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from typing_extensions import override

from .._encoding import encode_base64
from .._errors import ConfigurationError, VerificationError
from .._headers import HeaderName, read_header
from .._keys import Secret, secret_bytes
from ._handshakes import json_reply, plausible_token
from .base import HandshakeReply, HandshakeRequest, Limits
from .shared_token import SharedToken

__all__ = ["BasicAuth", "Flutterwave", "OktaEventHook", "Telegram"]

_TELEGRAM_TOKEN = re.compile(rb"[A-Za-z0-9_-]{1,256}")
_OKTA_CHALLENGE = HeaderName("X-Okta-Verification-Challenge")


class Telegram(SharedToken):
    """Telegram Bot API webhooks: the ``secret_token`` given to ``setWebhook``.

    Telegram sends it in ``X-Telegram-Bot-Api-Secret-Token`` on every update. It is 1 to 256
    characters from ``A-Z``, ``a-z``, ``0-9``, ``_`` and ``-`` (Telegram refuses others), so
    anything else is refused at construction. It is not the bot token: never configure that.
    """

    name = "telegram"

    def __init__(self) -> None:
        super().__init__("X-Telegram-Bot-Api-Secret-Token")

    def _checked(self, secret: object) -> bytes:
        token = secret_bytes(secret, "Telegram secret_token")
        if not _TELEGRAM_TOKEN.fullmatch(token):
            raise ConfigurationError(
                "A Telegram secret_token is 1 to 256 characters from A-Z, a-z, 0-9, '_' and "
                "'-'. Use the value passed to setWebhook (not the bot token, which holds ':')."
            )
        return token

    @override
    def load_key(self, secret: object) -> Any:
        """The ``secret_token``, checked against Telegram's alphabet."""
        return super().load_key(self._checked(secret))

    @override
    def load_signing_key(self, secret: object) -> Secret:
        """The ``secret_token`` itself, for a Signer (tests)."""
        return super().load_signing_key(self._checked(secret))

    def __repr__(self) -> str:
        return "Telegram()"


class OktaEventHook(SharedToken):
    """Okta event hooks: the authentication header and secret set on the hook.

    Args:
        header: the *Authentication field* configured on the event hook (default
            ``"Authorization"``).

    The secret is the *Authentication secret* exactly as configured, compared with the whole
    header value. Okta verifies the endpoint once with a GET carrying
    ``X-Okta-Verification-Challenge``, to be answered with ``{"verification": <value>}``:
    :meth:`unsigned_handshake_reply` answers it when the GET carries a configured secret.
    """

    name = "okta"

    def __init__(self, header: str = "Authorization") -> None:
        super().__init__(header)

    @override
    def unsigned_handshake_reply(
        self, request: HandshakeRequest, keys: Sequence[Any], limits: Limits
    ) -> HandshakeReply | None:
        """Answer Okta's one-time verification: ``{"verification": <the challenge>}`` as JSON.

        Only for a ``GET`` whose authentication header holds a configured secret (the same
        constant-time check as a delivery) and whose ``X-Okta-Verification-Challenge`` is sent
        once and is a plausible token; anything else gets None and is then refused (or
        accepted) like a delivery.
        """
        if request.method != "GET":
            return None
        try:
            challenge = read_header(request.headers, _OKTA_CHALLENGE, limits.max_header_bytes)
            if challenge is None:
                return None
            self.check(b"", request.headers, keys, limits, 0.0, None, request.method)
        except VerificationError:
            return None
        token = plausible_token(challenge)
        return None if token is None else json_reply({"verification": token})

    def __repr__(self) -> str:
        return f"OktaEventHook(header={self.header.name!r})"


class Flutterwave(SharedToken):
    """Flutterwave v3 webhooks: the dashboard's *secret hash*, sent in ``verif-hash``.

    The secret is the *Secret hash* set under Settings → Webhooks, as text. Flutterwave's v3
    webhooks carry it as is; they sign nothing.
    """

    name = "flutterwave"

    def __init__(self) -> None:
        super().__init__("verif-hash")

    def __repr__(self) -> str:
        return "Flutterwave()"


class BasicAuth(SharedToken):
    """HTTP basic credentials (RFC 7617) put in the webhook URL: ``https://user:pass@host/...``.

    Postmark and many other senders authenticate this way: the client sends
    ``Authorization: Basic base64(user:password)``. Configure each secret as
    ``"user:password"`` (the user part holds no ``:``); several while rotating. Credentials
    are encoded as UTF-8, as current clients do.
    """

    name = "basic-auth"

    def __init__(self) -> None:
        super().__init__("Authorization", "Basic ")

    @staticmethod
    def _encoded(secret: object) -> str:
        raw = secret_bytes(secret, "user:password credential")
        user, colon, password = raw.partition(b":")
        if not colon or not user or not password:
            raise ConfigurationError(
                "Give basic credentials as 'user:password' (both non-empty; the user part "
                "holds no ':'), exactly as they appear in the webhook URL."
            )
        return encode_base64(raw)

    @override
    def load_key(self, secret: object) -> Any:
        """The credential, kept as a keyed digest of its base64 form."""
        return super().load_key(self._encoded(secret))

    @override
    def load_signing_key(self, secret: object) -> Secret:
        """The base64 credential, for a Signer (tests)."""
        return super().load_signing_key(self._encoded(secret))

    def __repr__(self) -> str:
        return "BasicAuth()"
