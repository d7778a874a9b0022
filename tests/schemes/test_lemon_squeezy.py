"""Lemon Squeezy: ``X-Signature: <hex>``.

Docs: https://docs.lemonsqueezy.com/help/webhooks/signing-requests . No published vector and
no official Python SDK: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.lemon_squeezy import LemonSqueezy


class TestLemonSqueezyContract(BodyHMACContract):
    scheme_class = LemonSqueezy
    name = "lemon-squeezy"
    header = "X-Signature"
    secret = "lemon-signing-secret"
