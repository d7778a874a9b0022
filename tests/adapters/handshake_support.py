"""The handshake cases every adapter is driven with (tests/adapters/test_adapter_handshakes.py).

One verifier per provider, each mounted at ``/hooks/<provider>``; each case builds a fresh
request (signed now, with the real clock) and says what the adapter must answer. The handler
of every route records its calls in ``CALLS``: a handshake must never reach it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hookseal import Signer, Verifier
from hookseal.published_keys import PublishedKeys
from hookseal.schemes import Discord, Dropbox, GitHub, OktaEventHook, Slack, Twitch, Zoom
from hookseal.schemes.aws_sns import AmazonSNS, SNSSigningKey, sign_message
from hookseal.schemes.meta import Meta
from hookseal.stores.memory import MemoryNonceStore

SLACK = "8f742231b10e8888abcd99yyyzzz85a5"
DISCORD_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
DISCORD_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
ZOOM = "zoom-secret-token"
TWITCH = "twitch-subscription-secret"
META = "meta-app-secret"
VERIFY_TOKEN = "meta-verify-token"
DROPBOX = "dropbox-app-secret"
OKTA = "okta-hook-secret"
GITHUB = "github-secret"
CHALLENGE = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
PLAIN_TOKEN = "qgg8vlvZRS6UYooatFL8Aw"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"

CALLS: list[str] = []

# Amazon SNS: a test key and self-signed certificate, served from memory (never the network;
# tests/published_keys covers the downloads themselves).
SNS_TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"
SNS_CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
SNS_CONFIRM_URL = (
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
    f"&TopicArn={SNS_TOPIC}&Token=t0ken"
)
_SNS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_SNS_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
_SNS_NOW = datetime.datetime.now(datetime.timezone.utc)
SNS_PEM = (
    x509.CertificateBuilder()
    .subject_name(_SNS_NAME)
    .issuer_name(_SNS_NAME)
    .public_key(_SNS_KEY.public_key())
    .serial_number(1)
    .not_valid_before(_SNS_NOW - datetime.timedelta(days=1))
    .not_valid_after(_SNS_NOW + datetime.timedelta(days=30))
    .sign(_SNS_KEY, hashes.SHA256())
    .public_bytes(serialization.Encoding.PEM)
)
#: The subscription confirmations visited (the SubscribeURL of each confirmed message).
SNS_CONFIRMED: list[str] = []


class MemoryKeys(PublishedKeys):
    """The test certificate from memory; a confirmation visit is recorded, not sent."""

    def get(self, url: str, rule: Any, parse: Any, **options: Any) -> Any:
        return parse(SNS_PEM)

    def get_in_background(self, url: str, rule: Any, parse: Any, **options: Any) -> Any:
        return parse(SNS_PEM)

    async def aget(self, url: str, rule: Any, parse: Any, **options: Any) -> Any:
        return parse(SNS_PEM)

    def fetch(self, url: str, rule: Any) -> bytes:
        SNS_CONFIRMED.append(url)
        return b"<ConfirmSubscriptionResponse/>"


def make_verifiers() -> dict[str, Verifier]:
    """A fresh verifier per provider, each with its own replay store."""

    def new(scheme: object, secret: str, **options: object) -> Verifier:
        return Verifier(scheme, [secret], nonce_store=MemoryNonceStore(), **options)  # type: ignore[arg-type]

    return {
        "slack": new(Slack(), SLACK),
        "discord": new(Discord(), DISCORD_PUBLIC),
        "zoom": new(Zoom(), ZOOM),
        "twitch": new(Twitch(), TWITCH, tolerance=600),
        "meta": new(Meta(verify_token=VERIFY_TOKEN), META),
        "dropbox": new(Dropbox(), DROPBOX),
        "okta": new(OktaEventHook(), OKTA),
        "github": new(GitHub(), GITHUB),
        "sns": new(AmazonSNS(published_keys=MemoryKeys(), confirm_subscriptions=True), SNS_TOPIC),
    }


#: The verifiers in use; the tests refill it with fresh ones before each test.
VERIFIERS = make_verifiers()
PROVIDERS = list(VERIFIERS)


@dataclass(frozen=True)
class Req:
    """A request to ``/hooks/<provider>``."""

    provider: str
    method: str = "POST"
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def path(self) -> str:
        return f"/hooks/{self.provider}"

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(frozen=True)
class Expect:
    """What the adapter answers: the status, and for a handshake its content type and body."""

    status: int
    content_type: str | None = None
    body: bytes | None = None
    handled: bool = False  # the handler ran (an ordinary delivery)


def _signed(provider: str, scheme: object, secret: str, body: bytes, **sign: object) -> Req:
    headers = Signer(scheme, secret).sign(body, **sign)  # type: ignore[arg-type]
    return Req(provider, "POST", "", [*headers.items(), ("Content-Type", JSON)], body)


def slack(secret: str = SLACK) -> Req:
    body = json.dumps({"token": "t", "challenge": CHALLENGE, "type": "url_verification"})
    return _signed("slack", Slack(), secret, body.encode())


def discord() -> Req:
    body = b'{"application_id":"1","id":"2","token":"aW50","type":1,"version":1}'
    return _signed("discord", Discord(), DISCORD_SEED, body)


def zoom() -> Req:
    body = {"event": "endpoint.url_validation", "payload": {"plainToken": PLAIN_TOKEN}}
    return _signed("zoom", Zoom(), ZOOM, json.dumps(body).encode())


def twitch() -> Req:
    document = {
        "challenge": CHALLENGE,
        "subscription": {"id": "f1c2", "status": "webhook_callback_verification_pending"},
    }
    req = _signed("twitch", Twitch(), TWITCH, json.dumps(document).encode())
    headers = [*req.headers, ("Twitch-Eventsub-Message-Type", "webhook_callback_verification")]
    return Req("twitch", "POST", "", headers, req.body)


def meta(token: str = VERIFY_TOKEN) -> Req:
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": token}
    return Req("meta", "GET", urllib.parse.urlencode(query))


def dropbox() -> Req:
    return Req("dropbox", "GET", "challenge=XkQvbpmCYTUGBbCBLhQmOw")


def okta(secret: str = OKTA) -> Req:
    headers = [("Authorization", secret), ("X-Okta-Verification-Challenge", CHALLENGE)]
    return Req("okta", "GET", "", headers)


def github() -> Req:
    return _signed("github", GitHub(), GITHUB, b'{"zen":"challenge"}', msg_id="d1")


def _sns(message_type: str) -> Req:
    extra: dict[str, Any] = {}
    if message_type == "SubscriptionConfirmation":
        extra = {"token": "t0ken", "subscribe_url": SNS_CONFIRM_URL}
    body = sign_message(
        SNSSigningKey(_SNS_KEY, SNS_CERT_URL),
        topic_arn=SNS_TOPIC,
        message="order 42 shipped",
        timestamp=int(time.time()),
        msg_id=f"{message_type}-{time.time_ns()}",
        message_type=message_type,
        **extra,
    )
    headers = [("x-amz-sns-message-type", message_type), ("Content-Type", "text/plain")]
    return Req("sns", "POST", "", headers, body)


def sns_confirmation() -> Req:
    return _sns("SubscriptionConfirmation")


def sns_notification() -> Req:
    return _sns("Notification")


def _zoom_reply() -> bytes:
    encrypted = hmac.new(ZOOM.encode(), PLAIN_TOKEN.encode(), hashlib.sha256).hexdigest()
    return json.dumps(
        {"plainToken": PLAIN_TOKEN, "encryptedToken": encrypted}, separators=(",", ":")
    ).encode()


#: name -> (build the request, what the adapter answers)
CASES: dict[str, tuple[Callable[[], Req], Expect]] = {
    "slack-url_verification": (slack, Expect(200, TEXT, CHALLENGE.encode())),
    "discord-ping": (discord, Expect(200, JSON, b'{"type":1}')),
    "zoom-url_validation": (zoom, Expect(200, JSON, _zoom_reply())),
    "twitch-callback_verification": (twitch, Expect(200, TEXT, CHALLENGE.encode())),
    "meta-get": (meta, Expect(200, TEXT, b"1158201444")),
    "dropbox-get": (dropbox, Expect(200, TEXT, b"XkQvbpmCYTUGBbCBLhQmOw")),
    "okta-get": (okta, Expect(200, JSON, b'{"verification":"' + CHALLENGE.encode() + b'"}')),
    "sns-subscription_confirmation": (sns_confirmation, Expect(200, TEXT, b"")),
    # negatives: refused before any reply, the handler never runs
    "slack-forged": (lambda: slack("another-signing-secret"), Expect(401)),
    "meta-wrong-token": (lambda: meta("not-the-verify-token"), Expect(401)),
    "okta-wrong-secret": (lambda: okta("not-the-hook-secret"), Expect(401)),
    # control: an ordinary delivery reaches the handler
    "github-delivery": (github, Expect(200, handled=True)),
    "sns-notification": (sns_notification, Expect(200, handled=True)),
}
CASE_NAMES = list(CASES)
