"""Asana: ``X-Hook-Signature: <hex>``, keyed with the handshake's ``X-Hook-Secret``.

Docs: https://developers.asana.com/docs/webhooks-guide#security . No published vector and the
asana SDK has no verifier: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.asana import Asana


class TestAsanaContract(BodyHMACContract):
    scheme_class = Asana
    name = "asana"
    header = "X-Hook-Signature"
    secret = "0ab1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
