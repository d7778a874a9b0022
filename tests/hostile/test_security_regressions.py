"""Regression tests for security bugs found while hardening (see the hardening report)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hookseal import ReplayedDelivery, SignatureMismatch, Verifier
from hookseal.stores.memory import MemoryNonceStore

from ._profiles import BY_NAME, NOW

#: The order of the P-256 group (SEC 2, section 2.4.2).
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
#: The order of the Ed25519 group (RFC 8032, section 5.1).
ED25519_L = 2**252 + 27742317777372353535851937790883648493


@pytest.mark.extras
def test_rfc9421_ecdsa_malleated_signature_is_still_a_replay() -> None:
    """(r, s) and (r, n - s) both verify: the replay key must not be the signature bytes.

    A sender that signs no ``nonce`` made the signature itself the replay key, so anyone
    holding one captured ECDSA delivery could replay it once more as (r, n - s).
    """
    from hookseal.digest import content_digest
    from hookseal.schemes import HTTPMessageSignatures
    from hookseal.schemes._rfc9421_components import (
        RequestContext,
        parse_component_spec,
        signature_base,
    )
    from hookseal.schemes._rfc9421_keys import load_key

    private = ec.derive_private_key(0x5EED, ec.SECP256R1())
    body, url = b'{"a":1}', "https://example.com/hook"
    headers = {"Content-Digest": content_digest(body)}
    params = f'("@method" "@target-uri" "content-digest");created={NOW};keyid="k1"'
    components = [parse_component_spec(c) for c in ("@method", "@target-uri", "content-digest")]
    base = signature_base(components, params, RequestContext("POST", url, headers, 4096))
    signature = load_key(private, private=True).sign(base)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    malleated = r.to_bytes(32, "big") + (P256_N - s).to_bytes(32, "big")
    verifier = Verifier(
        HTTPMessageSignatures(),
        {"k1": private.public_key()},
        nonce_store=MemoryNonceStore(),
        on_event=lambda event: None,
    )

    def send(raw: bytes) -> object:
        lines = {
            **headers,
            "Signature-Input": "sig1=" + params,
            "Signature": "sig1=:" + base64.b64encode(raw).decode() + ":",
        }
        return verifier.verify(body, lines, url=url, method="POST", now=NOW)

    send(signature)
    with pytest.raises(ReplayedDelivery):
        send(malleated)
    with pytest.raises(ReplayedDelivery):
        send(signature)


def test_discord_non_canonical_ed25519_signature_is_refused() -> None:
    """S + L is the same signature to a lax verifier, and Discord's replay key is the signature."""
    profile = BY_NAME["discord"]
    verifier = Verifier(profile.make_scheme(), profile.secrets, nonce_store=MemoryNonceStore())
    genuine = profile.sign()
    raw = profile.sig_bytes(genuine)
    s = int.from_bytes(raw[32:], "little") + ED25519_L
    assert s < 2**256
    forged = profile.with_sig_text(genuine, (raw[:32] + s.to_bytes(32, "little")).hex())
    with pytest.raises(SignatureMismatch):
        verifier.verify(forged.body, forged.headers, now=NOW)
    verifier.verify(genuine.body, genuine.headers, now=NOW)
