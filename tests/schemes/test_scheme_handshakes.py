"""Subscription handshakes answered by the provider schemes (issue 19).

Each provider's reply is checked byte for byte against the shape its docs give, through the
public Verifier API the adapters call (``Verifier.handshake_reply`` after ``verify`` for the
signed handshakes, ``Verifier.unsigned_handshake_reply`` before it for the unsigned ones). The
negatives: a forged handshake is refused by verification (no reply is ever computed for it), a
wrong or missing verify token or secret gets no reply, and odd or oversized challenges get
none either. Amazon SNS's confirmation, which needs the loopback certificate server, is tested
in tests/published_keys/test_aws_sns.py.

Docs: Slack https://api.slack.com/events/url_verification; Discord
https://discord.com/developers/docs/interactions/receiving-and-responding (PING, PONG); Zoom
https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint; Twitch
https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#responding-to-a-challenge-request;
Meta https://developers.facebook.com/docs/graph-api/webhooks/getting-started/; Dropbox
https://www.dropbox.com/developers/reference/webhooks; Okta
https://developer.okta.com/docs/concepts/event-hooks/ (one-time verification request).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse

import pytest

from hookseal import (
    ConfigurationError,
    HandshakeReply,
    Headers,
    MissingHeader,
    SignatureMismatch,
    Signer,
    Verifier,
)
from hookseal.schemes import GitHub
from hookseal.schemes.discord import Discord
from hookseal.schemes.dropbox import Dropbox
from hookseal.schemes.meta import Meta
from hookseal.schemes.slack import Slack
from hookseal.schemes.token_senders import OktaEventHook
from hookseal.schemes.twitch import Twitch
from hookseal.schemes.zoom import Zoom

NOW = 1_700_000_000
TEXT = "text/plain; charset=utf-8"
# Documentation examples: Slack's url_verification event, Twitch's challenge.
SLACK_CHALLENGE = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
TWITCH_CHALLENGE = "pogchamp-kappa-360noscope-vohiyo"
ODD_CHALLENGES = ["", "x" * 513, "<script>", 'a"b', "a&b", "tab\there", "caf\u00e9", "new\nline"]


def _signed(scheme, secret, body, secrets=None, **sign):
    """Verify ``body`` signed with ``secret``; return the verifier and the Verified."""
    verifier = Verifier(scheme, secrets or [secret], nonce_store=None, tolerance=600)
    headers = Signer(scheme, secret).sign(body, timestamp=NOW, **sign)
    return verifier, verifier.verify(body, headers, now=NOW)


def _reply_json(reply: HandshakeReply | None) -> object:
    assert reply is not None
    assert reply.status == 200
    assert reply.content_type == "application/json"
    return json.loads(reply.body)


def _assert_text(reply: HandshakeReply | None, expected: str) -> None:
    assert reply is not None
    assert (reply.status, reply.body, reply.content_type) == (200, expected.encode(), TEXT)
    assert ("X-Content-Type-Options", "nosniff") in reply.all_headers()


# -- Slack: url_verification --------------------------------------------------------------------

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def _slack_body(challenge: object = SLACK_CHALLENGE, kind: str = "url_verification") -> bytes:
    return json.dumps(
        {"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": challenge, "type": kind}
    ).encode()


def test_slack_url_verification_is_answered_with_the_challenge_as_text() -> None:
    verifier, verified = _signed(Slack(), SLACK_SECRET, _slack_body())
    _assert_text(verifier.handshake_reply(verified), SLACK_CHALLENGE)


def test_slack_events_and_slash_commands_are_not_handshakes() -> None:
    event = b'{"type":"event_callback","event":{"type":"app_mention","text":"url_verification"}}'
    for body in (event, b"command=%2Fweather&text=url_verification", _slack_body(kind="other")):
        verifier, verified = _signed(Slack(), SLACK_SECRET, body)
        assert verifier.handshake_reply(verified) is None


@pytest.mark.parametrize("challenge", [*ODD_CHALLENGES, 42, None, ["a"]])
def test_slack_odd_challenges_get_no_reply(challenge: object) -> None:
    verifier, verified = _signed(Slack(), SLACK_SECRET, _slack_body(challenge))
    assert verifier.handshake_reply(verified) is None


def test_slack_forged_url_verification_is_refused_before_any_reply() -> None:
    verifier = Verifier(Slack(), [SLACK_SECRET], nonce_store=None)
    headers = Signer(Slack(), "another-secret").sign(_slack_body(), timestamp=NOW)
    with pytest.raises(SignatureMismatch):
        verifier.verify(_slack_body(), headers, now=NOW)
    with pytest.raises(MissingHeader):  # unsigned: the same
        verifier.verify(_slack_body(), {}, now=NOW)
    assert verifier.unsigned_handshake_reply("POST", "", {}) is None


# -- Discord: PING -> PONG ----------------------------------------------------------------------

DISCORD_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
DISCORD_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
DISCORD_PING = (
    b'{"application_id":"123456789012345678","id":"987654321098765432",'
    b'"token":"aW50ZXJhY3Rpb24","type":1,"version":1}'
)


def _discord(body: bytes):
    verifier = Verifier(Discord(), [DISCORD_PUBLIC], nonce_store=None)
    headers = Signer(Discord(), DISCORD_SEED).sign(body, timestamp=NOW)
    return verifier, verifier.verify(body, headers, now=NOW)


def test_discord_ping_is_answered_with_a_pong() -> None:
    verifier, verified = _discord(DISCORD_PING)
    reply = verifier.handshake_reply(verified)
    assert _reply_json(reply) == {"type": 1}
    assert reply is not None
    assert reply.body == b'{"type":1}'


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":2,"data":{"name":"ping"}}',
        b'{"type":true}',
        b'{"type":1.0}',
        b'{"type":"1"}',
        b"[1]",
        b"not json",
        b'{"type":1,"pad":"' + b"x" * 20_000 + b'"}',
    ],
)
def test_discord_other_interactions_are_not_pings(body: bytes) -> None:
    verifier, verified = _discord(body)
    assert verifier.handshake_reply(verified) is None


def test_discord_forged_ping_is_refused() -> None:
    """Discord itself probes the endpoint with invalid signatures: they must get 401."""
    verifier = Verifier(Discord(), [DISCORD_PUBLIC], nonce_store=None)
    headers = Signer(Discord(), DISCORD_SEED).sign(DISCORD_PING, timestamp=NOW)
    with pytest.raises(SignatureMismatch):
        verifier.verify(DISCORD_PING.replace(b"1}", b"1 }"), headers, now=NOW)


# -- Zoom: endpoint.url_validation --------------------------------------------------------------

ZOOM_OLD = "zoom-secret-token-old"
ZOOM_NEW = "zoom-secret-token-new"
PLAIN = "qgg8vlvZRS6UYooatFL8Aw"


def _zoom_body(token: object = PLAIN, event: str = "endpoint.url_validation") -> bytes:
    return json.dumps(
        {"payload": {"plainToken": token}, "event_ts": 1654503849680, "event": event}
    ).encode()


@pytest.mark.parametrize("secret", [ZOOM_OLD, ZOOM_NEW])
def test_zoom_url_validation_is_answered_with_the_key_that_verified(secret: str) -> None:
    verifier, verified = _signed(Zoom(), secret, _zoom_body(), [ZOOM_OLD, ZOOM_NEW])
    expected = hmac.new(secret.encode(), PLAIN.encode(), hashlib.sha256).hexdigest()
    assert _reply_json(verifier.handshake_reply(verified)) == {
        "plainToken": PLAIN,
        "encryptedToken": expected,
    }


@pytest.mark.parametrize(
    "body",
    [
        _zoom_body(event="meeting.started"),
        b'{"event":"meeting.started","payload":{"plainToken":"abc","note":"endpoint.url_validation"}}',
        b'{"event":"endpoint.url_validation","payload":"plainToken"}',
        b'{"event":"endpoint.url_validation"}',
        *(_zoom_body(token) for token in [*ODD_CHALLENGES, 7, None]),
    ],
)
def test_zoom_other_events_and_odd_tokens_get_no_reply(body: bytes) -> None:
    verifier, verified = _signed(Zoom(), ZOOM_OLD, body)
    assert verifier.handshake_reply(verified) is None


def test_zoom_forged_url_validation_is_refused() -> None:
    verifier = Verifier(Zoom(), [ZOOM_OLD], nonce_store=None)
    headers = Signer(Zoom(), "attacker-secret").sign(_zoom_body(), timestamp=NOW)
    with pytest.raises(SignatureMismatch):
        verifier.verify(_zoom_body(), headers, now=NOW)


# -- Twitch: webhook_callback_verification ------------------------------------------------------

TWITCH_SECRET = "twitch-subscription-secret"
SUBSCRIPTION = {
    "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
    "status": "webhook_callback_verification_pending",
    "type": "channel.follow",
    "version": "2",
    "condition": {"broadcaster_user_id": "12826", "moderator_user_id": "12826"},
    "transport": {"method": "webhook", "callback": "https://example.com/webhooks/callback"},
    "created_at": "2019-11-16T10:11:12.634234626Z",
}


def _twitch(document: dict[str, object]):
    body = json.dumps(document).encode()
    return _signed(Twitch(), TWITCH_SECRET, body, msg_id="e76c6bd4-55c9-4987-8304-da1588d8988b")


def test_twitch_callback_verification_is_answered_with_the_challenge_as_text() -> None:
    verifier, verified = _twitch({"challenge": TWITCH_CHALLENGE, "subscription": SUBSCRIPTION})
    _assert_text(verifier.handshake_reply(verified), TWITCH_CHALLENGE)


@pytest.mark.parametrize(
    "document",
    [
        {"subscription": SUBSCRIPTION, "event": {"user_name": "challenge"}},
        {"subscription": {**SUBSCRIPTION, "status": "authorization_revoked"}},
        {"challenge": TWITCH_CHALLENGE, "subscription": SUBSCRIPTION, "event": {}},
        {"challenge": TWITCH_CHALLENGE},
        *({"challenge": odd, "subscription": SUBSCRIPTION} for odd in [*ODD_CHALLENGES, 5]),
    ],
)
def test_twitch_notifications_revocations_and_odd_challenges_get_no_reply(
    document: dict[str, object],
) -> None:
    verifier, verified = _twitch(document)
    assert verifier.handshake_reply(verified) is None


def test_twitch_forged_callback_verification_is_refused() -> None:
    body = json.dumps({"challenge": TWITCH_CHALLENGE, "subscription": SUBSCRIPTION}).encode()
    verifier = Verifier(Twitch(), [TWITCH_SECRET], nonce_store=None, tolerance=600)
    headers = Signer(Twitch(), "attacker-secret-value").sign(body, timestamp=NOW)
    headers["Twitch-Eventsub-Message-Type"] = "webhook_callback_verification"
    with pytest.raises(SignatureMismatch):
        verifier.verify(body, headers, now=NOW)


# -- Meta: GET hub.challenge with the verify token ----------------------------------------------

META_SECRET = "meta-app-secret"
VERIFY_TOKEN = "my-verify-token-2024"


def _meta_query(**overrides: str) -> str:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    params["hub.verify_token"] = VERIFY_TOKEN
    params.update(overrides)
    return urllib.parse.urlencode(params)


def _meta(verify_token: str | None = VERIFY_TOKEN) -> Verifier:
    return Verifier(Meta(verify_token=verify_token), [META_SECRET], nonce_store=None)


def test_meta_verification_request_is_answered_with_the_challenge() -> None:
    _assert_text(_meta().unsigned_handshake_reply("GET", _meta_query(), {}), "1158201444")
    _assert_text(_meta().unsigned_handshake_reply("get", _meta_query(), {}), "1158201444")


def test_an_address_the_allowlist_refuses_gets_no_handshake_reply() -> None:
    """An authenticated unsigned handshake obeys the allowlist, as a delivery does (403)."""
    from hookseal import IPAllowlist

    verifier = Verifier(
        Meta(verify_token=VERIFY_TOKEN),
        [META_SECRET],
        nonce_store=None,
        allowlist=IPAllowlist(["192.0.2.0/24"]),
    )
    query = _meta_query()
    assert verifier.unsigned_handshake_reply("GET", query, {}, remote_addr="203.0.113.5") is None
    assert verifier.unsigned_handshake_reply("GET", query, {}) is None  # no peer: refused too
    _assert_text(
        verifier.unsigned_handshake_reply("GET", query, {}, remote_addr="192.0.2.7"), "1158201444"
    )


@pytest.mark.parametrize(
    "query",
    [
        _meta_query(**{"hub.verify_token": "my-verify-token-2025"}),
        _meta_query(**{"hub.verify_token": VERIFY_TOKEN[:-1]}),
        _meta_query(**{"hub.verify_token": VERIFY_TOKEN + "x"}),
        _meta_query(**{"hub.verify_token": ""}),
        _meta_query(**{"hub.mode": "unsubscribe"}),
        _meta_query(**{"hub.challenge": "<b>1</b>"}),
        _meta_query(**{"hub.challenge": "9" * 513}),
        _meta_query(**{"hub.challenge": ""}),
        "hub.mode=subscribe&hub.challenge=1",
        "hub.mode=subscribe&hub.verify_token=" + VERIFY_TOKEN,
        _meta_query() + "&hub.verify_token=other",
        _meta_query() + "&hub.challenge=2",
        _meta_query() + "&hub.mode=subscribe",
        "",
    ],
)
def test_meta_requests_that_do_not_prove_the_token_get_no_reply(query: str) -> None:
    verifier = _meta()
    assert verifier.unsigned_handshake_reply("GET", query, {}) is None
    with pytest.raises(MissingHeader):  # then refused like an unsigned delivery
        verifier.verify(b"", {}, method="GET", now=NOW)


def test_meta_without_a_verify_token_answers_nothing() -> None:
    assert _meta(None).unsigned_handshake_reply("GET", _meta_query(), {}) is None
    assert _meta().unsigned_handshake_reply("POST", _meta_query(), {}) is None


def test_meta_signed_deliveries_are_not_handshakes() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    verifier, verified = _signed(Meta(verify_token=VERIFY_TOKEN), META_SECRET, body)
    assert verifier.handshake_reply(verified) is None


@pytest.mark.parametrize("token", ["", " padded", "tab\t", "caf\u00e9", "x" * 257, 42, b"tok"])
def test_meta_bad_verify_tokens_are_configuration_errors(token: object) -> None:
    with pytest.raises(ConfigurationError, match="verify_token"):
        Meta(verify_token=token)  # type: ignore[arg-type]


def test_meta_verify_token_is_not_shown_or_changeable() -> None:
    verifier = _meta()
    assert VERIFY_TOKEN not in repr(verifier)
    assert repr(Meta(verify_token=VERIFY_TOKEN)) == "Meta(verify_token='**********')"
    assert repr(Meta()) == "Meta()"
    with pytest.raises(AttributeError):
        verifier.scheme._verify_token = None  # type: ignore[attr-defined]


# -- Dropbox: GET challenge ---------------------------------------------------------------------


def test_dropbox_verification_request_is_echoed_with_nosniff() -> None:
    verifier = Verifier(Dropbox(), ["dropbox-app-secret"], nonce_store=None)
    reply = verifier.unsigned_handshake_reply("GET", "challenge=XkQvbpmCYTUGBbCBLhQmOw", {})
    _assert_text(reply, "XkQvbpmCYTUGBbCBLhQmOw")


@pytest.mark.parametrize(
    ("method", "query"),
    [
        ("POST", "challenge=abc"),
        ("HEAD", "challenge=abc"),
        ("GET", ""),
        ("GET", "challenge="),
        ("GET", "challenge=a&challenge=b"),
        ("GET", "Challenge=abc"),
        ("GET", "challenge=" + "a" * 513),
        ("GET", "challenge=%3Cscript%3E"),
        ("GET", "challenge=%00"),
        ("GET", "challenge=%C3%A9"),
    ],
)
def test_dropbox_odd_requests_get_no_reply(method: str, query: str) -> None:
    verifier = Verifier(Dropbox(), ["dropbox-app-secret"], nonce_store=None)
    assert verifier.unsigned_handshake_reply(method, query, {}) is None


# -- Okta: one-time verification ----------------------------------------------------------------

OKTA_SECRET = "okta-hook-secret-value"
OKTA_CHALLENGE = "gZ7QsqEdbnKHRu4LyZUqNXbg2tSWz9ZB8fBw0uDq"


def _okta(header: str = "Authorization") -> Verifier:
    return Verifier(OktaEventHook(header), [OKTA_SECRET], nonce_store=None)


def test_okta_verification_is_answered_when_the_secret_is_presented() -> None:
    headers = {"Authorization": OKTA_SECRET, "X-Okta-Verification-Challenge": OKTA_CHALLENGE}
    reply = _okta().unsigned_handshake_reply("GET", "", headers)
    assert _reply_json(reply) == {"verification": OKTA_CHALLENGE}
    custom = {"X-Hook-Auth": OKTA_SECRET, "x-okta-verification-challenge": OKTA_CHALLENGE}
    assert _reply_json(_okta("X-Hook-Auth").unsigned_handshake_reply("GET", "", custom)) == {
        "verification": OKTA_CHALLENGE
    }


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("GET", {"X-Okta-Verification-Challenge": OKTA_CHALLENGE}),
        ("GET", {"Authorization": "wrong", "X-Okta-Verification-Challenge": OKTA_CHALLENGE}),
        ("GET", {"Authorization": OKTA_SECRET + "x", "X-Okta-Verification-Challenge": "a"}),
        ("GET", {"Authorization": OKTA_SECRET}),
        ("POST", {"Authorization": OKTA_SECRET, "X-Okta-Verification-Challenge": "a"}),
        ("GET", {"Authorization": OKTA_SECRET, "X-Okta-Verification-Challenge": "<a>"}),
        ("GET", {"Authorization": OKTA_SECRET, "X-Okta-Verification-Challenge": "a" * 513}),
        (
            "GET",
            Headers(
                [
                    ("Authorization", OKTA_SECRET),
                    ("X-Okta-Verification-Challenge", "a"),
                    ("X-Okta-Verification-Challenge", "b"),
                ]
            ),
        ),
        (
            "GET",
            Headers(
                [
                    ("Authorization", "wrong"),
                    ("Authorization", OKTA_SECRET),
                    ("X-Okta-Verification-Challenge", "a"),
                ]
            ),
        ),
    ],
)
def test_okta_requests_without_the_secret_or_a_plausible_challenge_get_no_reply(
    method: str, headers: object
) -> None:
    assert _okta().unsigned_handshake_reply(method, "", headers) is None  # type: ignore[arg-type]


# -- schemes without handshakes -----------------------------------------------------------------


def test_schemes_without_a_handshake_answer_nothing() -> None:
    body = b'{"challenge":"abc","type":"url_verification"}'
    verifier, verified = _signed(GitHub(), "github-secret", body)
    assert verifier.handshake_reply(verified) is None
    assert verifier.unsigned_handshake_reply("GET", "challenge=abc&hub.challenge=abc", {}) is None
