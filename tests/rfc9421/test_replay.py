"""RFC 9421 replay identity: a malleated ECDSA signature and a delivery without ``created``.

ECDSA signatures are malleable: (r, s) and (r, n - s) both verify (SEC 1 v2, section 4.1.4),
so a replay key built from the signature bytes would let a captured delivery replay once more.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hookseal import ReplayedDelivery, Verifier
from hookseal.digest import content_digest
from hookseal.schemes import HTTPMessageSignatures
from hookseal.schemes._rfc9421_components import (
    RequestContext,
    parse_component_spec,
    signature_base,
)
from hookseal.schemes._rfc9421_keys import load_key

pytestmark = pytest.mark.extras

NOW = 1_700_000_000
URL = "https://example.com/hook"
BODY = b'{"a":1}'
# The order of the P-256 group (SEC 2 v2, section 2.4.2).
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
PRIVATE = ec.derive_private_key(0x1234567890ABCDEF, ec.SECP256R1())
COMPONENTS = ("@method", "@target-uri", "content-digest")


def _sign(
    params: str, private: ec.EllipticCurvePrivateKey = PRIVATE
) -> tuple[dict[str, str], bytes]:
    headers = {"Content-Digest": content_digest(BODY)}
    comps = [parse_component_spec(c) for c in COMPONENTS]
    base = signature_base(comps, params, RequestContext("POST", URL, headers, 4096))
    signature = load_key(("ecdsa-p256-sha256", private), private=True).sign(base)
    return {**headers, "Signature-Input": "sig1=" + params}, signature


def _with_signature(headers: dict[str, str], signature: bytes) -> dict[str, str]:
    encoded = base64.b64encode(signature).decode()
    return {**headers, "Signature": f"sig1=:{encoded}:"}


def _flip_s(signature: bytes) -> bytes:
    r, s = signature[:32], int.from_bytes(signature[32:], "big")
    return r + (P256_N - s).to_bytes(32, "big")


PARAMS = (
    f'("@method" "@target-uri" "content-digest");created={NOW};keyid="k1";alg="ecdsa-p256-sha256"'
)


def test_the_s_flip_of_an_accepted_ecdsa_delivery_is_a_replay() -> None:
    verifier = Verifier(HTTPMessageSignatures(), {"k1": PRIVATE.public_key()})
    headers, signature = _sign(PARAMS)
    verifier.verify(BODY, _with_signature(headers, signature), url=URL, method="POST", now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(
            BODY, _with_signature(headers, _flip_s(signature)), url=URL, method="POST", now=NOW
        )


def test_a_high_s_signature_is_accepted_once() -> None:
    """Senders do not normalise s: whichever form arrives first is genuine."""
    verifier = Verifier(HTTPMessageSignatures(), {"k1": PRIVATE.public_key()})
    headers, signature = _sign(PARAMS)
    s = int.from_bytes(signature[32:], "big")
    high = signature if s > P256_N // 2 else _flip_s(signature)
    verifier.verify(BODY, _with_signature(headers, high), url=URL, method="POST", now=NOW)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, _with_signature(headers, high), url=URL, method="POST", now=NOW)


def test_without_created_the_replay_record_lives_until_expires() -> None:
    expires = NOW + 10 * 86400  # far beyond the default one-day replay_retention
    params = f'("@method" "@target-uri" "content-digest");expires={expires};keyid="k1"'
    scheme = HTTPMessageSignatures(require_created=False)
    verifier = Verifier(scheme, {"k1": PRIVATE.public_key()})
    headers, signature = _sign(params)
    verified = verifier.verify(
        BODY, _with_signature(headers, signature), url=URL, method="POST", now=NOW
    )
    assert verified.timestamp == expires - verifier.limits.tolerance
    later = NOW + 5 * 86400  # past replay_retention, before expires
    for sig in (signature, _flip_s(signature)):
        with pytest.raises(ReplayedDelivery):
            verifier.verify(BODY, _with_signature(headers, sig), url=URL, method="POST", now=later)
