"""Gitea and Forgejo: ``X-Gitea-Signature: <hex>``.

Docs: https://docs.gitea.com/usage/webhooks . No published vector: derived from the
documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.gitea import Gitea


class TestGiteaContract(BodyHMACContract):
    scheme_class = Gitea
    name = "gitea"
    header = "X-Gitea-Signature"
    id_header = "X-Gitea-Delivery"
    secret = "gitea-secret"
