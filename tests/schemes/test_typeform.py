"""Typeform: ``Typeform-Signature: sha256=<base64>``.

Docs: https://www.typeform.com/developers/webhooks/secure-your-webhooks/ . No published
secret/body/signature triple and no Python SDK verifier: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.typeform import Typeform


class TestTypeformContract(BodyHMACContract):
    scheme_class = Typeform
    name = "typeform"
    header = "Typeform-Signature"
    prefix = "sha256="
    encoding = "base64"
    secret = "typeform-secret"
