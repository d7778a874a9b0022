"""Meta (WhatsApp Cloud API, Messenger, Instagram): ``X-Hub-Signature-256: sha256=<hex>``.

Docs: https://developers.facebook.com/docs/graph-api/webhooks/getting-started/ ("Validate
payloads": HMAC-SHA256 of the payload keyed with the app secret, hex, after ``sha256=``).
Meta publishes no secret/body/signature triple and no Python SDK that verifies webhooks, so the
vector below is a third-party one and everything else is derived from the documented algorithm.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from body_hmac_contract import BODY, BodyHMACContract

from hookseal import MissingHeader, Signer, Verifier
from hookseal.schemes.meta import Meta


class TestMetaContract(BodyHMACContract):
    scheme_class = Meta
    name = "meta"
    header = "X-Hub-Signature-256"
    prefix = "sha256="
    secret = "meta-app-secret"


def test_third_party_vector() -> None:
    """Third-party: jeffhuen/whatsapp_sdk's doctest ``compute_signature("test", "secret")``.

    https://hexdocs.pm/whatsapp_sdk/WhatsApp.Webhook.html
    """
    signature = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    verified = Verifier(Meta(), ["secret"], nonce_store=None).verify(
        b"test", {"X-Hub-Signature-256": signature}
    )
    assert verified.scheme == "meta"
    assert Signer(Meta(), secret="secret").sign(b"test") == {"X-Hub-Signature-256": signature}


def test_legacy_sha1_header_alone_is_refused() -> None:
    """Meta still sends ``X-Hub-Signature: sha1=...`` beside the SHA-256 header; alone it is
    a downgrade and never accepted."""
    sha1 = "sha1=" + hmac.new(b"meta-app-secret", BODY, hashlib.sha1).hexdigest()
    with pytest.raises(MissingHeader):
        Verifier(Meta(), ["meta-app-secret"], nonce_store=None).verify(
            BODY, {"X-Hub-Signature": sha1}
        )


def test_both_headers_as_meta_sends_them() -> None:
    signer = Signer(Meta(), secret="meta-app-secret")
    headers = signer.sign(BODY)
    sha1 = hmac.new(b"meta-app-secret", BODY, hashlib.sha1).hexdigest()
    headers["X-Hub-Signature"] = "sha1=" + sha1
    Verifier(Meta(), ["meta-app-secret"], nonce_store=None).verify(BODY, headers)
