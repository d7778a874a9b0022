"""Sentry integration platform: ``Sentry-Hook-Signature: <hex>``.

Docs: https://docs.sentry.io/integrations/integration-platform/webhooks/ . No published
vector and sentry-sdk has no webhook verifier: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.sentry import Sentry


class TestSentryContract(BodyHMACContract):
    scheme_class = Sentry
    name = "sentry"
    header = "Sentry-Hook-Signature"
    id_header = "Request-ID"
    secret = "sentry-client-secret"
