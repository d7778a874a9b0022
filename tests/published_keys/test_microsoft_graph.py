"""MicrosoftGraph: clientState per notification, validation tokens signed with TEST KEYS.

Graph's documented basic notification (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks)
is reused for its structure by :func:`notification_body`; Graph signs nothing a third party can
reproduce, so the clientState tests are derived from the documented rules. The validation
tokens follow the claims of Microsoft's documented example token
(https://learn.microsoft.com/graph/change-notifications-with-resource-data, "Example JWT
token": ``aud`` the app id, ``iss`` ``https://sts.windows.net/<tid>/``, ``appid`` the change
tracking app, ``ver`` 1.0), signed with a TEST KEY and served as a JWK set by the loopback HTTPS
test server (never Microsoft's).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from typing import Any
from unittest import mock

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from hookseal import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    TimestampOutOfTolerance,
    Verifier,
)
from hookseal.published_keys import KeyUnavailable
from hookseal.schemes import _sent_secrets as sent_secrets_module
from hookseal.schemes.microsoft_graph import (
    GRAPH_CHANGE_TRACKING_APP_ID,
    MicrosoftGraph,
    notification_body,
    validation_reply,
)
from hookseal.stores.memory import MemoryNonceStore
from stable_ids import stable_repr

CLIENT_STATE = "secretClientValue-9a3f1e"
OTHER_STATE = "rotatedClientState-77"
APP_ID = "8e460676-ae3f-4b1e-8790-ee0fb5d6148f"
TENANT = "84bd8158-6d4d-4958-8b9f-9d6445542f95"
NOW = 1_767_000_000
KEYS = "/common/discovery/keys"


def collection(*items: dict[str, Any], tokens: list[Any] | None = None) -> bytes:
    document: dict[str, Any] = {"value": list(items)}
    if tokens is not None:
        document["validationTokens"] = tokens
    return json.dumps(document).encode()


def item(state: Any = CLIENT_STATE, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(notification_body(CLIENT_STATE))["value"][0]
    entry["clientState"] = state
    entry.update(changes)
    return {name: value for name, value in entry.items() if value is not None}


def basic(*secrets: str, **options: Any) -> Verifier:
    scheme_options = {
        name: options.pop(name)
        for name in ("max_notifications", "dedupe_identical")
        if name in options
    }
    options.setdefault("nonce_store", None)
    return Verifier(MicrosoftGraph(**scheme_options), list(secrets or [CLIENT_STATE]), **options)


# -- the validationToken handshake ------------------------------------------------------------


GRAPH_TOKEN = (
    "Validation: Testing client application reachability for subscription Request-Id: "
    "95ddc6c4-6cbd-4e3c-9b7f-4b5a2c7d1e90"
)


def test_validation_request_is_echoed_as_plain_text() -> None:
    query = "validationToken=" + urllib.parse.quote_plus(GRAPH_TOKEN)
    reply = basic().unsigned_handshake_reply("POST", query, {"Content-Type": "text/plain"})
    assert reply is not None
    assert reply.status == 200
    assert reply.body == GRAPH_TOKEN.encode()
    assert reply.content_type.startswith("text/plain")
    assert ("X-Content-Type-Options", "nosniff") in reply.all_headers()
    # The notification URL may carry its own query parameters.
    mixed = "tenant=contoso&" + query
    assert basic().unsigned_handshake_reply("post", mixed, {}) is not None


@pytest.mark.parametrize(
    ("method", "query"),
    [
        ("GET", "validationToken=abc"),
        ("PUT", "validationToken=abc"),
        ("POST", ""),
        ("POST", "validationtoken=abc"),
        ("POST", "validationToken=a&validationToken=b"),
        ("POST", "validationToken="),
        ("POST", "validationToken=" + urllib.parse.quote("<script>alert(1)</script>")),
        ("POST", "validationToken=" + urllib.parse.quote("a\r\nSet-Cookie: x=1")),
        ("POST", "validationToken=" + "a" * 513),
        ("POST", "validationToken=" + urllib.parse.quote("café")),
    ],
)
def test_anything_else_is_no_validation_request(method: str, query: str) -> None:
    assert basic().unsigned_handshake_reply(method, query, {}) is None


def test_validation_reply_function() -> None:
    assert validation_reply("POST", {"validationToken": ["t"]}) is not None
    assert validation_reply("POST", {"validationToken": ["t", "u"]}) is None
    assert validation_reply("GET", {"validationToken": ["t"]}) is None


def test_a_validation_request_is_no_delivery() -> None:
    """Sent to verify(), Graph's validation request (no body) is refused, never accepted."""
    with pytest.raises(MalformedHeader):
        basic().verify(b"", {"Content-Type": "text/plain"})


# -- clientState ---------------------------------------------------------------------------------


def test_documented_basic_notification_is_accepted() -> None:
    body = notification_body(CLIENT_STATE, notification_id="lsgTZMr9KwAAA")
    verified = basic().verify(body, {"Content-Type": "application/json"})
    assert verified.scheme == "microsoft-graph"
    assert verified.body == body
    assert verified.timestamp is None
    assert verified.msg_id == "lsgTZMr9KwAAA"
    assert verified.key_index == 0


def test_every_notification_is_checked() -> None:
    good = item()
    bad = item("wrong-client-state")
    for items in ((good, bad), (bad, good), (good, good, good, bad)):
        with pytest.raises(SignatureMismatch) as info:
            basic().verify(collection(*items), {})
        assert info.value.reason == "signature_mismatch"
        assert info.value.header == "clientState"
    basic().verify(collection(good, good), {})


def test_rotation_any_configured_client_state() -> None:
    verified = basic(OTHER_STATE, CLIENT_STATE).verify(collection(item()), {})
    assert verified.key_index == 1
    mixed = collection(item(), item(OTHER_STATE))
    basic(OTHER_STATE, CLIENT_STATE).verify(mixed, {})


@pytest.mark.parametrize(
    "state",
    [
        CLIENT_STATE[:-1],
        CLIENT_STATE + "x",
        CLIENT_STATE.upper(),
        " " + CLIENT_STATE,
        CLIENT_STATE + "\n",
        CLIENT_STATE + "\u0000",
        "é" + CLIENT_STATE,
        "\ud800",
    ],
)
def test_near_misses_are_refused(state: str) -> None:
    with pytest.raises(SignatureMismatch):
        basic().verify(collection(item(state)), {})


@pytest.mark.parametrize("state", [None, ""])
def test_missing_client_state(state: Any) -> None:
    with pytest.raises(MissingHeader) as info:
        basic().verify(collection(item(state)), {})
    assert info.value.header == "clientState"


@pytest.mark.parametrize("state", [1, ["x"], {"a": 1}, True, "x" * 129])
def test_malformed_client_state(state: Any) -> None:
    with pytest.raises(MalformedHeader):
        basic().verify(collection(item(state)), {})


def test_client_states_are_compared_as_equal_length_digests() -> None:
    """No length or prefix timing: every comparison is of two 32-byte keyed digests."""
    calls: list[tuple[bytes, bytes]] = []
    real = sent_secrets_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    verifier = basic(OTHER_STATE, CLIENT_STATE)
    with (
        mock.patch.object(sent_secrets_module.hmac, "compare_digest", spy),
        pytest.raises(SignatureMismatch),
    ):
        verifier.verify(collection(item("x"), item()), {})
    assert len(calls) == 4  # every notification against every secret, no early exit
    assert all(len(a) == len(b) == 32 for a, b in calls)
    assert all(CLIENT_STATE.encode() not in (a, b) for a, b in calls)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"value": []}',
        b'{"value": {}}',
        b'{"value": [1]}',
        b'{"value": [{"clientState": "' + CLIENT_STATE.encode() + b'"}]}',
        b'{"value": [], "value": []}',
        b'{"value": [{"subscriptionId": NaN}]}',
        b"\xff\xfe",
        b"[" * 50_000 + b"]" * 50_000,
    ],
)
def test_bodies_that_are_no_collection(body: bytes) -> None:
    with pytest.raises(MalformedHeader) as info:
        basic().verify(body, {})
    assert info.value.reason == "malformed_body"


def test_nesting_is_bounded() -> None:
    deep: Any = "leaf"
    for _ in range(40):
        deep = [deep]
    with pytest.raises(MalformedHeader) as info:
        basic().verify(collection(item(resourceData=deep)), {})
    assert info.value.reason == "malformed_body"
    shallow: Any = "leaf"
    for _ in range(20):
        shallow = [shallow]
    basic().verify(collection(item(resourceData=shallow)), {})


def test_notification_count_is_bounded() -> None:
    body = collection(*[item()] * 11)
    with pytest.raises(MalformedHeader) as info:
        basic(max_notifications=10).verify(body, {})
    assert info.value.reason == "too_many_signatures"
    basic(max_notifications=11).verify(body, {})


@pytest.mark.parametrize(
    "changes",
    [
        {"subscriptionId": None},
        {"subscriptionId": ""},
        {"subscriptionId": 7},
        {"subscriptionId": "a" * 300},
        {"subscriptionId": "a b"},
        {"id": ""},
        {"id": 5},
        {"id": "x" * 300},
    ],
)
def test_ids_are_bounded(changes: dict[str, Any]) -> None:
    entry = item()
    for name, value in changes.items():
        if value is None:
            entry.pop(name)
        else:
            entry[name] = value
    with pytest.raises(MalformedHeader):
        basic().verify(collection(entry), {})


def test_replay_identity_is_subscription_and_notification_id() -> None:
    store = MemoryNonceStore()
    body = collection(item(id="n-1"), item(id="n-2"))
    v = basic(nonce_store=store)
    assert len(v.verify(body, {}).replay_keys) == 2
    with pytest.raises(ReplayedDelivery):
        v.verify(body, {})
    # The same notification inside another batch is a replay too.
    with pytest.raises(ReplayedDelivery):
        v.verify(collection(item(id="n-3"), item(id="n-2")), {})
    # The same id under another subscription is another notification.
    other = collection(item(id="n-1", subscriptionId="another-subscription"))
    v.verify(other, {})
    # Another worker with its secrets in another order refuses the replay too.
    with pytest.raises(ReplayedDelivery):
        basic(OTHER_STATE, CLIENT_STATE, nonce_store=store).verify(body, {})


def test_notifications_without_id_are_not_recorded_by_default() -> None:
    """Two identical changes produce byte-identical notifications: recording them would
    refuse the second genuine one."""
    store = MemoryNonceStore()
    body = collection(item())
    verified = basic(nonce_store=store).verify(body, {})
    assert verified.replay_keys == ()
    assert not verified.recorded
    basic(nonce_store=store).verify(body, {})


def test_dedupe_identical_records_a_digest() -> None:
    store = MemoryNonceStore()
    v = basic(nonce_store=store, dedupe_identical=True)
    body = collection(item())
    assert len(v.verify(body, {}).replay_keys) == 1
    with pytest.raises(ReplayedDelivery):
        v.verify(body, {})
    # Same content, other member order or spacing: the same notification.
    reordered = json.dumps({"value": [dict(reversed(list(item().items())))]}, indent=1).encode()
    with pytest.raises(ReplayedDelivery):
        v.verify(reordered, {})
    v.verify(collection(item(changeType="updated")), {})


@pytest.mark.parametrize(
    "secret", ["", " padded ", "x" * 129, "with space", "tab\there", "é"], ids=stable_repr
)
def test_bad_client_state_configuration(secret: str) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(MicrosoftGraph(), [secret])


@pytest.mark.parametrize(
    "options",
    [
        {"app_ids": "not-a-guid"},
        {"app_ids": []},
        {"app_ids": [APP_ID, 5]},
        {"app_ids": 5},
        {"app_ids": [APP_ID], "tenant_ids": 5},
        {"tenant_ids": [TENANT]},
        {"max_notifications": 0},
        {"leeway": -1},
        {"max_token_lifetime": True},
        {"dedupe_identical": "yes"},
        {"keys_url": "https://evil.example/common/discovery/keys"},
        {"keys_url": "http://login.microsoftonline.com/common/discovery/keys"},
        {"published_keys": object()},
    ],
)
def test_bad_scheme_configuration(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        MicrosoftGraph(**options)


def test_nothing_secret_leaks() -> None:
    with pytest.raises(SignatureMismatch) as info:
        basic().verify(collection(item("forged-state")), {})
    text = str(info.value) + repr(info.value)
    for leak in (CLIENT_STATE, "forged-state", "Messages/AAMk"):
        assert leak not in text
    v = basic()
    assert CLIENT_STATE not in repr(v)
    assert CLIENT_STATE not in repr(v.scheme)
    assert MicrosoftGraph.sends_secret is True


def test_options_are_read_only_once_used() -> None:
    scheme = MicrosoftGraph()
    Verifier(scheme, [CLIENT_STATE])
    with pytest.raises(AttributeError):
        scheme.max_notifications = 5


# -- validation tokens (rich notifications) -----------------------------------------------------

jwt = pytest.importorskip("jwt")
from jwt.algorithms import RSAAlgorithm  # noqa: E402


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(key: rsa.RSAPrivateKey, kid: str = "k1") -> bytes:
    entry = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return json.dumps({"keys": [{**entry, "kid": kid, "use": "sig"}]}).encode()


def token(key: Any, claims: dict[str, Any] | None = None, **options: Any) -> str:
    """A validation token with the claims of Microsoft's documented example (v1)."""
    payload: dict[str, Any] = {
        "aud": APP_ID,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": NOW - 60,
        "nbf": NOW - 60,
        "exp": NOW + 29_000,
        "aio": "42FgYKhZ+uOZrHa7p+7tfruauq1HAA==",
        "appid": GRAPH_CHANGE_TRACKING_APP_ID,
        "appidacr": "2",
        "idp": f"https://sts.windows.net/{TENANT}/",
        "tid": TENANT,
        "uti": "-KoJHevhgEGnN4kwuixpAA",
        "ver": "1.0",
    }
    payload.update(claims or {})
    payload = {name: value for name, value in payload.items() if value is not None}
    headers = {"kid": options.pop("kid", "k1")}
    return str(jwt.encode(payload, key, algorithm=options.pop("alg", "RS256"), headers=headers))


def hs256_token(secret: bytes) -> str:
    """Key confusion: an HS256 token keyed with the published key set (PyJWT refuses to make
    one, so it is assembled by hand)."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    claims = json.loads(base64.urlsafe_b64decode(token_payload() + "=="))
    payload = b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


def token_payload() -> str:
    return token(rsa.generate_private_key(public_exponent=65537, key_size=2048)).split(".")[1]


@pytest.fixture
def rich(key_server: Any, rsa_key: rsa.RSAPrivateKey) -> Any:
    key_server.serve(KEYS, jwks(rsa_key))

    def make(*secrets: str, **options: Any) -> Verifier:
        verifier_options = {
            name: options.pop(name) for name in ("nonce_store", "max_signatures") if name in options
        }
        verifier_options.setdefault("nonce_store", None)
        options.setdefault("app_ids", [APP_ID])
        options.setdefault("published_keys", key_server.published_keys())
        scheme = MicrosoftGraph(keys_url=key_server.url(KEYS), **options)
        return Verifier(scheme, list(secrets or [CLIENT_STATE]), **verifier_options)

    return make


pytestmark = [pytest.mark.server, pytest.mark.extras]


def rich_body(*tokens: Any, items: tuple[dict[str, Any], ...] = ()) -> bytes:
    return collection(*(items or (item(id="n-1"),)), tokens=list(tokens))


def test_a_rich_notification_with_a_valid_token_is_accepted(rich: Any, rsa_key: Any) -> None:
    verified = rich().verify(rich_body(token(rsa_key)), {}, now=NOW)
    assert verified.scheme == "microsoft-graph"
    assert verified.msg_id == "n-1"


def test_a_v2_token_is_accepted(rich: Any, rsa_key: Any) -> None:
    v2 = {
        "ver": "2.0",
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "azp": GRAPH_CHANGE_TRACKING_APP_ID,
        "appid": None,
    }
    rich().verify(rich_body(token(rsa_key, v2)), {}, now=NOW)
    # A v2 token naming the publisher only as appid is not vouched for.
    with pytest.raises(SignatureMismatch) as info:
        rich().verify(
            rich_body(token(rsa_key, {**v2, "azp": None, "appid": v2["azp"]})), {}, now=NOW
        )
    assert info.value.reason == "wrong_sender"


def test_the_documented_example_notification_shape(rich: Any, rsa_key: Any) -> None:
    body = notification_body(CLIENT_STATE, validation_tokens=[token(rsa_key)])
    rich().verify(body, {}, now=NOW)


@pytest.mark.parametrize(
    ("claims", "error", "reason"),
    [
        ({"aud": "00000000-0000-0000-0000-000000000001"}, SignatureMismatch, "wrong_audience"),
        ({"aud": None}, SignatureMismatch, "wrong_audience"),
        ({"aud": [APP_ID]}, SignatureMismatch, "wrong_audience"),
        ({"appid": "00000000-0000-0000-0000-000000000002"}, SignatureMismatch, "wrong_sender"),
        ({"appid": None}, SignatureMismatch, "wrong_sender"),
        ({"azp": GRAPH_CHANGE_TRACKING_APP_ID, "appid": None}, SignatureMismatch, "wrong_sender"),
        ({"iss": "https://sts.windows.net/attacker/"}, SignatureMismatch, "wrong_issuer"),
        (
            {"iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000003/"},
            SignatureMismatch,
            "wrong_issuer",
        ),
        (
            {"iss": f"https://login.microsoftonline.com/{TENANT}/v2.0"},
            SignatureMismatch,
            "wrong_issuer",
        ),
        ({"tid": None}, MalformedHeader, "malformed_header"),
        ({"exp": NOW - 301}, TimestampOutOfTolerance, "timestamp_too_old"),
        (
            {"iat": NOW + 301, "nbf": NOW + 301, "exp": NOW + 3600},
            TimestampOutOfTolerance,
            "timestamp_in_future",
        ),
        ({"nbf": NOW + 301}, TimestampOutOfTolerance, "timestamp_in_future"),
        ({"iat": NOW - 100_000, "exp": NOW + 10}, TimestampOutOfTolerance, "timestamp_too_old"),
        ({"exp": "soon"}, MalformedHeader, "malformed_timestamp"),
        ({"iat": 1.5}, MalformedHeader, "malformed_timestamp"),
    ],
)
def test_token_claims_are_checked(
    rich: Any, rsa_key: Any, claims: dict[str, Any], error: type[Exception], reason: str
) -> None:
    with pytest.raises(error) as info:
        rich().verify(rich_body(token(rsa_key, claims)), {}, now=NOW)
    assert info.value.reason == reason  # type: ignore[attr-defined]


def test_tenant_ids_restrict_tokens(rich: Any, rsa_key: Any) -> None:
    rich(tenant_ids=[TENANT.upper()]).verify(rich_body(token(rsa_key)), {}, now=NOW)
    with pytest.raises(SignatureMismatch) as info:
        rich(tenant_ids=["00000000-0000-0000-0000-000000000004"]).verify(
            rich_body(token(rsa_key)), {}, now=NOW
        )
    assert info.value.reason == "wrong_issuer"


def test_every_notification_tenant_must_be_covered(rich: Any, rsa_key: Any) -> None:
    other_tenant = item(id="n-2", tenantId="00000000-0000-0000-0000-000000000005")
    with pytest.raises(SignatureMismatch) as info:
        rich().verify(rich_body(token(rsa_key), items=(item(id="n-1"), other_tenant)), {}, now=NOW)
    assert info.value.reason == "wrong_tenant"


def test_every_token_must_be_valid(rich: Any, rsa_key: Any) -> None:
    good = token(rsa_key)
    bad = token(rsa_key, {"aud": "00000000-0000-0000-0000-000000000001"})
    for tokens in ((good, bad), (bad, good)):
        with pytest.raises(SignatureMismatch):
            rich().verify(rich_body(*tokens), {}, now=NOW)


def test_tokens_are_required_with_app_ids(rich: Any) -> None:
    with pytest.raises(MissingHeader) as info:
        rich().verify(collection(item()), {}, now=NOW)
    assert info.value.header == "validationTokens"
    for tokens in ([], "a.b.c", [5], ["not a jwt"], ["a.b.c" + "x" * 5000]):
        body = json.dumps({"value": [item()], "validationTokens": tokens}).encode()
        with pytest.raises(MalformedHeader):
            rich().verify(body, {}, now=NOW)


def test_forged_tokens_are_refused(rich: Any, rsa_key: Any, key_server: Any) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key_server.routes[KEYS].body
    genuine = token(rsa_key)
    header, payload, signature = genuine.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BA")
    cases = [
        (token(other_key), SignatureMismatch, "signature_mismatch"),
        (f"{header}.{payload}.{flipped}", SignatureMismatch, "signature_mismatch"),
        (token(rsa_key, kid="unknown-kid"), SignatureMismatch, "unknown_key_id"),
        # alg=none: no signature segment, not even a well-formed signed JWT
        (token(None, alg="none"), MalformedHeader, "malformed_header"),
        (token(None, alg="none") + "AAAA", SignatureMismatch, "algorithm_mismatch"),
        (hs256_token(public_pem), SignatureMismatch, "algorithm_mismatch"),
        (token(rsa_key, alg="RS512"), SignatureMismatch, "algorithm_mismatch"),
    ]
    for value, error, reason in cases:
        with pytest.raises(error) as info:
            rich().verify(rich_body(value), {}, now=NOW)
        assert info.value.reason == reason, value


def test_clientstate_is_checked_before_any_key_download(
    rich: Any, rsa_key: Any, key_server: Any
) -> None:
    """Traffic without the clientState never makes this process fetch keys."""
    body = collection(item("forged-state"), tokens=[token(rsa_key)])
    for _ in range(5):
        with pytest.raises(SignatureMismatch):
            rich().verify(body, {}, now=NOW)
    assert key_server.hits.get(KEYS, 0) == 0


def test_too_many_tokens_are_refused_before_any_download(
    rich: Any, rsa_key: Any, key_server: Any
) -> None:
    body = rich_body(*[token(rsa_key)] * 9)
    with pytest.raises(MalformedHeader) as info:
        rich().verify(body, {}, now=NOW)
    assert info.value.reason == "too_many_signatures"
    assert key_server.hits.get(KEYS, 0) == 0
    rich(max_signatures=9).verify(body, {}, now=NOW)


def test_a_flood_of_unknown_key_ids_fetches_rarely(
    rich: Any, rsa_key: Any, key_server: Any
) -> None:
    verifier = rich()
    for number in range(50):
        with pytest.raises((SignatureMismatch, KeyUnavailable)):
            verifier.verify(rich_body(token(rsa_key, kid=f"kid-{number}")), {}, now=NOW)
    assert key_server.hits.get(KEYS, 0) <= 2


def test_keys_unavailable_is_a_503(key_server: Any, rsa_key: Any) -> None:
    # A key set that is not one. (A non-200 answer is refused the same way, but leaves the
    # connection's socket to the garbage collector: see the catalog-c notes.)
    key_server.serve(KEYS, b'{"keys": "none"}')
    scheme = MicrosoftGraph(
        app_ids=[APP_ID], published_keys=key_server.published_keys(), keys_url=key_server.url(KEYS)
    )
    with pytest.raises(KeyUnavailable) as info:
        Verifier(scheme, [CLIENT_STATE], nonce_store=None).verify(
            rich_body(token(rsa_key)), {}, now=NOW
        )
    assert info.value.status_code == 503


def test_replay_of_a_rich_notification(rich: Any, rsa_key: Any) -> None:
    store = MemoryNonceStore()
    body = rich_body(token(rsa_key))
    rich(nonce_store=store).verify(body, {}, now=NOW)
    with pytest.raises(ReplayedDelivery):
        rich(nonce_store=store).verify(body, {}, now=NOW)
    # A fresh token does not make the captured notification new.
    again = rich_body(token(rsa_key, {"uti": "another"}))
    with pytest.raises(ReplayedDelivery):
        rich(nonce_store=store).verify(again, {}, now=NOW)


@pytest.mark.asyncio
async def test_averify_downloads_the_keys_off_the_event_loop(rich: Any, rsa_key: Any) -> None:
    verified = await rich().averify(rich_body(token(rsa_key)), {}, now=NOW)
    assert verified.msg_id == "n-1"


@pytest.mark.asyncio
async def test_aprepare_downloads_nothing_for_a_forged_client_state(
    rich: Any, rsa_key: Any, key_server: Any
) -> None:
    body = collection(item("forged-state"), tokens=[token(rsa_key)])
    with pytest.raises(SignatureMismatch):
        await rich().averify(body, {}, now=NOW)
    assert key_server.hits.get(KEYS, 0) == 0
