"""Microsoft Graph change notifications: ``clientState`` per notification, validation tokens.

Docs: https://learn.microsoft.com/graph/change-notifications-delivery-webhooks (the
``validationToken`` handshake, ``clientState``) and
https://learn.microsoft.com/graph/change-notifications-with-resource-data#validating-the-authenticity-of-notifications
(the ``validationTokens`` of rich notifications).

Graph signs nothing in a basic notification: each item of the body's ``value`` array carries
the ``clientState`` given when the subscription was created, a shared secret (at most 128
characters) compared here in constant time with the configured ones. Anyone who has seen one
delivery knows it, so it authenticates like a shared token: no body integrity, no freshness.

Notifications with resource data ("rich") also carry ``validationTokens``: JWTs signed by the
Microsoft identity platform (RS256, keys published at
https://login.microsoftonline.com/common/discovery/keys), one per app and tenant, with ``aud``
the subscribing app's id and ``appid`` (v1 tokens) or ``azp`` (v2) the Microsoft Graph change
tracking app, ``0bf30f3b-4a52-48df-9a82-234910c4a086``. They prove that Graph sent a request
to this app within the token's lifetime (hours), **not** what the request carried: the
resource data itself is protected by its own encryption and ``dataSignature``, which the
handler checks when it decrypts ``encryptedContent`` with the app's private key.

When a subscription is created or renewed, Graph first POSTs ``?validationToken=<text>`` with
no notification and expects the text back as ``text/plain`` within 10 seconds:
:meth:`MicrosoftGraph.unsigned_handshake_reply` (and :func:`validation_reply`) answer it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    Reason,
    SignatureMismatch,
    VerificationError,
)
from .._keys import secret_bytes
from ..published_keys import PublishedKeys, URLRule
from ._oidc import COMPACT_JWT, check_token_times, require_jwt, rs256_claims, rs256_key_id
from ._published_secrets import (
    accepted_names,
    check_keys_url,
    fetch_published,
    published_keys_or_shared,
)
from ._sent_secrets import SentSecret, SentSecrets
from .aws_sns import parse_message
from .base import (
    HandshakeReply,
    HandshakeRequest,
    Limits,
    Scheme,
    Verified,
    check_message_id,
    echo_challenge,
)

__all__ = [
    "GRAPH_CHANGE_TRACKING_APP_ID",
    "MICROSOFT_KEYS_URL",
    "MicrosoftGraph",
    "notification_body",
    "validation_reply",
]

_NAME = "microsoft-graph"
#: The app id Microsoft Graph's change notification publisher signs validation tokens as.
GRAPH_CHANGE_TRACKING_APP_ID = "0bf30f3b-4a52-48df-9a82-234910c4a086"
#: The Microsoft identity platform's published signing keys (a JWK set; v1 and v2 tokens).
MICROSOFT_KEYS_URL = "https://login.microsoftonline.com/common/discovery/keys"
MICROSOFT_KEYS_RULE = URLRule(
    "Microsoft identity platform key set",
    host=re.compile(r"login\.microsoftonline\.com", re.ASCII),
    path=re.compile(r"/common/discovery(?:/v2\.0)?/keys", re.ASCII),
)
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
#: Graph's documented maximum length of ``clientState``.
MAX_CLIENT_STATE = 128
_MAX_DEPTH = 32
_VALUE = "value"
_TOKENS = "validationTokens"
_NOT_A_COLLECTION = (
    "The body is not a Microsoft Graph change notification collection: a JSON object without "
    "duplicate members. Check that this endpoint is a subscription's notificationUrl."
)


def _jwt() -> Any:
    return require_jwt(
        "Checking Microsoft Graph validation tokens (app_ids=...) needs PyJWT with its "
        "crypto extra: pip install 'hookseal[gcp]'."
    )


def _load_jwks(raw: bytes) -> dict[str, Any]:
    from .gcp_pubsub import load_jwks

    return load_jwks(raw)


def _check_notification(item: object, limits: Limits) -> None:
    """One notification's shape: ids bounded and printable, a clientState of bounded text."""
    if not isinstance(item, dict):
        raise _malformed("has an entry in 'value' that is not an object")
    subscription = item.get("subscriptionId")
    if not isinstance(subscription, str) or not subscription:
        raise _malformed("has a notification without a subscriptionId")
    check_message_id(subscription, "subscriptionId", limits, "\n")
    notification_id = item.get("id")
    if notification_id is not None:
        if not isinstance(notification_id, str) or not notification_id:
            raise _malformed("has a notification whose id is not text")
        check_message_id(notification_id, "id", limits, "\n")
    state = item.get("clientState")
    if state is None or state == "":
        raise MissingHeader(
            "A notification carries no clientState. Create the subscription with a "
            "clientState and configure it as this verifier's secret.",
            header="clientState",
        )
    if not isinstance(state, str) or len(state) > MAX_CLIENT_STATE:
        raise _malformed(
            f"has a clientState that is not text of at most {MAX_CLIENT_STATE} characters",
            reason="malformed_header",
            field="clientState",
        )


def _check_tokens(tokens: object, limits: Limits) -> None:
    """The validation tokens: a bounded, non-empty array of compact JWTs of bounded length."""
    if not isinstance(tokens, list) or not tokens:
        raise _malformed("has a validationTokens member that is not a non-empty array")
    limits.check_signatures(len(tokens), _TOKENS)
    for token in tokens:
        if (
            not isinstance(token, str)
            or len(token) > limits.max_header_bytes
            or COMPACT_JWT.fullmatch(token) is None
        ):
            raise _malformed(
                "has a validation token that is not a compact JWT of at most "
                "max_header_bytes characters",
                reason="malformed_header",
                field=_TOKENS,
            )


def _malformed(
    problem: str, reason: Reason = "malformed_body", field: str = _VALUE
) -> MalformedHeader:
    return MalformedHeader(
        f"The notification collection {problem}. Check that this endpoint is a Microsoft "
        "Graph subscription's notificationUrl.",
        reason=reason,
        header=field,
    )


def _too_deep(document: object, limit: int) -> bool:
    """Whether ``document`` nests containers more than ``limit`` deep (iterative, linear)."""
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def validation_reply(method: str, query: Mapping[str, Sequence[str]]) -> HandshakeReply | None:
    """The reply to Graph's subscription validation request, or None for any other request.

    Graph POSTs to the notification URL with ``validationToken`` in the query (URL-encoded)
    and expects the decoded token back, ``200``, ``text/plain``, within 10 seconds. The reply
    is given only for a ``POST`` carrying exactly one ``validationToken`` that is 1 to 512
    printable ASCII characters without markup: it echoes text and commits nothing.

    Args:
        method: the HTTP method.
        query: the parsed query string (each name to its values, as ``parse_qs`` returns).
    """
    if method.upper() != "POST":
        return None
    values = query.get("validationToken")
    if values is None or len(values) != 1:
        return None
    return echo_challenge(values[0])


def notification_body(
    client_state: str,
    *,
    subscription_id: str = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
    notification_id: str | None = None,
    tenant_id: str = "84bd8158-6d4d-4958-8b9f-9d6445542f95",
    resource: str = "Users/ccc7b2c3-6b31-4d8d-b9b0-7a2d4a3b9b0a/Messages/AAMkAGUwNjQ4ZjIxAAA=",
    change_type: str = "created",
    validation_tokens: Sequence[str] | None = None,
) -> bytes:
    """A notification collection with one notification, as Graph posts it (tests and tools).

    The shape follows Graph's documented example of a basic notification.
    """
    item: dict[str, Any] = {
        "subscriptionId": subscription_id,
        "subscriptionExpirationDateTime": "2026-12-31T18:23:45.9356913+00:00",
        "changeType": change_type,
        "resource": resource,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": resource,
            "@odata.etag": 'W/"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf"',
            "id": resource.rsplit("/", 1)[-1],
        },
        "clientState": client_state,
        "tenantId": tenant_id,
    }
    if notification_id is not None:
        item["id"] = notification_id
    collection: dict[str, Any] = {_VALUE: [item]}
    if validation_tokens is not None:
        collection[_TOKENS] = list(validation_tokens)
    return json.dumps(collection).encode("utf-8")


class MicrosoftGraph(Scheme):
    """Microsoft Graph change notifications (webhook delivery).

    The verifier's ``secrets`` are the ``clientState`` values given when the subscriptions
    were created (list two while renewing subscriptions with a new one). Every notification of
    the collection must carry one of them.

    Args:
        app_ids: the ids (GUIDs) of the apps that created the subscriptions. Give them for
            subscriptions with resource data: every delivery must then carry
            ``validationTokens``, each a JWT signed by the Microsoft identity platform for one
            of these apps, issued by the change tracking app, and the tokens' tenants must
            cover every notification's ``tenantId``. Without ``app_ids`` the tokens are not
            read (``clientState`` alone authenticates, as for basic notifications). Needs
            PyJWT (``pip install 'hookseal[gcp]'``).
        tenant_ids: when given, the only tenants (GUIDs) whose tokens are accepted.
        max_notifications: the most notifications accepted in one collection (default 1000).
        leeway: seconds of clock skew allowed on the tokens' ``exp``, ``nbf`` and ``iat``
            (default 300).
        max_token_lifetime: the longest ``exp - iat`` accepted (default 86400).
        dedupe_identical: without it (the default), a notification is recorded in the nonce
            store only when it carries Graph's optional ``id``; with it, a notification
            without ``id`` is recorded under a digest of its content, so a byte-identical
            notification within the retention is refused, including a genuine one for a
            second identical change (the same ``changeType`` on the same resource).
        published_keys: where Microsoft's keys come from (default: the process-wide
            :func:`~hookseal.published_keys.shared_published_keys`).
        keys_url: Microsoft's key set URL. Only tests change it, to a URL on one of
            ``published_keys.allow_hosts``.

    Raises:
        ConfigurationError: for any invalid option, or ``app_ids`` without PyJWT.
    """

    name = _NAME
    signs_timestamp = False
    id_header = None
    #: A delivery carries the secret itself (``clientState`` in the body).
    sends_secret = True

    def __init__(
        self,
        *,
        app_ids: Sequence[str] | None = None,
        tenant_ids: Sequence[str] | None = None,
        max_notifications: int = 1000,
        leeway: int = 300,
        max_token_lifetime: int = 86400,
        dedupe_identical: bool = False,
        published_keys: PublishedKeys | None = None,
        keys_url: str = MICROSOFT_KEYS_URL,
    ) -> None:
        self.app_ids = self._guids("app_ids", app_ids)
        self.tenant_ids = self._guids("tenant_ids", tenant_ids)
        if self.tenant_ids is not None and self.app_ids is None:
            raise ConfigurationError(
                "tenant_ids restricts validation tokens: give app_ids too (tokens are only "
                "checked when app_ids is set)."
            )
        if self.app_ids is not None:
            _jwt()
        for name, value, top in (
            ("max_notifications", max_notifications, 100_000),
            ("leeway", leeway, 3600),
            ("max_token_lifetime", max_token_lifetime, 7 * 86400),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise ConfigurationError(f"{name} must be a whole number from 0 to {top}.")
        if max_notifications < 1:
            raise ConfigurationError("max_notifications must be at least 1.")
        if not isinstance(dedupe_identical, bool):
            raise ConfigurationError("dedupe_identical must be True or False.")
        keys = published_keys_or_shared(published_keys)
        check_keys_url(
            keys, "keys_url", keys_url, MICROSOFT_KEYS_URL, MICROSOFT_KEYS_RULE, "Microsoft"
        )
        self.max_notifications = max_notifications
        self.leeway = leeway
        self.max_token_lifetime = max_token_lifetime
        self.dedupe_identical = dedupe_identical
        self.published_keys = keys
        self.keys_url = keys_url
        # Configured and presented clientState values are compared as keyed digests.
        self._sent = SentSecrets()

    @staticmethod
    def _guids(name: str, values: Sequence[str] | None) -> frozenset[str] | None:
        if values is None:
            return None
        problem = (
            f"{name} must be one or more GUIDs such as "
            "'8e460676-ae3f-4b1e-8790-ee0fb5d6148f' (the app registration's Application "
            "(client) ID, or the Directory (tenant) ID)."
        )
        items = accepted_names(
            values,
            lambda v: isinstance(v, str) and _GUID.fullmatch(v.lower()) is not None,
            not_a_list=problem,
            empty=problem,
            invalid=problem,
        )
        return frozenset(value.lower() for value in items)

    # -- keys ----------------------------------------------------------------------------

    def load_key(self, secret: object) -> SentSecret:
        """One configured clientState, kept as a keyed digest."""
        value = secret_bytes(secret, "clientState")
        if len(value) > MAX_CLIENT_STATE or not all(0x20 < byte < 0x7F for byte in value):
            raise ConfigurationError(
                f"A clientState is 1 to {MAX_CLIENT_STATE} printable ASCII characters without "
                "spaces (Graph's limit): give the value set on the subscription."
            )
        return self._sent.configured(value)

    def load_signing_key(self, secret: object) -> Any:
        """The clientState itself (a :class:`~hookseal.Signer` puts nothing in headers)."""
        return secret_bytes(secret, "clientState")

    # -- handshake -----------------------------------------------------------------------

    def unsigned_handshake_reply(
        self, request: HandshakeRequest, keys: Sequence[Any], limits: Limits
    ) -> HandshakeReply | None:
        """Echo Graph's ``validationToken`` (see :func:`validation_reply`)."""
        return validation_reply(request.method, request.query)

    # -- checking ------------------------------------------------------------------------

    def _read(self, body: bytes, limits: Limits) -> tuple[list[dict[str, Any]], list[str] | None]:
        """The notifications and (when app_ids is set) the validation tokens, shape-checked."""
        document = parse_message(body, _NOT_A_COLLECTION)
        if _too_deep(document, _MAX_DEPTH):
            raise _malformed(f"nests more than {_MAX_DEPTH} levels deep")
        items = document.get(_VALUE)
        if not isinstance(items, list) or not items:
            raise _malformed("has no non-empty 'value' array")
        if len(items) > self.max_notifications:
            raise _malformed(
                f"holds more than {self.max_notifications} notifications (max_notifications)",
                reason="too_many_signatures",
            )
        for item in items:
            _check_notification(item, limits)
        if self.app_ids is None:
            return items, None
        tokens = document.get(_TOKENS)
        if tokens is None:
            raise MissingHeader(
                "The collection carries no validationTokens, which app_ids requires. Create "
                "the subscription with includeResourceData, or drop app_ids for basic "
                "notifications.",
                header=_TOKENS,
            )
        _check_tokens(tokens, limits)
        return items, tokens

    def _kid(self, token: str) -> str:
        """The token's key id, after checking its header names RS256 (before any key)."""
        return rs256_key_id(
            token,
            malformed=lambda: _malformed(
                "has a validation token that is not a JWT", "malformed_header", _TOKENS
            ),
            wrong_algorithm=lambda: SignatureMismatch(
                "A validation token is not signed with RS256, the only algorithm the "
                "Microsoft identity platform uses for them.",
                reason="algorithm_mismatch",
                header=_TOKENS,
            ),
            no_key_id=lambda: _malformed(
                "has a validation token without a usable key id", "malformed_header", _TOKENS
            ),
        )

    def _cheap_checks(
        self, body: bytes, keys: Sequence[Any], limits: Limits
    ) -> tuple[list[dict[str, Any]], int, list[tuple[str, str]]]:
        """Everything before Microsoft's keys: (notifications, key index, (token, kid) pairs)."""
        items, tokens = self._read(body, limits)
        index = self._match_client_states(items, keys)
        pairs = [(token, self._kid(token)) for token in tokens or ()]
        return items, index, pairs

    def _match_client_states(self, items: list[dict[str, Any]], keys: Sequence[Any]) -> int:
        """The newest configured key every notification matched (all compared, no early exit)."""
        matched = len(keys) - 1
        refused = False
        for item in items:
            index = self._sent.match(keys, item["clientState"].encode("utf-8", "surrogatepass"))
            if index < 0:
                refused = True
            else:
                matched = min(matched, index)
        if refused:
            raise SignatureMismatch(
                "A notification's clientState matches none of the configured secrets. Check "
                "that the secrets are the clientState values of this endpoint's subscriptions.",
                header="clientState",
            )
        return matched

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
        """Check the collection's shape, every clientState, then every validation token."""
        items, index, pairs = self._cheap_checks(body, keys, limits)
        if pairs:
            tenants = {self._check_token(token, kid, now) for token, kid in pairs}
            for item in items:
                tenant = item.get("tenantId")
                if tenant is not None and (
                    not isinstance(tenant, str) or tenant.lower() not in tenants
                ):
                    raise SignatureMismatch(
                        "A notification's tenantId is covered by no validation token: the "
                        "tokens do not vouch for it.",
                        reason="wrong_tenant",
                        header=_TOKENS,
                    )
        material = [self._identity(item) for item in items]
        identities = [m for m in material if m is not None]
        first = items[0].get("id")
        return Verified(
            body,
            None,
            first if isinstance(first, str) and len(items) == 1 else None,
            index,
            _NAME,
            identities,
            replay_key=None if identities else b"",
        )

    def _identity(self, item: Mapping[str, Any]) -> bytes | None:
        """The replay identity: subscriptionId + id (or + a digest, ``dedupe_identical``)."""
        notification_id = item.get("id")
        if isinstance(notification_id, str):
            tail = "id:" + notification_id
        elif self.dedupe_identical:
            canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
            tail = "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()
        else:
            return None
        subscription: str = item["subscriptionId"]
        return (subscription + "\n" + tail).encode("utf-8", "surrogatepass")

    def _check_token(self, token: str, kid: str, now: float) -> str:
        """Verify one validation token; return its tenant id (lower case)."""
        key = self._key_set(kid).get(kid)
        if key is None:
            raise SignatureMismatch(
                "A validation token names a key id Microsoft does not publish (now or after a "
                "refresh): it was not issued by the Microsoft identity platform.",
                reason="unknown_key_id",
                header=_TOKENS,
            )
        claims = rs256_claims(
            token,
            key,
            malformed=lambda: _malformed(
                "has a validation token that is not a JWT", "malformed_header", _TOKENS
            ),
            mismatch=lambda: SignatureMismatch(
                "A validation token's signature does not verify with Microsoft's key.",
                header=_TOKENS,
            ),
        )
        assert self.app_ids is not None  # tokens are only read with app_ids
        audience = claims.get("aud")
        if not isinstance(audience, str) or audience.lower() not in self.app_ids:
            raise SignatureMismatch(
                "A validation token was issued for another app. Check app_ids: the "
                "Application (client) IDs of the apps that created the subscriptions.",
                reason="wrong_audience",
                header=_TOKENS,
            )
        version = claims.get("ver")
        publisher = claims.get("azp" if version == "2.0" else "appid")
        if publisher != GRAPH_CHANGE_TRACKING_APP_ID:
            raise SignatureMismatch(
                "A validation token was not issued to Microsoft Graph's change notification "
                "publisher: another app sent this request.",
                reason="wrong_sender",
                header=_TOKENS,
            )
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or _GUID.fullmatch(tenant) is None:
            raise _malformed(
                "has a validation token without a tenant id", "malformed_header", _TOKENS
            )
        issuer = (
            f"https://login.microsoftonline.com/{tenant}/v2.0"
            if version == "2.0"
            else f"https://sts.windows.net/{tenant}/"
        )
        if claims.get("iss") != issuer or (
            self.tenant_ids is not None and tenant not in self.tenant_ids
        ):
            raise SignatureMismatch(
                "A validation token was issued by another issuer or for a tenant not in "
                "tenant_ids.",
                reason="wrong_issuer",
                header=_TOKENS,
            )
        self._check_times(claims, now)
        return tenant

    def _check_times(self, claims: Mapping[str, Any], now: float) -> None:
        check_token_times(
            claims,
            now,
            leeway=self.leeway,
            max_lifetime=self.max_token_lifetime,
            what="A validation token",
            header=_TOKENS,
        )

    def _key_set(self, kid: str) -> dict[str, Any]:
        return fetch_published(
            self.published_keys,
            self.keys_url,
            MICROSOFT_KEYS_RULE,
            _load_jwks,
            accept=lambda key_set: kid in key_set,
        )

    async def aprepare(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
    ) -> None:
        """Download Microsoft's keys off the event loop, so :meth:`check` finds them cached.

        Runs the cheap checks first (shape, every clientState); a delivery they refuse
        downloads nothing. Never raises a rejection itself.
        """
        try:
            pairs = self._cheap_checks(body, keys, limits)[2]
            wanted = {kid for _token, kid in pairs}

            def knows_all(key_set: dict[str, Any]) -> bool:
                return wanted <= key_set.keys()

            if wanted:
                await self.published_keys.aget(
                    self.keys_url, MICROSOFT_KEYS_RULE, _load_jwks, accept=knows_all
                )
        except VerificationError:
            return

    # -- signing (tests) -----------------------------------------------------------------

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
        """Graph sends no signature header: the clientState is in the body.

        Build the body with :func:`notification_body`; this returns no headers.
        """
        return {}

    def __repr__(self) -> str:
        apps = "None" if self.app_ids is None else f"<{len(self.app_ids)} app ids>"
        return f"MicrosoftGraph(app_ids={apps}, max_notifications={self.max_notifications})"
