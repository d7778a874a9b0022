"""GooglePubSub: OIDC bearer tokens signed with test RSA keys, checked against a JWK set served
by the loopback HTTPS test server (never Google's). Google's documented push body is reused for
its structure; every token is signed with a TEST KEY."""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
import warnings

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hookseal import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    Verifier,
)
from hookseal.published_keys import KeyUnavailable, PublishedKeys
from hookseal.schemes.gcp_pubsub import GooglePubSub, PubSubSigningKey, push_body
from hookseal.stores.memory import MemoryNonceStore

# PyJWT comes with the gcp extra: the no-extras session deselects this module.
jwt = pytest.importorskip("jwt")
from jwt.algorithms import RSAAlgorithm  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.extras]

AUDIENCE = "https://example.com/pubsub/push"
ACCOUNT = "push@my-project.iam.gserviceaccount.com"
NOW = 1_767_000_000
CERTS = "/oauth2/v3/certs"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str, **extra) -> dict:
    entry = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**entry, "kid": kid, "alg": "RS256", "use": "sig", **extra}


def jwks(*entries: dict) -> bytes:
    return json.dumps({"keys": list(entries)}).encode()


@pytest.fixture
def keys(key_server, rsa_key) -> PublishedKeys:
    key_server.serve(CERTS, jwks(jwk(rsa_key, "k1")))
    return key_server.published_keys()


@pytest.fixture
def scheme(key_server, keys) -> GooglePubSub:
    return GooglePubSub(
        service_account=ACCOUNT, published_keys=keys, certs_url=key_server.url(CERTS)
    )


@pytest.fixture
def signing_key(rsa_key) -> PubSubSigningKey:
    return PubSubSigningKey(rsa_key, "k1", AUDIENCE, email=ACCOUNT)


def make_verifier(scheme, audiences=(AUDIENCE,), **options) -> Verifier:
    options.setdefault("nonce_store", MemoryNonceStore())
    return Verifier(scheme, list(audiences), **options)


def token(key: rsa.RSAPrivateKey | bytes | str | None, claims=None, headers=None, alg="RS256"):
    payload = {
        "aud": AUDIENCE,
        "iss": "https://accounts.google.com",
        "iat": NOW - 10,
        "exp": NOW + 3590,
        "email": ACCOUNT,
        "email_verified": True,
        "sub": "1",
    }
    payload.update(claims or {})
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": "k1", **(headers or {})})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


BODY = push_body("2070443601311540", b"Hello Cloud Pub/Sub! Here is my message!")


# -- accepted ---------------------------------------------------------------------------------


def test_a_signed_push_is_accepted_once(scheme, signing_key, key_server) -> None:
    verifier = make_verifier(scheme)
    headers = Signer(scheme, signing_key).sign(BODY, timestamp=NOW - 5)
    verified = verifier.verify(BODY, headers, now=NOW)
    assert verified.msg_id == "2070443601311540"
    assert verified.key_id == "k1"
    assert verified.key_index == 0
    assert verified.scheme == "gcp-pubsub"
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, headers, now=NOW + 1)
    assert key_server.hits == {CERTS: 1}


def test_google_documented_push_body_with_a_test_token(scheme, rsa_key) -> None:
    """The push request example of Google's "Push subscriptions" page (structure reused; the
    token is SIGNED WITH A TEST KEY, Google's signature needs Google's key)."""
    body = json.dumps(
        {
            "message": {
                "attributes": {"key": "value"},
                "data": "SGVsbG8gQ2xvdWQgUHViL1N1YiEgSGVyZSBpcyBteSBtZXNzYWdlIQ==",
                "messageId": "2070443601311540",
                "message_id": "2070443601311540",
                "publishTime": "2021-02-26T19:13:55.749Z",
                "publish_time": "2021-02-26T19:13:55.749Z",
            },
            "subscription": "projects/myproject/subscriptions/mysubscription",
        }
    ).encode()
    verified = make_verifier(scheme).verify(body, bearer(token(rsa_key)), now=NOW)
    data = base64.b64decode(verified.json()["message"]["data"])
    assert data == b"Hello Cloud Pub/Sub! Here is my message!"


def test_both_google_issuers_are_accepted(scheme, rsa_key) -> None:
    verifier = make_verifier(scheme)
    for index, issuer in enumerate(("accounts.google.com", "https://accounts.google.com")):
        verifier.verify(push_body(f"m{index}"), bearer(token(rsa_key, {"iss": issuer})), now=NOW)


def test_the_key_index_names_the_matching_audience(scheme, rsa_key) -> None:
    verifier = make_verifier(scheme, audiences=("https://other.example/", AUDIENCE))
    assert verifier.verify(BODY, bearer(token(rsa_key)), now=NOW).key_index == 1


def test_without_service_account_any_google_sender_is_accepted(key_server, keys, rsa_key) -> None:
    scheme = GooglePubSub(published_keys=keys, certs_url=key_server.url(CERTS))
    claims = {"email": "someone@else.iam.gserviceaccount.com"}
    make_verifier(scheme).verify(BODY, bearer(token(rsa_key, claims)), now=NOW)


def test_a_replayed_message_id_with_another_token_or_body_is_refused(scheme, rsa_key) -> None:
    verifier = make_verifier(scheme)
    verifier.verify(BODY, bearer(token(rsa_key)), now=NOW)
    other_body = push_body("2070443601311540", b"different data")
    with pytest.raises(ReplayedDelivery):
        verifier.verify(other_body, bearer(token(rsa_key, {"iat": NOW - 5})), now=NOW)


# -- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "https://attacker.example/"}, "wrong_audience"),
        ({"aud": [AUDIENCE]}, "wrong_audience"),
        ({"aud": None}, "wrong_audience"),
        ({"iss": "https://evil.example"}, "wrong_issuer"),
        ({"iss": "accounts.google.com.evil"}, "wrong_issuer"),
        ({"iss": None}, "wrong_issuer"),
        ({"email": "attacker@evil.iam.gserviceaccount.com"}, "wrong_sender"),
        ({"email_verified": False}, "wrong_sender"),
        ({"email_verified": "true"}, "wrong_sender"),
        ({"email": None}, "wrong_sender"),
    ],
)
def test_claims_that_do_not_match_are_refused(scheme, rsa_key, claims, reason) -> None:
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(BODY, bearer(token(rsa_key, claims)), now=NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iat": NOW - 3700, "exp": NOW - 100}, "timestamp_too_old"),
        ({"iat": NOW - 3600 - 61, "exp": NOW - 61}, "timestamp_too_old"),
        ({"iat": NOW + 61, "exp": NOW + 3600}, "timestamp_in_future"),
        ({"iat": NOW - 10, "exp": NOW + 86400}, "timestamp_too_old"),  # lifetime too long
        ({"iat": NOW, "exp": NOW}, "timestamp_too_old"),
    ],
)
def test_token_times(scheme, rsa_key, claims, reason) -> None:
    with pytest.raises(TimestampOutOfTolerance) as caught:
        make_verifier(scheme).verify(BODY, bearer(token(rsa_key, claims)), now=NOW)
    assert caught.value.reason == reason


def test_the_leeway_is_honoured(scheme, rsa_key) -> None:
    claims = {"iat": NOW - 3600 - 59, "exp": NOW - 59}
    make_verifier(scheme).verify(BODY, bearer(token(rsa_key, claims)), now=NOW)


@pytest.mark.parametrize("claims", [{"iat": None}, {"exp": None}, {"iat": 1.5}, {"exp": "1"}])
def test_missing_or_non_integer_times_are_malformed(scheme, rsa_key, claims) -> None:
    with pytest.raises(MalformedHeader) as caught:
        make_verifier(scheme).verify(BODY, bearer(token(rsa_key, claims)), now=NOW)
    assert caught.value.reason == "malformed_timestamp"


def test_alg_none_is_refused_without_a_download(scheme, keys) -> None:
    unsigned = token(None, alg="none")
    assert unsigned.endswith(".")
    with pytest.raises(MalformedHeader):
        make_verifier(scheme).verify(BODY, bearer(unsigned), now=NOW)
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(BODY, bearer(unsigned + "AAAA"), now=NOW)
    assert caught.value.reason == "algorithm_mismatch"
    assert keys.fetch_count == 0


def test_hs256_keyed_with_the_public_key_is_refused(scheme, keys, rsa_key) -> None:
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import hashlib
    import hmac as _hmac

    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode()
    ).rstrip(b"=")
    payload_claims = {
        "aud": AUDIENCE,
        "iss": "https://accounts.google.com",
        "iat": NOW,
        "exp": NOW + 600,
        "email": ACCOUNT,
        "email_verified": True,
    }
    payload = base64.urlsafe_b64encode(json.dumps(payload_claims).encode()).rstrip(b"=")
    mac = _hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    forged = (header + b"." + payload + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(BODY, bearer(forged), now=NOW)
    assert caught.value.reason == "algorithm_mismatch"
    # Even with the alg header claiming RS256, the HMAC is not an RSA signature.
    header_rs = base64.urlsafe_b64encode(json.dumps({"alg": "RS256", "kid": "k1"}).encode()).rstrip(
        b"="
    )
    mac = _hmac.new(public_pem, header_rs + b"." + payload, hashlib.sha256).digest()
    forged = (
        header_rs + b"." + payload + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")
    ).decode()
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(BODY, bearer(forged), now=NOW)
    assert caught.value.reason == "signature_mismatch"


@pytest.mark.parametrize("alg", ["RS512", "PS256", "ES256"])
def test_other_algorithms_are_refused(scheme, keys, alg) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = (
        ec.generate_private_key(ec.SECP256R1())
        if alg == "ES256"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(BODY, bearer(token(key, alg=alg)), now=NOW)
    assert caught.value.reason == "algorithm_mismatch"
    assert keys.fetch_count == 0


def test_a_token_signed_by_another_key_with_a_known_kid_is_refused(scheme) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignatureMismatch) as caught:
        make_verifier(scheme).verify(BODY, bearer(token(other)), now=NOW)
    assert caught.value.reason == "signature_mismatch"


def test_a_tampered_payload_is_refused(scheme, rsa_key) -> None:
    head, payload, signature = token(rsa_key).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["email"] = "attacker@evil.example"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(SignatureMismatch):
        make_verifier(scheme).verify(BODY, bearer(f"{head}.{forged_payload}.{signature}"), now=NOW)


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, MissingHeader),
        ({"Authorization": ""}, MissingHeader),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, MalformedHeader),
        ({"Authorization": "Bearer"}, MalformedHeader),
        ({"Authorization": "Bearer  a.b.c"}, MalformedHeader),
        ({"Authorization": "Bearer a.b"}, MalformedHeader),
        ({"Authorization": "Bearer a.b.c.d"}, MalformedHeader),
        ({"Authorization": "Bearer a.b.c"}, MalformedHeader),
        ({"Authorization": "Bearer é.b.c"}, MalformedHeader),
        ({"Authorization": "Bearer " + "a" * 5000 + ".b.c"}, MalformedHeader),
    ],
)
def test_malformed_authorization(scheme, keys, headers, error) -> None:
    with pytest.raises(error):
        make_verifier(scheme).verify(BODY, headers, now=NOW)
    assert keys.fetch_count == 0


def test_duplicate_authorization_lines_are_refused(scheme, rsa_key) -> None:
    lines = [("Authorization", f"Bearer {token(rsa_key)}")] * 2
    with pytest.raises(MalformedHeader) as caught:
        make_verifier(scheme).verify(BODY, lines, now=NOW)
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"message": {}}',
        b'{"message": {"messageId": 5}}',
        b'{"message": {"messageId": ""}}',
        b'{"message": {"messageId": "a b"}}',
        b'{"message": {"messageId": "' + b"1" * 300 + b'"}}',
        b'{"message": {"messageId": "1"}, "message": {"messageId": "2"}}',
        b"[" * 100_000,
    ],
)
def test_bodies_without_a_usable_message_id(scheme, rsa_key, keys, body) -> None:
    with pytest.raises(MalformedHeader):
        make_verifier(scheme).verify(body, bearer(token(rsa_key)), now=NOW)
    assert keys.fetch_count == 0


def test_forged_tokens_never_write_the_nonce_store(scheme) -> None:
    store = MemoryNonceStore()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = make_verifier(scheme, nonce_store=store)
    for index in range(30):
        with pytest.raises(SignatureMismatch):
            verifier.verify(push_body(f"m{index}"), bearer(token(other)), now=NOW)
    assert len(store) == 0


# -- Google's keys ------------------------------------------------------------------------------


def test_a_flood_of_unknown_key_ids_fetches_the_key_set_at_most_twice(
    scheme, rsa_key, key_server
) -> None:
    verifier = make_verifier(scheme)
    for index in range(200):
        forged = token(rsa_key, headers={"kid": f"unknown-{index}"})
        with pytest.raises(SignatureMismatch) as caught:
            verifier.verify(push_body(f"m{index}"), bearer(forged), now=NOW)
        assert caught.value.reason == "unknown_key_id"
    assert key_server.hits[CERTS] <= 2


def test_a_rotated_key_is_found_by_a_refresh(key_server, rsa_key, manual_clock) -> None:
    keys = key_server.published_keys(clock=manual_clock, retry_after=60)
    key_server.serve(CERTS, jwks(jwk(rsa_key, "k1")))
    scheme = GooglePubSub(published_keys=keys, certs_url=key_server.url(CERTS))
    verifier = make_verifier(scheme)
    verifier.verify(push_body("m1"), bearer(token(rsa_key)), now=NOW)
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_server.serve(CERTS, jwks(jwk(rsa_key, "k1"), jwk(new_key, "k2")))
    manual_clock.advance(61)
    rotated = token(new_key, headers={"kid": "k2"})
    assert verifier.verify(push_body("m2"), bearer(rotated), now=NOW).key_id == "k2"
    assert key_server.hits[CERTS] == 2


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"{}",
        b'{"keys": []}',
        b'{"keys": [{"kty": "EC", "kid": "k1"}]}',
    ],
)
def test_an_unusable_key_set_is_a_503(key_server, rsa_key, document) -> None:
    key_server.serve(CERTS, document)
    keys = key_server.published_keys()
    scheme = GooglePubSub(published_keys=keys, certs_url=key_server.url(CERTS))
    with pytest.raises(KeyUnavailable):
        make_verifier(scheme).verify(BODY, bearer(token(rsa_key)), now=NOW)


def test_weak_or_non_rs256_keys_in_the_set_are_ignored(key_server, rsa_key) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    key_server.serve(
        CERTS,
        jwks(jwk(weak, "weak"), jwk(rsa_key, "k1", alg="RS512"), jwk(rsa_key, "enc", use="enc")),
    )
    scheme = GooglePubSub(
        published_keys=key_server.published_keys(), certs_url=key_server.url(CERTS)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns about signing with a 1024-bit key
        weak_token = token(weak, headers={"kid": "weak"})
    with pytest.raises(KeyUnavailable):
        make_verifier(scheme).verify(BODY, bearer(weak_token), now=NOW)


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"service_account": "not-an-email"},
        {"service_account": " push@x.iam.gserviceaccount.com"},
        {"leeway": -1},
        {"leeway": 1.5},
        {"max_token_lifetime": 10**9},
        {"published_keys": object()},
        {"certs_url": "https://evil.example/oauth2/v3/certs"},
        {"certs_url": "https://127.0.0.1:8443/oauth2/v3/certs"},
        {"replay_scope": "a\nb"},
    ],
)
def test_bad_options_raise_configuration_error(options) -> None:
    with pytest.raises(ConfigurationError):
        GooglePubSub(**options)


@pytest.mark.parametrize("audiences", [[], [""], [" x"], ["a\tb"], [5], 5])
def test_bad_audiences_raise_configuration_error(audiences) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(GooglePubSub(), audiences)


def test_signer_needs_a_pubsub_signing_key(scheme) -> None:
    with pytest.raises(ConfigurationError):
        Signer(scheme, "secret")


def test_without_pyjwt_the_error_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['jwt'] = None\n"
        "from hookseal import ConfigurationError\n"
        "from hookseal.schemes.gcp_pubsub import GooglePubSub\n"
        "try:\n    GooglePubSub()\nexcept ConfigurationError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "hookseal[gcp]" in out.stdout


def test_importing_hookseal_loads_neither_module() -> None:
    code = (
        "import sys, hookseal, hookseal.schemes\n"
        "print(sorted(m for m in sys.modules if m.startswith(('jwt', 'hookseal.published',"
        " 'http.client'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- async --------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_aprepare_then_averify(scheme, rsa_key) -> None:
    verifier = make_verifier(scheme)
    headers = bearer(token(rsa_key))
    await scheme.aprepare(BODY, headers, verifier._keys, verifier.limits, NOW)
    assert (await verifier.averify(BODY, headers, now=NOW)).key_id == "k1"


@pytest.mark.asyncio
async def test_averify_on_a_cold_cache_downloads_the_keys_first_and_accepts(
    scheme, rsa_key
) -> None:
    verified = await make_verifier(scheme).averify(BODY, bearer(token(rsa_key)), now=NOW)
    assert verified.msg_id is not None


def test_mutated_tokens_and_bodies_raise_only_verification_errors(scheme, rsa_key) -> None:
    import random

    from hookseal import VerificationError

    rng = random.Random(21)
    verifier = make_verifier(scheme, nonce_store=None)
    good = token(rsa_key)
    alphabet = "ABCDEFabcdef0123456789-_.=+/ é"
    for _ in range(300):
        chars = list(good)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice(alphabet)
        body = bytearray(BODY)
        body[rng.randrange(len(body))] = rng.randrange(256)
        for candidate_body in (BODY, bytes(body)):
            with contextlib.suppress(VerificationError):
                verifier.verify(candidate_body, bearer("".join(chars)), now=NOW)
