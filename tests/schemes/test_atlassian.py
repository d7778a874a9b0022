"""Atlassian: Bitbucket Cloud and Jira, ``X-Hub-Signature: sha256=<hex>``.

Docs: https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/ and
https://developer.atlassian.com/cloud/jira/platform/webhooks/ . No published vector and no
Python SDK verifier: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.atlassian import Bitbucket, Jira


class TestBitbucketContract(BodyHMACContract):
    scheme_class = Bitbucket
    name = "bitbucket"
    header = "X-Hub-Signature"
    prefix = "sha256="
    id_header = "X-Request-UUID"
    secret = "bitbucket-secret"


class TestJiraContract(BodyHMACContract):
    scheme_class = Jira
    name = "jira"
    header = "X-Hub-Signature"
    prefix = "sha256="
    id_header = "X-Atlassian-Webhook-Identifier"
    secret = "jira-secret"
