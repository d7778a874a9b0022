"""Vercel: ``x-vercel-signature: <hex>`` (HMAC-SHA1, the only algorithm Vercel offers).

Docs: https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks . No published vector
and no Python SDK verifier: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.vercel import Vercel


class TestVercelContract(BodyHMACContract):
    scheme_class = Vercel
    name = "vercel"
    header = "x-vercel-signature"
    algorithm = "sha1"
    secret = "vercel-webhook-secret"
