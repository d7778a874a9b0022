"""Differential tests against pyauth's ``http-message-signatures`` package, in both directions.

Oracle: https://github.com/pyauth/http-message-signatures (PyPI ``http-message-signatures``),
driven through real ``requests.PreparedRequest`` objects; keys from RFC 9421 Appendix B.1.
"""

from __future__ import annotations

import datetime
import time

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
)
from http_message_signatures import algorithms as their_algorithms
from rfc9421_support import PUBLIC_KEYS, SHARED_SECRET, key_bytes, signer

from hookseal import Headers, SignatureMismatch, Verifier
from hookseal.schemes import HTTPMessageSignatures

pytestmark = pytest.mark.extras

THEIR_ALGORITHMS = {
    "test-key-ed25519": their_algorithms.ED25519,
    "test-shared-secret": their_algorithms.HMAC_SHA256,
    "test-key-rsa-pss": their_algorithms.RSA_PSS_SHA512,
    "test-key-rsa": their_algorithms.RSA_V1_5_SHA256,
    "test-key-ecc-p256": their_algorithms.ECDSA_P256_SHA256,
}
PRIVATE_PEM = {
    "test-key-ed25519": "test-key-ed25519.priv.pem",
    "test-key-rsa-pss": "test-key-rsa-pss.priv.pem",
    "test-key-rsa": "test-key-rsa.priv.pem",
    "test-key-ecc-p256": "test-key-ecc-p256.priv.pem",
}
RESOLVER = MappingKeyResolver(
    public_keys={
        **{
            k: load_pem_public_key(key_bytes(v.replace("priv", "pub")))
            for k, v in PRIVATE_PEM.items()
        },
        "test-shared-secret": SHARED_SECRET,
    },
    private_keys={
        **{k: load_pem_private_key(key_bytes(v), None) for k, v in PRIVATE_PEM.items()},
        "test-shared-secret": SHARED_SECRET,
    },
)
URLS = [
    "https://hooks.example.com/in?a=1&b=x+y&a=2",
    "https://Hooks.Example.com:443/path/%7Euser/?q=caf%C3%A9&a=3",
    "http://127.0.0.1:8080/",
]
COMPONENTS = (
    "@method",
    "@target-uri",
    "@authority",
    "@scheme",
    "@path",
    "@query",
    "@request-target",
    "content-type",
    '"x-dict";key="b"',
    '"cache-control";sf',
    '"x-multi";bs',
)
BODY = b'{"id": 1, "msg": "caf\xc3\xa9"}'


def _request(url: str, extra: dict[str, str] | None = None) -> requests.PreparedRequest:
    req = requests.Request("POST", url, data=BODY).prepare()
    req.headers["Content-Type"] = "application/json"
    req.headers["X-Dict"] = "a=1,   b=2;x=?0, c=(x   y)"
    req.headers["X-Multi"] = "one, two"
    req.headers["Cache-Control"] = "max-age=60,   must-revalidate"
    for name, value in (extra or {}).items():
        req.headers[name] = value
    return req


def _our_verifier(required: tuple[str, ...] = (), label: str | None = None) -> Verifier:
    return Verifier(
        HTTPMessageSignatures(
            required_components=required, label=label, structured_fields={"x-dict": "dictionary"}
        ),
        secrets=PUBLIC_KEYS,
        nonce_store=None,
    )


@pytest.mark.parametrize("keyid", list(THEIR_ALGORITHMS))
@pytest.mark.parametrize("url", URLS)
def test_their_signature_verifies_with_hookseal(keyid: str, url: str) -> None:
    req = _request(url)
    now = int(time.time())
    HTTPMessageSigner(signature_algorithm=THEIR_ALGORITHMS[keyid], key_resolver=RESOLVER).sign(
        req,
        key_id=keyid,
        created=datetime.datetime.fromtimestamp(now, datetime.timezone.utc),
        nonce=f"nonce-{keyid}",
        tag="hooks",
        label="theirs",
        covered_component_ids=COMPONENTS,
        body=BODY,
    )
    headers = list(req.headers.items())
    url = str(req.url)  # requests normalises the URL (host case, %7E); both sides use it
    verifier = _our_verifier(("@method", "@target-uri", "content-digest"), "theirs")
    verified = verifier.verify(BODY, headers, url=url, method="POST", now=now)
    assert verified.key_id == keyid
    assert verified.msg_id == f"nonce-{keyid}"
    # The same signature over a changed body or covered header is refused by both.
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY + b" ", headers, url=url, method="POST", now=now)
    tampered = [(k, "a=1, b=3" if k == "X-Dict" else v) for k, v in headers]
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, tampered, url=url, method="POST", now=now)


@pytest.mark.parametrize("url", URLS)
def test_signature_bases_agree(url: str) -> None:
    """Their prepared base equals the base hookseal builds for the same request."""
    req = _request(url)
    prepared = HTTPMessageSigner(
        signature_algorithm=their_algorithms.ED25519, key_resolver=RESOLVER
    ).prepare(
        req,
        key_id="test-key-ed25519",
        created=datetime.datetime.fromtimestamp(1_700_000_000, datetime.timezone.utc),
        label="sig1",
        covered_component_ids=COMPONENTS,
    )
    from hookseal.schemes._rfc9421_components import RequestContext, signature_base

    scheme = HTTPMessageSignatures(
        required_components=(), structured_fields={"x-dict": "dictionary"}
    )
    req2 = _request(url)
    HTTPMessageSigner(signature_algorithm=their_algorithms.ED25519, key_resolver=RESOLVER).sign(
        req2,
        key_id="test-key-ed25519",
        created=datetime.datetime.fromtimestamp(1_700_000_000, datetime.timezone.utc),
        label="sig1",
        covered_component_ids=COMPONENTS,
    )
    signature_input = req2.headers["Signature-Input"]
    member = scheme._parse_dictionary(signature_input, "Signature-Input")["sig1"]
    sig = scheme._parse_signature("sig1", member, (b"", {}))
    ours = signature_base(
        sig.components,
        scheme._serialize_member(member),
        RequestContext(
            "POST", str(req.url), Headers(list(req.headers.items())), 4096, {"x-dict": "dictionary"}
        ),
    )
    assert ours == prepared.signature_base


@pytest.mark.parametrize("keyid", list(THEIR_ALGORITHMS))
@pytest.mark.parametrize("url", URLS[:2])
def test_hookseal_signature_verifies_with_theirs(keyid: str, url: str) -> None:
    required = ("@method", "@target-uri", "@authority", "@path", "@query", "content-digest")
    url = str(_request(url).url)  # the URL as requests will send it
    headers = signer(keyid, required, label="ours", tag="hooks").sign(BODY, msg_id="n-42", url=url)
    req = _request(url, headers)
    their_verifier = HTTPMessageVerifier(
        signature_algorithm=THEIR_ALGORITHMS[keyid], key_resolver=RESOLVER
    )
    (result,) = their_verifier.verify(
        req, expect_tag="hooks", require_components=required, body=BODY
    )
    assert result.label == "ours"
    assert result.parameters["keyid"] == keyid
    assert result.parameters["nonce"] == "n-42"
    req.headers["Content-Digest"] = "sha-256=:" + "A" * 43 + "=:"
    with pytest.raises(InvalidSignature):
        their_verifier.verify(req, expect_tag="hooks", body=BODY)


@pytest.mark.parametrize("keyid", ["test-key-ed25519", "test-shared-secret"])
def test_deterministic_signatures_are_identical(keyid: str) -> None:
    """Same inputs, same bytes: both libraries emit the same Signature-Input and Signature."""
    url = URLS[0]
    required = ("@method", "@target-uri", "content-digest")
    ours = signer(keyid, required, label="sig1", tag="t").sign(
        BODY, timestamp=1_700_000_000, msg_id="abc", url=url
    )
    req = _request(url, {"Content-Digest": ours["Content-Digest"]})
    HTTPMessageSigner(signature_algorithm=THEIR_ALGORITHMS[keyid], key_resolver=RESOLVER).sign(
        req,
        key_id=keyid,
        created=datetime.datetime.fromtimestamp(1_700_000_000, datetime.timezone.utc),
        nonce="abc",
        tag="t",
        label="sig1",
        covered_component_ids=required,
        use_existing_digest=True,
    )
    assert req.headers["Signature-Input"] == ours["Signature-Input"]
    assert req.headers["Signature"] == ours["Signature"]
