"""Dropbox: ``X-Dropbox-Signature: <hex>``.

Docs: https://www.dropbox.com/developers/reference/webhooks . The dropbox SDK has no webhook
verifier and Dropbox publishes no vector: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.dropbox import Dropbox


class TestDropboxContract(BodyHMACContract):
    scheme_class = Dropbox
    name = "dropbox"
    header = "X-Dropbox-Signature"
    secret = "dropbox-app-secret"
