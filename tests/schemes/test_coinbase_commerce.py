"""Coinbase Commerce: ``X-CC-Webhook-Signature: <hex>``; the coinbase-commerce SDK as an oracle.

Docs: https://docs.cdp.coinbase.com/commerce-onchain/docs/webhooks-security . No published
vector: derived, and compared with coinbase_commerce.webhook.WebhookSignature both ways.
"""

from __future__ import annotations

import pytest
from body_hmac_contract import JSON_TEXT, SECRETS, BodyHMACContract, sdk
from hypothesis import given

from hookseal import SignatureMismatch, Signer, Verifier
from hookseal.schemes.coinbase_commerce import CoinbaseCommerce


class TestCoinbaseCommerceContract(BodyHMACContract):
    scheme_class = CoinbaseCommerce
    name = "coinbase-commerce"
    header = "X-CC-Webhook-Signature"
    secret = "cc-shared-secret"


# -- coinbase-commerce SDK as an oracle, both directions -----------------------------------

HEADER = "X-CC-Webhook-Signature"


@given(secret=SECRETS, body=JSON_TEXT)
def test_sdk_and_hookseal_agree_both_directions(secret: str, body: str) -> None:
    webhook = sdk("coinbase_commerce.webhook")
    raw = body.encode("utf-8")
    # The SDK signs, hookseal verifies.
    sdk_signature = webhook.WebhookSignature._compute_signature(body, secret)
    Verifier(CoinbaseCommerce(), [secret], nonce_store=None).verify(raw, {HEADER: sdk_signature})
    # hookseal signs, the SDK verifies.
    signature = Signer(CoinbaseCommerce(), secret=secret).sign(raw)[HEADER]
    assert signature == sdk_signature
    assert webhook.WebhookSignature.verify_sig_header(body, signature, secret) is True
    # Both refuse another secret's signature.
    other = webhook.WebhookSignature._compute_signature(body, secret + "x")
    with pytest.raises(sdk("coinbase_commerce.error").SignatureVerificationError):
        webhook.WebhookSignature.verify_sig_header(body, other, secret)
    with pytest.raises(SignatureMismatch):
        Verifier(CoinbaseCommerce(), [secret], nonce_store=None).verify(raw, {HEADER: other})
