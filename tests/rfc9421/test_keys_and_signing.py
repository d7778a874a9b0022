"""Key loading (the key fixes the algorithm), Signer -> Verifier round trips for every algorithm.

Keys are RFC 9421 Appendix B.1's (https://www.rfc-editor.org/rfc/rfc9421#appendix-B.1), plus a
P-384 key generated here (the RFC publishes none).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from rfc9421_support import (
    HMAC_KEY,
    HMAC_NOW,
    PRIVATE_KEYS,
    PUBLIC_KEYS,
    SHARED_SECRET,
    crafted,
    hmac_verifier,
    key_bytes,
    signer,
)

from hookseal import ConfigurationError, SignatureMismatch, Signer, VerificationError, Verifier
from hookseal.schemes import HTTPMessageSignatures
from hookseal.schemes._rfc9421_keys import load_key

pytestmark = pytest.mark.extras

URL = "https://hooks.example.com/receive?tenant=a%20b&x=1"
BODY = b'{"event": "ping"}'
NOW = 1_700_000_000
P384 = ec.generate_private_key(ec.SECP384R1())
ALL_REQUIRED = (
    "@method",
    "@target-uri",
    "@authority",
    "@scheme",
    "@request-target",
    "@path",
    "@query",
    '"@query-param";name="tenant"',
    "content-digest",
)


def _verifier(secrets: object, required: tuple[str, ...] = ALL_REQUIRED, **kw: object) -> Verifier:
    scheme = HTTPMessageSignatures(required_components=required, **kw)
    return Verifier(scheme, secrets=secrets, nonce_store=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("keyid", "algorithm"),
    [
        ("test-key-rsa-pss", "rsa-pss-sha512"),
        ("test-key-rsa", "rsa-v1_5-sha256"),
        ("test-key-ecc-p256", "ecdsa-p256-sha256"),
        ("test-key-ed25519", "ed25519"),
        ("test-shared-secret", "hmac-sha256"),
    ],
)
def test_sign_then_verify_every_rfc_key(keyid: str, algorithm: str) -> None:
    headers = signer(keyid, ALL_REQUIRED).sign(BODY, timestamp=NOW, msg_id="n-1", url=URL)
    assert f'alg="{algorithm}"' in headers["Signature-Input"]
    assert headers["Content-Digest"].startswith("sha-256=:")
    verified = _verifier(PUBLIC_KEYS).verify(BODY, headers, url=URL, method="POST", now=NOW + 5)
    assert verified.key_id == keyid
    assert verified.msg_id == "n-1"
    assert verified.timestamp == NOW
    assert verified.key_index == list(PUBLIC_KEYS).index(keyid)


def test_ecdsa_p384_round_trip_with_key_objects() -> None:
    sign = Signer(HTTPMessageSignatures(), secret=("p384", P384))
    headers = sign.sign(BODY, timestamp=NOW, msg_id="n", url=URL)
    assert 'alg="ecdsa-p384-sha384"' in headers["Signature-Input"]
    verified = _verifier({"p384": P384.public_key()}, ("@method",)).verify(
        BODY, headers, url=URL, method="POST", now=NOW
    )
    assert verified.key_id == "p384"


def test_signer_emits_label_tag_and_both_digests() -> None:
    scheme = HTTPMessageSignatures(
        required_components=("@method", "content-digest"),
        label="hook",
        tag="app",
        digest_algorithms=("sha-512", "sha-256"),
        include_alg=False,
    )
    headers = Signer(scheme, secret=("k", SHARED_SECRET)).sign(
        b"x", timestamp=NOW, msg_id="abc", url=URL
    )
    assert headers["Signature-Input"] == (
        'hook=("@method" "content-digest");created=1700000000;keyid="k";nonce="abc";tag="app"'
    )
    assert headers["Content-Digest"].startswith("sha-512=:")
    assert ", sha-256=:" in headers["Content-Digest"]
    v = Verifier(scheme, secrets={"k": SHARED_SECRET}, nonce_store=None)
    assert v.verify(b"x", headers, url=URL, method="POST", now=NOW).key_id == "k"


def test_resolver_callable() -> None:
    calls: list[str] = []

    def resolve(keyid: str) -> object:
        calls.append(keyid)
        return PUBLIC_KEYS.get(keyid)

    headers = signer("test-key-ed25519", ALL_REQUIRED).sign(BODY, timestamp=NOW, url=URL)
    verified = _verifier(resolve).verify(BODY, headers, url=URL, method="POST", now=NOW)
    assert verified.key_id == "test-key-ed25519"
    assert calls == ["test-key-ed25519"]


def test_resolver_lookup_error_means_unknown_key() -> None:
    def resolve(keyid: str) -> object:
        raise KeyError(keyid)

    headers = signer("test-key-ed25519", ALL_REQUIRED).sign(BODY, timestamp=NOW, url=URL)
    from hookseal import SignatureMismatch

    with pytest.raises(SignatureMismatch) as info:
        _verifier(resolve).verify(BODY, headers, url=URL, method="POST", now=NOW)
    assert info.value.reason == "unknown_key_id"


# -- configuration: the key fixes the algorithm, confusion is impossible -----------------


@pytest.mark.parametrize(
    "spec",
    [
        ("hmac-sha256", key_bytes("test-key-ed25519.pub.pem")),  # HMAC keyed with a public key
        ("hmac-sha256", key_bytes("test-key-ed25519.pub.pem").decode()),
        ("hmac-sha256", ed25519.Ed25519PrivateKey.generate().public_key()),
        ("ed25519", b"0123456789abcdef0123456789abcdef"),  # raw bytes are only an HMAC secret
        ("ed25519", key_bytes("test-key-ecc-p256.pub.pem")),
        ("ecdsa-p384-sha384", key_bytes("test-key-ecc-p256.pub.pem")),
        ("rsa-pss-sha512", key_bytes("test-key-ed25519.pub.pem")),
        ("none", SHARED_SECRET),
        ("rsa-pss-sha512",),
        (1, SHARED_SECRET),
        key_bytes("test-key-rsa-pss.pub.pem"),  # RSA without a named algorithm
        key_bytes("test-key-ed25519.priv.pem"),  # private key in a verifier
        ed25519.Ed25519PrivateKey.generate(),
        "base64-text-secret",  # text that is not PEM
        "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n",
        b"short",
        b"",
        None,
        42,
        ec.generate_private_key(ec.SECP256K1()).public_key(),
    ],
)
def test_bad_verification_keys_are_refused_at_construction(spec: object) -> None:
    with pytest.raises(ConfigurationError):
        _verifier({"k": spec})


def test_explicit_algorithm_that_matches_the_key_is_accepted() -> None:
    assert (
        load_key(("ed25519", PUBLIC_KEYS["test-key-ed25519"]), private=False).algorithm == "ed25519"
    )
    assert load_key(("hmac-sha256", SHARED_SECRET), private=False).algorithm == "hmac-sha256"
    pem = serialization.load_pem_public_key(key_bytes("test-key-ecc-p256.pub.pem"))
    assert load_key(pem, private=False).algorithm == "ecdsa-p256-sha256"
    assert "**" in repr(load_key(SHARED_SECRET, private=False))


@pytest.mark.parametrize(
    "secrets",
    [
        {},
        [SHARED_SECRET],
        "secret",
        b"secret",
        {1: SHARED_SECRET},
        {"": SHARED_SECRET},
        {"k\n": SHARED_SECRET},
    ],
)
def test_bad_secrets_shapes(secrets: object) -> None:
    with pytest.raises(ConfigurationError):
        _verifier(secrets)


@pytest.mark.parametrize(
    "secret",
    [
        "test-key-ed25519",
        ("k", PUBLIC_KEYS["test-key-ed25519"]),  # public key cannot sign
        ("k", key_bytes("test-key-rsa.priv.pem")),  # RSA without algorithm
        ("", SHARED_SECRET),
        ("k", SHARED_SECRET, "x"),
    ],
)
def test_bad_signing_keys(secret: object) -> None:
    with pytest.raises(ConfigurationError):
        Signer(HTTPMessageSignatures(), secret=secret)


@pytest.mark.parametrize("required", [("content-type",), ('"content-digest";sf',)])
def test_signer_refuses_components_it_cannot_produce(required: tuple[str, ...]) -> None:
    with pytest.raises(ConfigurationError):
        Signer(HTTPMessageSignatures(required_components=required), secret=("k", SHARED_SECRET))


def test_signer_needs_url_for_url_components() -> None:
    sign = Signer(HTTPMessageSignatures(), secret=("k", SHARED_SECRET))
    with pytest.raises(ConfigurationError):
        sign.sign(b"x", timestamp=NOW)


def test_signer_with_several_labels_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        Signer(HTTPMessageSignatures(label=("a", "b")), secret=("k", SHARED_SECRET))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"label": "Upper"},
        {"label": ()},
        {"label": ("a", "a")},
        {"label": 3},
        {"tag": ""},
        {"tag": "tab\t"},
        {"digest_algorithms": ("md5",)},
        {"structured_fields": {"x": "map"}},
        {"required_components": ("@method", "@method")},
    ],
)
def test_bad_scheme_configuration(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        HTTPMessageSignatures(**kwargs)  # type: ignore[arg-type]


def test_reprs_hide_keys() -> None:
    v = _verifier({"k": SHARED_SECRET})
    assert SHARED_SECRET.hex() not in repr(v)
    sign = Signer(HTTPMessageSignatures(), secret=("k", PRIVATE_KEYS["test-key-ed25519"]))
    assert "PRIVATE" not in repr(sign)
    assert "content-digest" in repr(HTTPMessageSignatures())


def test_exported_from_hookseal_schemes() -> None:
    from hookseal.schemes import HTTPMessageSignatures as exported

    assert exported is HTTPMessageSignatures


def test_missing_http_sf_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "http_sf", None)  # makes `import http_sf` fail
    with pytest.raises(ConfigurationError, match=r"pip install 'hookseal\[rfc9421\]'"):
        HTTPMessageSignatures()


def test_importing_the_scheme_and_digest_does_not_import_http_sf() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hookseal, hookseal.digest, hookseal.schemes.http_message_signatures;"
        "print('http_sf' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_options_are_keyword_only_and_a_misplaced_secret_is_not_echoed() -> None:
    secret = "s3cr3t-value-pasted-here"
    with pytest.raises(TypeError):
        HTTPMessageSignatures(("@method",))  # type: ignore[misc]
    with pytest.raises(ConfigurationError) as raised:
        HTTPMessageSignatures(digest_algorithms=[secret])
    assert secret not in str(raised.value)


@pytest.mark.parametrize("with_nonce", [True, False])
def test_the_replay_identity_is_bound_to_the_key_not_the_keyid_text(with_nonce: bool) -> None:
    """Two senders using the same keyid text with different keys share one store: a tenant
    holding its own key cannot burn the other's nonce (or signed content)."""
    from hookseal import ReplayedDelivery
    from hookseal.stores.memory import MemoryNonceStore

    store = MemoryNonceStore()
    now = 1_700_000_000
    url = "https://hooks.example.com/in"
    scheme = HTTPMessageSignatures(required_components=("@method", "@target-uri"))
    keys = {"victim": b"victim-hmac-key-0123456789abcdef", "tenant": b"tenant-own-key-0123456789ab"}
    verifiers = {
        who: Verifier(scheme, {"default": key}, nonce_store=store) for who, key in keys.items()
    }
    signed = {
        who: Signer(scheme, ("default", key)).sign(
            b"{}", timestamp=now, msg_id="evt-1042" if with_nonce else None, url=url, method="POST"
        )
        for who, key in keys.items()
    }
    verifiers["tenant"].verify(b"{}", signed["tenant"], url=url, method="POST", now=now)
    verifiers["victim"].verify(b"{}", signed["victim"], url=url, method="POST", now=now)
    with pytest.raises(ReplayedDelivery):
        verifiers["victim"].verify(b"{}", signed["victim"], url=url, method="POST", now=now)


# -- key resolvers ---------------------------------------------------------------------------------


def test_a_resolver_returning_none_or_raising_a_verification_error() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    with pytest.raises(VerificationError) as info:
        hmac_verifier(scheme, lambda key_id: None).verify(
            BODY, crafted('"@method"'), method="POST", now=HMAC_NOW
        )
    assert info.value.reason == "unknown_key_id"

    def refusing(key_id: str) -> object:
        raise SignatureMismatch("this key id was revoked")

    with pytest.raises(SignatureMismatch, match="revoked"):
        hmac_verifier(scheme, refusing).verify(
            BODY, crafted('"@method"'), method="POST", now=HMAC_NOW
        )


def _resolver_raising(exc: Exception) -> Callable[[str], object]:
    def resolver(key_id: str) -> object:
        raise exc

    return resolver


@pytest.mark.parametrize(
    "resolver",
    [
        _resolver_raising(RuntimeError("db down: secret-ish detail")),
        _resolver_raising(ValueError("secret-ish detail")),
        lambda key_id: "not a key: secret-ish detail",  # ConfigurationError when loaded
        lambda key_id: 12345,
    ],
    ids=["runtime-error", "value-error", "bad-pem-text", "wrong-type"],
)
def test_a_failing_resolver_means_an_unknown_key_id_logged_once_without_detail(
    resolver: Callable[[str], object], caplog: pytest.LogCaptureFixture
) -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    verifier = Verifier(scheme, resolver, nonce_store=None)
    caplog.set_level(logging.WARNING, logger="hookseal")
    for _ in range(2):
        with pytest.raises(SignatureMismatch) as info:
            verifier.verify(BODY, crafted('"@method"'), method="POST", now=HMAC_NOW)
        assert info.value.reason == "unknown_key_id"
    resolver_lines = [r.getMessage() for r in caplog.records if "resolver" in r.getMessage()]
    assert len(resolver_lines) == 1  # once per exception class
    assert "secret-ish" not in caplog.text


# -- keys given where they do not belong -------------------------------------------------------


def test_scheme_key_entry_points_refuse_misuse() -> None:
    scheme = HTTPMessageSignatures()
    with pytest.raises(ConfigurationError, match="secrets=\\{keyid: key\\}"):
        scheme.load_key(HMAC_KEY)
    with pytest.raises(ConfigurationError, match="Signer"):
        scheme.sign(HMAC_KEY, BODY, timestamp=HMAC_NOW, msg_id="m", url=None, method="POST")
    signing = scheme.load_signing_key(("k1", HMAC_KEY))
    assert repr(signing) == "_SigningKey('k1', '**********')"
    assert HMAC_KEY.hex() not in repr(signing)


def test_the_signer_refuses_a_public_key_object() -> None:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(ConfigurationError, match="signing needs the private key"):
        Signer(HTTPMessageSignatures(), ("k1", public))


def test_an_rsa_key_shorter_than_2048_bits_is_refused() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(ConfigurationError, match="1024-bit RSA key; at least 2048"):
        hmac_verifier(HTTPMessageSignatures(), {"k1": ("rsa-pss-sha512", weak)})
