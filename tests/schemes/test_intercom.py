"""Intercom: ``X-Hub-Signature: sha1=<hex>`` (HMAC-SHA1, the only algorithm Intercom offers).

Docs: https://developers.intercom.com/docs/references/webhooks/webhook-models ("Signed
notifications"). No published secret/body/signature triple and no Python SDK verifier:
every expected value is derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.intercom import Intercom


class TestIntercomContract(BodyHMACContract):
    scheme_class = Intercom
    name = "intercom"
    header = "X-Hub-Signature"
    prefix = "sha1="
    algorithm = "sha1"
    secret = "intercom-client-secret"
