"""Google Cloud Pub/Sub push subscriptions with authentication (an OIDC token per push).

Docs: https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions

A push subscription with authentication sends ``Authorization: Bearer <JWT>``: a Google-signed
OIDC token (RS256) whose ``aud`` is the audience configured on the subscription, ``iss`` is
``accounts.google.com`` or ``https://accounts.google.com``, and ``email`` is the service
account the subscription pushes as. The token's keys are Google's published keys
(https://www.googleapis.com/oauth2/v3/certs), downloaded and cached by
:class:`~hookseal.published_keys.PublishedKeys`; the token itself is checked by PyJWT
(``pip install hookseal[gcp]``) with the algorithm pinned to RS256.

The token does **not** cover the body: it proves that Google sent a request to this audience
within the token's lifetime, not what the request carried. The replay identity is the
(unsigned) ``message.messageId`` of the push envelope, scoped by the matched audience.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._errors import (
    ConfigurationError,
    MalformedHeader,
    SignatureMismatch,
    VerificationError,
)
from ..published_keys import (
    PublishedKeys,
    URLRule,
)
from ._oidc import (
    COMPACT_JWT,
    KEY_ID,
    check_token_times,
    require_jwt,
    rs256_claims,
    rs256_key_id,
)
from ._published_secrets import (
    accepted_names,
    check_keys_url,
    fetch_published,
    published_keys_or_shared,
)
from .aws_sns import parse_message
from .base import HeaderName, Limits, Scheme, Verified, check_message_id, require_header

__all__ = ["GOOGLE_CERTS_URL", "GooglePubSub", "PubSubSigningKey", "push_body"]

_NAME = "gcp-pubsub"
#: Google's published OIDC signing keys (a JWK set).
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_CERTS_RULE = URLRule(
    "Google OIDC key set",
    host=re.compile(r"www\.googleapis\.com", re.ASCII),
    path=re.compile(r"/oauth2/v3/certs", re.ASCII),
)
ISSUERS = ("accounts.google.com", "https://accounts.google.com")
_AUTHORIZATION = HeaderName("Authorization")
_MAX_KEYS = 32
_MIN_RSA_BITS = 2048
_NOT_AN_ENVELOPE = (
    "The body is not a Pub/Sub push envelope: a JSON object without duplicate members."
)


def _jwt() -> Any:
    return require_jwt(
        "GooglePubSub needs PyJWT with its crypto extra: pip install 'hookseal[gcp]'."
    )


def load_jwks(raw: bytes) -> dict[str, Any]:
    """Google's JWK set as ``{kid: RSA public key}``; ``ValueError`` when none is usable.

    Only RSA signing keys for RS256 of 2048 bits or more are kept; at most 32 keys are read.
    """
    from jwt.algorithms import RSAAlgorithm

    document = json.loads(raw)
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError("not a JWK set")
    keys: dict[str, Any] = {}
    for entry in entries[:_MAX_KEYS]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or KEY_ID.fullmatch(kid) is None:
            continue
        if entry.get("alg", "RS256") != "RS256" or entry.get("use", "sig") != "sig":
            continue
        try:
            key = RSAAlgorithm.from_jwk(entry)
        except Exception:  # noqa: S112 - PyJWT raises several types for a bad JWK; skip it
            continue
        if getattr(key, "key_size", 0) >= _MIN_RSA_BITS and hasattr(key, "verify"):
            keys[kid] = key
    if not keys:
        raise ValueError("no usable RS256 key in the JWK set")
    return keys


class PubSubSigningKey:
    """What a :class:`~hookseal.Signer` signs Pub/Sub pushes with (tests and local tools only).

    Args:
        private_key: a ``cryptography`` RSA private key (2048 bits or more).
        key_id: the ``kid`` its public key has in the test key set.
        audience: the ``aud`` to put in tokens.
        email: the service account to put in tokens (None: no ``email`` claim).
        issuer: the ``iss`` (default ``https://accounts.google.com``).
        lifetime: seconds from ``iat`` to ``exp`` (default 3600, as Google).
    """

    __slots__ = ("audience", "email", "issuer", "key_id", "lifetime", "private_key")

    def __init__(
        self,
        private_key: Any,
        key_id: str,
        audience: str,
        *,
        email: str | None = None,
        issuer: str = "https://accounts.google.com",
        lifetime: int = 3600,
    ) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ConfigurationError("PubSubSigningKey needs a cryptography RSAPrivateKey.")
        self.private_key = private_key
        self.key_id = key_id
        self.audience = audience
        self.email = email
        self.issuer = issuer
        self.lifetime = lifetime

    def __repr__(self) -> str:
        return f"PubSubSigningKey('**********', key_id={self.key_id!r})"


def push_body(
    msg_id: str,
    data: bytes = b"",
    *,
    subscription: str = "projects/example/subscriptions/example",
    attributes: Mapping[str, str] | None = None,
    publish_time: str = "2021-02-26T19:13:55.749Z",
) -> bytes:
    """A push request body (the wrapped envelope Pub/Sub posts), for tests and local tools."""
    import base64

    envelope = {
        "message": {
            "attributes": dict(attributes or {}),
            "data": base64.b64encode(data).decode("ascii"),
            "messageId": msg_id,
            "message_id": msg_id,
            "publishTime": publish_time,
            "publish_time": publish_time,
        },
        "subscription": subscription,
    }
    return json.dumps(envelope).encode("utf-8")


def _plausible_audience(audience: object) -> bool:
    """Whether ``audience`` can be a push subscription's Audience: printable ASCII, trimmed."""
    return (
        isinstance(audience, str)
        and bool(audience)
        and audience.isascii()
        and audience.isprintable()
        and audience == audience.strip()
        and len(audience) <= 2048
    )


class GooglePubSub(Scheme):
    """Google Cloud Pub/Sub push subscriptions with authentication enabled.

    The verifier's ``secrets`` are the audiences this endpoint accepts (the *Audience* set on
    the push subscription; by default Google uses the push endpoint URL). Tokens for any other
    audience, including tokens Google issued for someone else's service, are refused.

    Args:
        service_account: the service account email the subscription pushes as. Strongly
            recommended: without it, a token Google issued to *any* service account for this
            audience is accepted. With it, ``email`` must match and ``email_verified`` be true.
        leeway: seconds of clock skew allowed on ``exp`` and ``iat`` (default 60).
        max_token_lifetime: the longest ``exp - iat`` accepted (default 3600, Google's).
        published_keys: where Google's keys come from (default: the process-wide
            :func:`~hookseal.published_keys.shared_published_keys`).
        certs_url: Google's key set URL. Only tests change it, to a URL on one of
            ``published_keys.allow_hosts``.
        replay_scope: a name for this endpoint, mixed into the replay identity, for two
            endpoints sharing one nonce store and one audience.

    Raises:
        ConfigurationError: for any invalid option, or when PyJWT is not installed.
    """

    name = _NAME
    signs_timestamp = False
    id_header = None
    #: Pub/Sub messages are at most 10 MB; base64 in the JSON envelope adds a third.
    default_max_body_bytes = 14 * 1024 * 1024

    def __init__(
        self,
        *,
        service_account: str | None = None,
        leeway: int = 60,
        max_token_lifetime: int = 3600,
        published_keys: PublishedKeys | None = None,
        certs_url: str = GOOGLE_CERTS_URL,
        replay_scope: str = "",
    ) -> None:
        _jwt()
        if service_account is not None and (
            not isinstance(service_account, str)
            or "@" not in service_account
            or service_account != service_account.strip()
        ):
            raise ConfigurationError(
                "service_account must be the service account's email, such as "
                "'push@my-project.iam.gserviceaccount.com'."
            )
        for name, value, top in (
            ("leeway", leeway, 600),
            ("max_token_lifetime", max_token_lifetime, 86400),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise ConfigurationError(f"{name} must be whole seconds from 0 to {top}.")
        keys = published_keys_or_shared(published_keys)
        check_keys_url(keys, "certs_url", certs_url, GOOGLE_CERTS_URL, GOOGLE_CERTS_RULE, "Google")
        if not isinstance(replay_scope, str) or "\n" in replay_scope:
            raise ConfigurationError("replay_scope must be text without newlines.")
        self.service_account = service_account
        self.leeway = leeway
        self.max_token_lifetime = max_token_lifetime
        self.published_keys = keys
        self.certs_url = certs_url
        self.replay_scope = replay_scope

    @override
    def load_keys(self, secrets: object) -> Sequence[Any]:
        """The audiences this endpoint accepts (one or a list)."""
        return accepted_names(
            secrets,
            _plausible_audience,
            not_a_list=(
                "GooglePubSub takes the accepted audiences as secrets, e.g. "
                "['https://example.com/pubsub/push']."
            ),
            empty="Give at least one audience to accept.",
            invalid=(
                "Each audience must be the printable text set as the push subscription's "
                "Audience (by default the push endpoint's URL)."
            ),
        )

    @override
    def load_key(self, secret: object) -> Any:
        """One audience (see :meth:`load_keys`)."""
        return self.load_keys([secret])[0]

    @override
    def load_signing_key(self, secret: object) -> PubSubSigningKey:
        """A :class:`PubSubSigningKey`."""
        if not isinstance(secret, PubSubSigningKey):
            raise ConfigurationError(
                "Signing Pub/Sub pushes takes a PubSubSigningKey(private_key, key_id, audience)."
            )
        return secret

    # -- checking ------------------------------------------------------------------------

    def _cheap_checks(
        self, body: bytes, headers: Mapping[str, str], limits: Limits
    ) -> tuple[str, str, str]:
        """Every check before Google's keys: (token, kid, messageId)."""
        value = require_header(headers, _AUTHORIZATION, limits, "OIDC bearer token")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or COMPACT_JWT.fullmatch(token) is None:
            raise MalformedHeader(
                "The 'Authorization' header must be 'Bearer <JWT>'. Check that the push "
                "subscription has authentication enabled.",
                header=_AUTHORIZATION.name,
            )
        kid = rs256_key_id(
            token,
            malformed=lambda: MalformedHeader(
                "The bearer token is not a well-formed JWT.", header=_AUTHORIZATION.name
            ),
            wrong_algorithm=lambda: SignatureMismatch(
                "The bearer token is not signed with RS256, the only algorithm Google uses "
                "for these tokens.",
                reason="algorithm_mismatch",
                header=_AUTHORIZATION.name,
            ),
            no_key_id=lambda: MalformedHeader(
                "The bearer token has no usable key id (kid).", header=_AUTHORIZATION.name
            ),
        )
        envelope = parse_message(body, _NOT_AN_ENVELOPE)
        message = envelope.get("message")
        msg_id = message.get("messageId") if isinstance(message, dict) else None
        if not isinstance(msg_id, str) or not msg_id:
            raise MalformedHeader(
                "The body is not a Pub/Sub push envelope with message.messageId (hookseal "
                "needs the wrapped format, not 'no wrapper' / payload unwrapping).",
                reason="malformed_body",
                header="messageId",
            )
        check_message_id(msg_id, "messageId", limits, "\n")
        return token, kid, msg_id

    @override
    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        """Check the bearer token (signature, issuer, audience, times, sender) and the body."""
        token, kid, msg_id = self._cheap_checks(body, headers, limits)
        key_set = self._key_set(kid)
        key = key_set.get(kid)
        if key is None:
            raise SignatureMismatch(
                "The bearer token names a key id Google does not publish (now or after a "
                "refresh): it was not issued by Google.",
                reason="unknown_key_id",
                header=_AUTHORIZATION.name,
            )
        claims = self._decode(token, key)
        audience = claims.get("aud")
        if not isinstance(audience, str) or audience not in keys:
            raise SignatureMismatch(
                "The bearer token was issued for another audience. Set the push "
                "subscription's Audience to one this verifier accepts (its secrets).",
                reason="wrong_audience",
                header=_AUTHORIZATION.name,
            )
        if claims.get("iss") not in ISSUERS:
            raise SignatureMismatch(
                "The bearer token was not issued by accounts.google.com.",
                reason="wrong_issuer",
                header=_AUTHORIZATION.name,
            )
        self._check_times(claims, now)
        if self.service_account is not None and (
            claims.get("email") != self.service_account or claims.get("email_verified") is not True
        ):
            raise SignatureMismatch(
                "The bearer token was issued to another service account than the configured "
                "service_account (or its email is not verified).",
                reason="wrong_sender",
                header=_AUTHORIZATION.name,
            )
        material = "\n".join((self.replay_scope, audience, msg_id))
        return Verified(
            body,
            timestamp=None,
            msg_id=msg_id,
            key_index=list(keys).index(audience),
            key_id=kid,
            scheme=_NAME,
            replay_material=[material.encode("utf-8", "surrogatepass")],
        )

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        """The token's claims once PyJWT verified its RS256 signature with ``key``."""
        return rs256_claims(
            token,
            key,
            malformed=lambda: MalformedHeader(
                "The bearer token is not a well-formed JWT.", header=_AUTHORIZATION.name
            ),
            mismatch=lambda: SignatureMismatch(
                "The bearer token's signature does not verify with Google's key.",
                header=_AUTHORIZATION.name,
            ),
        )

    def _check_times(self, claims: Mapping[str, Any], now: float) -> None:
        check_token_times(
            claims,
            now,
            leeway=self.leeway,
            max_lifetime=self.max_token_lifetime,
            what="The bearer token",
            header=_AUTHORIZATION.name,
        )

    def _key_set(self, kid: str) -> dict[str, Any]:
        return fetch_published(
            self.published_keys,
            self.certs_url,
            GOOGLE_CERTS_RULE,
            load_jwks,
            accept=lambda key_set: kid in key_set,
        )

    @override
    async def aprepare(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
    ) -> None:
        """Download Google's keys off the event loop, so :meth:`check` finds them cached.

        Runs the cheap checks first; a delivery they refuse downloads nothing. Never raises a
        rejection itself (``check`` refuses with the precise error).
        """
        try:
            kid = self._cheap_checks(body, headers, limits)[1]
            await self.published_keys.aget(
                self.certs_url, GOOGLE_CERTS_RULE, load_jwks, accept=lambda found: kid in found
            )
        except VerificationError:
            return

    # -- signing (tests) -----------------------------------------------------------------

    @override
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
        """``Authorization: Bearer <RS256 JWT>`` as Pub/Sub sends it (the body is not signed).

        Build the body with :func:`push_body`; ``msg_id`` is ignored (the id is in the body).
        """
        claims: dict[str, Any] = {
            "aud": key.audience,
            "iss": key.issuer,
            "iat": timestamp,
            "exp": timestamp + key.lifetime,
            "sub": "1234567890",
        }
        if key.email is not None:
            claims["email"] = key.email
            claims["email_verified"] = True
        token = _jwt().encode(
            claims, key.private_key, algorithm="RS256", headers={"kid": key.key_id}
        )
        return {"Authorization": f"Bearer {token}"}

    def __repr__(self) -> str:
        return (
            f"GooglePubSub(service_account={self.service_account!r}, leeway={self.leeway}, "
            f"max_token_lifetime={self.max_token_lifetime})"
        )
