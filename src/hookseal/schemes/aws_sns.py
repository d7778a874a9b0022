r"""Amazon SNS: HTTP(S) subscriptions, signed with RSA by a certificate SNS publishes.

Docs: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html

SNS posts a JSON document whose fields carry the signature (``Signature``,
``SignatureVersion``, ``SigningCertURL``). The string to sign is ``name\\nvalue\\n`` for a fixed
list of fields, in byte order of their names:

- ``Notification``: Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type;
- ``SubscriptionConfirmation`` and ``UnsubscribeConfirmation``: Message, MessageId,
  SubscribeURL, Timestamp, Token, TopicArn, Type.

``SignatureVersion`` 1 is RSA PKCS#1 v1.5 over SHA-1, 2 is over SHA-256. The configured
"secrets" are the topic ARNs this endpoint accepts; the certificate is downloaded (once, then
cached) from the ``SigningCertURL`` only if it is on an SNS host of an AWS partition and only
after the cheap checks (body parsing, topic allowlist, timestamp window, URL rules) passed.
"""

from __future__ import annotations

import datetime
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from typing_extensions import override

from .._encoding import decode_base64, encode_base64
from .._errors import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    SignatureMismatch,
    VerificationError,
)
from ..published_keys import (
    KeyUnavailable,
    PublishedKeys,
    URLRule,
)
from ._json_body import strict_json_object
from ._published_secrets import accepted_names, fetch_published, published_keys_or_shared
from .base import HandshakeReply, HeaderName, Limits, Scheme, Verified, check_message_id

__all__ = ["AmazonSNS", "SNSSigningKey", "SigningCertificate", "sign_message"]

_NAME = "aws-sns"

#: The DNS suffixes of the AWS partitions: aws and aws-us-gov (amazonaws.com), aws-cn
#: (amazonaws.com.cn), aws-iso (c2s.ic.gov), aws-iso-b (sc2s.sgov.gov), aws-iso-e
#: (cloud.adc-e.uk), aws-iso-f (csp.hci.ic.gov) and aws-eusc (amazonaws.eu).
PARTITION_SUFFIXES = (
    "amazonaws.com",
    "amazonaws.com.cn",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
    "amazonaws.eu",
)
# sns.<region>.<suffix>; a region is like us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1.
_SNS_HOST = re.compile(
    r"sns\.[a-z]{2,4}(?:-[a-z]{1,12}){1,3}-[0-9]{1,2}\.(?:"
    + "|".join(re.escape(suffix) for suffix in PARTITION_SUFFIXES)
    + r")",
    re.ASCII,
)
#: Where SNS publishes its signing certificates (one file name, ``.pem``, at the root).
CERTIFICATE_RULE = URLRule(
    "SNS signing certificate",
    host=_SNS_HOST,
    path=re.compile(r"/SimpleNotificationService-[A-Za-z0-9]{1,64}\.pem", re.ASCII),
)
#: The confirmation link of a ``SubscriptionConfirmation``: the root path of an SNS host, with
#: ``Action=ConfirmSubscription`` in its query string.
SUBSCRIBE_RULE = URLRule(
    "SNS SubscribeURL", host=_SNS_HOST, path=re.compile(r"/?", re.ASCII), query=True
)

_TOPIC_ARN = re.compile(
    r"arn:aws(?:-[a-z]{1,12}){0,2}:sns:[a-z]{2,4}(?:-[a-z]{1,12}){1,3}-[0-9]{1,2}:[0-9]{12}:"
    r"[A-Za-z0-9_-]{1,256}(?:\.fifo)?",
    re.ASCII,
)
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{1,9})?Z",
    re.ASCII,
)
_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_FIELDS = {
    "Notification": _NOTIFICATION_FIELDS,
    "SubscriptionConfirmation": _SUBSCRIPTION_FIELDS,
    "UnsubscribeConfirmation": _SUBSCRIPTION_FIELDS,
}
_SIGNATURE_FIELDS = ("Signature", "SignatureVersion", "SigningCertURL")
_HASHES = {"1": "sha1", "2": "sha256"}
_MIN_RSA_BITS = 2048
_MAX_RSA_BITS = 8192


class SigningCertificate:
    """An SNS signing certificate as downloaded: its RSA public key and validity period."""

    __slots__ = ("key", "not_after", "not_before")

    def __init__(self, key: Any, not_before: float, not_after: float) -> None:
        self.key = key
        self.not_before = not_before
        self.not_after = not_after

    def __repr__(self) -> str:
        return f"SigningCertificate(<RSA {self.key.key_size} bits>)"


def load_certificate(raw: bytes) -> SigningCertificate:
    """Parse a downloaded PEM certificate; ``ValueError`` unless it holds a usable RSA key."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    certificate = x509.load_pem_x509_certificate(raw)
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the certificate's key is not RSA")
    if not _MIN_RSA_BITS <= key.key_size <= _MAX_RSA_BITS:
        raise ValueError("the certificate's RSA key has an unusable size")
    return SigningCertificate(
        key,
        certificate.not_valid_before_utc.timestamp(),
        certificate.not_valid_after_utc.timestamp(),
    )


class SNSSigningKey:
    """What a :class:`~hookseal.Signer` signs SNS messages with (tests and local tools only).

    Args:
        private_key: a ``cryptography`` RSA private key (2048 bits or more).
        certificate_url: the URL serving its certificate (a test server in tests).
    """

    __slots__ = ("certificate_url", "private_key")

    def __init__(self, private_key: Any, certificate_url: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ConfigurationError("SNSSigningKey needs a cryptography RSAPrivateKey.")
        if private_key.key_size < _MIN_RSA_BITS:
            raise ConfigurationError("SNSSigningKey needs an RSA key of 2048 bits or more.")
        if not isinstance(certificate_url, str) or not certificate_url.startswith("https://"):
            raise ConfigurationError("certificate_url must be an https URL.")
        self.private_key = private_key
        self.certificate_url = certificate_url

    def __repr__(self) -> str:
        return f"SNSSigningKey('**********', certificate_url={self.certificate_url!r})"


def string_to_sign(fields: Mapping[str, Any]) -> bytes:
    """The bytes SNS signs for a message of its ``Type`` (see the module docstring)."""
    names = _FIELDS[fields["Type"]]
    parts = []
    for name in names:
        value = fields.get(name)
        if value is None and name == "Subject":
            continue
        parts.append(f"{name}\n{value}\n")
    # A JSON escape can produce a lone surrogate: encoded as is, it can only fail to verify.
    return "".join(parts).encode("utf-8", "surrogatepass")


def sign_message(
    key: SNSSigningKey,
    *,
    topic_arn: str,
    message: str,
    timestamp: int,
    msg_id: str,
    message_type: str = "Notification",
    subject: str | None = None,
    token: str = "",
    subscribe_url: str | None = None,
    signature_version: str = "2",
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """Build a signed SNS JSON body, as SNS would post it (tests and local tools only).

    ``timestamp`` is Unix seconds (written as SNS does, with milliseconds). For a
    ``SubscriptionConfirmation`` give ``token`` and ``subscribe_url``.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if message_type not in _FIELDS:
        raise ConfigurationError(f"message_type must be one of {sorted(_FIELDS)}.")
    if signature_version not in _HASHES:
        raise ConfigurationError("signature_version must be '1' or '2'.")
    when = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
    fields: dict[str, Any] = {
        "Type": message_type,
        "MessageId": msg_id,
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    if message_type == "Notification":
        if subject is not None:
            fields["Subject"] = subject
    else:
        fields["Token"] = token
        fields["SubscribeURL"] = subscribe_url or ""
    algorithm = hashes.SHA1() if signature_version == "1" else hashes.SHA256()  # noqa: S303
    signature = key.private_key.sign(string_to_sign(fields), padding.PKCS1v15(), algorithm)
    fields["SignatureVersion"] = signature_version
    fields["Signature"] = encode_base64(signature)
    fields["SigningCertURL"] = key.certificate_url
    if extra:
        fields.update(extra)
    return json.dumps(fields, indent=2).encode("utf-8")


_NOT_A_MESSAGE = (
    "The body is not an SNS message: a JSON object without duplicate members. Check that the "
    "subscription does not use raw message delivery (hookseal verifies the signed JSON "
    "envelope)."
)


def parse_message(body: bytes, problem: str = _NOT_A_MESSAGE) -> dict[str, Any]:
    """The SNS message's fields, or MalformedHeader (``malformed_body``).

    Strict JSON (no duplicate member, no NaN), a top-level object; linear in the body and
    bounded by the verifier's body limit; nesting too deep for the parser is refused too.
    """
    fields = strict_json_object(body)
    if fields is None:
        raise MalformedHeader(problem, reason="malformed_body")
    return fields


class AmazonSNS(Scheme):
    """Amazon SNS HTTP/HTTPS subscriptions.

    The verifier's ``secrets`` are the topic ARNs this endpoint accepts (at least one): any
    other topic is refused before any certificate is downloaded, because anyone can create an
    SNS topic and subscribe your endpoint to it.

    Args:
        signature_versions: the ``SignatureVersion`` values accepted (default both ``"1"``,
            SHA-1, which is SNS's default for a topic, and ``"2"``, SHA-256). Set your topics to
            version 2 and pass ``("2",)`` to refuse SHA-1.
        published_keys: where certificates come from (default: the process-wide
            :func:`~hookseal.published_keys.shared_published_keys`). Tests pass one built
            with ``allow_hosts``/``trust_ca`` for their loopback server.
        confirm_subscriptions: allow :meth:`confirm_subscription` to visit a verified
            ``SubscribeURL`` (default False: nothing is ever fetched but certificates).
        replay_scope: a name for this endpoint, mixed into the replay identity. Two endpoints
            subscribed to the same topic receive the same ``MessageId``: give each its own
            scope when they share one nonce store.
    """

    name = _NAME
    signs_timestamp = True
    id_header = HeaderName("x-amz-sns-message-id")
    #: SNS messages are at most 256 KiB; escaped into the JSON envelope a message can grow
    #: (``\\u00XX`` for control characters), so 2 MiB leaves headroom.
    default_max_body_bytes = 2 * 1024 * 1024
    #: Whether :meth:`handshake_reply` does I/O (it visits the SubscribeURL): async adapters
    #: then call it in a worker thread, never on the event loop.
    handshake_blocks: ClassVar[bool] = True

    def __init__(
        self,
        *,
        signature_versions: Sequence[str] = ("1", "2"),
        published_keys: PublishedKeys | None = None,
        confirm_subscriptions: bool = False,
        replay_scope: str = "",
    ) -> None:
        if isinstance(signature_versions, str) or not signature_versions:
            raise ConfigurationError('signature_versions must be a non-empty list like ("2",).')
        versions = tuple(signature_versions)
        if any(version not in _HASHES for version in versions):
            raise ConfigurationError('signature_versions may only hold "1" and "2".')
        keys = published_keys_or_shared(published_keys)
        if not isinstance(confirm_subscriptions, bool):
            raise ConfigurationError("confirm_subscriptions must be True or False.")
        if not isinstance(replay_scope, str) or "\n" in replay_scope:
            raise ConfigurationError("replay_scope must be text without newlines.")
        self.signature_versions = versions
        self.published_keys = keys
        self.confirm_subscriptions = confirm_subscriptions
        self.replay_scope = replay_scope

    @override
    def load_keys(self, secrets: object) -> Sequence[Any]:
        """The topic ARNs this endpoint accepts (one ARN or a list)."""
        return accepted_names(
            secrets,
            lambda arn: isinstance(arn, str) and _TOPIC_ARN.fullmatch(arn) is not None,
            not_a_list=(
                "AmazonSNS takes the topic ARNs to accept as secrets, e.g. "
                "['arn:aws:sns:us-east-1:123456789012:orders']."
            ),
            empty="Give at least one topic ARN to accept.",
            invalid=(
                "Each secret must be an SNS topic ARN such as "
                "'arn:aws:sns:us-east-1:123456789012:orders' (no wildcards)."
            ),
        )

    @override
    def load_key(self, secret: object) -> Any:
        """One topic ARN (see :meth:`load_keys`)."""
        return self.load_keys([secret])[0]

    @override
    def load_signing_key(self, secret: object) -> SNSSigningKey:
        """An :class:`SNSSigningKey`, or a ``(private_key, certificate_url)`` pair."""
        if isinstance(secret, SNSSigningKey):
            return secret
        if isinstance(secret, tuple) and len(secret) == 2:
            return SNSSigningKey(secret[0], secret[1])
        raise ConfigurationError(
            "Signing SNS messages takes an SNSSigningKey(private_key, certificate_url)."
        )

    # -- checking ------------------------------------------------------------------------

    def _cheap_checks(
        self, body: bytes, keys: Sequence[Any], limits: Limits, now: float
    ) -> tuple[dict[str, Any], int, int, bytes, str]:
        """Every check before the certificate: (fields, topic index, timestamp, sig, hash)."""
        fields = parse_message(body)
        message_type = fields.get("Type")
        names = _FIELDS.get(message_type) if isinstance(message_type, str) else None
        if names is None:
            raise MalformedHeader(
                "The SNS message's Type is not Notification, SubscriptionConfirmation or "
                "UnsubscribeConfirmation.",
                reason="malformed_body",
                header="Type",
            )
        for name in _SIGNATURE_FIELDS:
            value = fields.get(name)
            if not isinstance(value, str) or not value:
                raise MissingHeader(
                    f"The SNS message has no {name!r} field (or it is empty or not text): "
                    "it is not signed.",
                    header=name,
                )
        for name in names:
            value = fields.get(name)
            if name == "Subject" and value is None:
                continue
            if not isinstance(value, str):
                raise MalformedHeader(
                    f"The SNS message's {name!r} field is missing or not text.",
                    reason="malformed_body",
                    header=name,
                )
        version = fields["SignatureVersion"]
        if version not in self.signature_versions:
            raise SignatureMismatch(
                f"The SNS message is signed with SignatureVersion {version[:8]!r}; this "
                f"verifier accepts {', '.join(self.signature_versions)} (signature_versions).",
                reason="no_supported_signature",
                header="SignatureVersion",
            )
        topic = fields["TopicArn"]
        try:
            index = list(keys).index(topic)
        except ValueError:
            raise SignatureMismatch(
                "The SNS message comes from a topic this endpoint does not accept. Add the "
                "topic's ARN to the verifier's secrets if it is yours.",
                reason="topic_not_allowed",
                header="TopicArn",
            ) from None
        timestamp = _parse_timestamp(fields["Timestamp"])
        limits.check_window(timestamp, now, "Timestamp")
        check_message_id(fields["MessageId"], "MessageId", limits, "\n")
        problem = self.published_keys.url_problem(fields["SigningCertURL"], CERTIFICATE_RULE)
        if problem is not None:
            raise SignatureMismatch(
                f"The SNS message's SigningCertURL is refused: {problem}. Only certificates "
                "on SNS hosts (https://sns.<region>.amazonaws.com/... and the other AWS "
                "partitions) are trusted.",
                reason="untrusted_certificate_url",
                header="SigningCertURL",
            )
        value = fields["Signature"]
        if len(value) > limits.max_header_bytes:
            raise MalformedHeader(
                "The SNS message's Signature is longer than max_header_bytes.",
                reason="header_too_long",
                header="Signature",
            )
        signature = decode_base64(value, "Signature")
        return fields, index, timestamp, signature, _HASHES[version]

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
        """Check the SNS message in the body: fields, topic, window, certificate, signature."""
        fields, index, timestamp, signature, hash_name = self._cheap_checks(body, keys, limits, now)
        certificate = self._certificate(fields["SigningCertURL"])
        if not certificate.not_before <= now <= certificate.not_after:
            raise SignatureMismatch(
                "The SNS signing certificate is not valid at this time.",
                reason="certificate_expired",
                header="SigningCertURL",
            )
        if not _rsa_verifies(certificate.key, signature, string_to_sign(fields), hash_name):
            raise SignatureMismatch(
                "The SNS message's signature does not match its fields with the certificate "
                "at SigningCertURL. Check that the body reaches the verifier exactly as sent.",
                header="Signature",
            )
        material = "\n".join(
            (self.replay_scope, fields["TopicArn"], fields["Type"], fields["MessageId"])
        )
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=fields["MessageId"],
            key_index=index,
            scheme=_NAME,
            replay_material=[material.encode("utf-8", "surrogatepass")],
        )

    def _certificate(self, url: str) -> SigningCertificate:
        return fetch_published(self.published_keys, url, CERTIFICATE_RULE, load_certificate)

    @override
    async def aprepare(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
    ) -> None:
        """Download the delivery's certificate off the event loop, so :meth:`check` finds it.

        Runs the cheap checks first: a delivery they refuse downloads nothing (``check``
        then refuses it with the precise error). Never raises a rejection itself.
        """
        try:
            fields = self._cheap_checks(body, keys, limits, now)[0]
            await self.published_keys.aget(
                fields["SigningCertURL"], CERTIFICATE_RULE, load_certificate
            )
        except VerificationError:
            return  # check() refuses the delivery with the precise error

    # -- subscription confirmation -----------------------------------------------------

    def subscribe_url(self, verified: Verified) -> str:
        """The ``SubscribeURL`` of a verified ``SubscriptionConfirmation``, checked.

        Raises:
            ValueError: ``verified`` is not an SNS subscription confirmation, or its URL is
                not an SNS confirmation link for the message's own topic.
        """
        if not isinstance(verified, Verified) or verified.scheme != _NAME:
            raise ValueError("subscribe_url() takes the Verified of an SNS delivery.")
        fields = parse_message(verified.body)
        if fields.get("Type") != "SubscriptionConfirmation":
            raise ValueError("This SNS delivery is not a SubscriptionConfirmation.")
        url = fields["SubscribeURL"]
        problem = self.published_keys.url_problem(url, SUBSCRIBE_RULE)
        if problem is not None:
            raise ValueError(f"The SubscribeURL is refused: {problem}.")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, strict_parsing=True)
        if query.get("Action") != ["ConfirmSubscription"] or query.get("TopicArn") != [
            fields["TopicArn"]
        ]:
            raise ValueError(
                "The SubscribeURL is not a ConfirmSubscription link for the message's topic."
            )
        return str(url)

    def confirm_subscription(self, verified: Verified) -> None:
        """Confirm the subscription of a verified ``SubscriptionConfirmation`` (opt-in).

        Visits its ``SubscribeURL`` (an SNS host, ``Action=ConfirmSubscription`` for the
        message's own topic) once, with the same protections as certificate downloads.

        Raises:
            ConfigurationError: the scheme was built without ``confirm_subscriptions=True``.
            ValueError: see :meth:`subscribe_url`.
            KeyUnavailable: the confirmation request failed (reason ``confirmation_failed``).
        """
        if not self.confirm_subscriptions:
            raise ConfigurationError(
                "Confirming SNS subscriptions is off: build AmazonSNS(confirm_subscriptions="
                "True) to let hookseal visit verified SubscribeURLs."
            )
        url = self.subscribe_url(verified)
        try:
            self.published_keys.fetch(url, SUBSCRIBE_RULE)
        except KeyUnavailable as exc:
            raise KeyUnavailable(
                f"Confirming the SNS subscription failed: {exc}", reason="confirmation_failed"
            ) from None

    async def aconfirm_subscription(self, verified: Verified) -> None:
        """:meth:`confirm_subscription` for async code (the request runs in a worker thread)."""
        import asyncio

        await asyncio.to_thread(self.confirm_subscription, verified)

    def _is_confirmation(self, verified: Verified) -> bool:
        """Whether to confirm ``verified`` (opted in, and a SubscriptionConfirmation)."""
        if not self.confirm_subscriptions or verified.scheme != _NAME:
            return False
        if b"SubscriptionConfirmation" not in verified.body:
            return False  # a notification: not parsed a second time
        try:
            return parse_message(verified.body).get("Type") == "SubscriptionConfirmation"
        except VerificationError:
            return False

    @override
    def handshake_reply(self, verified: Verified, keys: Sequence[Any]) -> HandshakeReply | None:
        """Confirm a verified ``SubscriptionConfirmation``, with ``confirm_subscriptions=True``.

        The reply is 200 with an empty body once :meth:`confirm_subscription` visited the
        ``SubscribeURL``; 503 when that request failed (the adapters then release the replay
        record, so SNS's retry is confirmed); 400 when the ``SubscribeURL`` is not an SNS
        confirmation link for the message's own topic (never visited). None for every other
        message, and for every message without the opt-in: the handler then receives the
        confirmation (call :meth:`confirm_subscription` there, or confirm it in the console).

        This visits a URL: on an event loop, call :meth:`ahandshake_reply` instead.
        """
        if not self._is_confirmation(verified):
            return None
        try:
            self.confirm_subscription(verified)
        except ValueError:
            return HandshakeReply(status=400)
        except KeyUnavailable:
            return HandshakeReply(status=503)
        return HandshakeReply()

    async def ahandshake_reply(
        self, verified: Verified, keys: Sequence[Any]
    ) -> HandshakeReply | None:
        """:meth:`handshake_reply` for async code: the confirmation runs in a worker thread."""
        if not self._is_confirmation(verified):
            return None
        import asyncio

        return await asyncio.to_thread(self.handshake_reply, verified, keys)

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
        """The HTTP headers SNS sends with ``body``, a message signed by :func:`sign_message`.

        SNS signs inside the body, so the body is built (and signed) by :func:`sign_message`;
        this checks that ``key`` signed it and returns the headers that accompany it.
        """
        fields = parse_message(body)
        if fields.get("SigningCertURL") != key.certificate_url or fields.get("Type") not in (
            _FIELDS
        ):
            raise ConfigurationError(
                "SNS signs inside the body: build it with hookseal.schemes.aws_sns."
                "sign_message(key, ...) and pass that body."
            )
        signature = decode_base64(str(fields.get("Signature", "")), "Signature")
        hash_name = _HASHES.get(str(fields.get("SignatureVersion")), "sha256")
        if not _rsa_verifies(
            key.private_key.public_key(), signature, string_to_sign(fields), hash_name
        ):
            raise ConfigurationError("This body was not signed by this SNSSigningKey.")
        return {
            "x-amz-sns-message-type": fields["Type"],
            "x-amz-sns-message-id": fields["MessageId"],
            "x-amz-sns-topic-arn": fields["TopicArn"],
            "Content-Type": "text/plain; charset=UTF-8",
        }

    def __repr__(self) -> str:
        return (
            f"AmazonSNS(signature_versions={self.signature_versions!r}, "
            f"confirm_subscriptions={self.confirm_subscriptions})"
        )


def _parse_timestamp(value: str) -> int:
    match = _TIMESTAMP.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        year, month, day, hour, minute, second = (int(group) for group in match.groups())
        moment = datetime.datetime(
            year, month, day, hour, minute, second, tzinfo=datetime.timezone.utc
        )
    except ValueError:
        raise MalformedHeader(
            "The SNS message's Timestamp is not an ISO 8601 UTC time such as "
            "2012-05-02T00:54:06.655Z.",
            reason="malformed_timestamp",
            header="Timestamp",
        ) from None
    return int(moment.timestamp())


def _rsa_verifies(key: Any, signature: bytes, message: bytes, hash_name: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if len(signature) != (key.key_size + 7) // 8:
        return False
    algorithm = hashes.SHA1() if hash_name == "sha1" else hashes.SHA256()  # noqa: S303
    try:
        key.verify(signature, message, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return False
    return True
