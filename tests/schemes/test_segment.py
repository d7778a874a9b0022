"""Segment: ``X-Signature: <hex>`` (HMAC-SHA1, the only algorithm Segment offers).

Docs: https://segment.com/docs/connections/destinations/catalog/actions-webhook/ . No
published vector and no Python SDK verifier: derived from the documented algorithm.
"""

from __future__ import annotations

from body_hmac_contract import BodyHMACContract

from hookseal.schemes.segment import Segment


class TestSegmentContract(BodyHMACContract):
    scheme_class = Segment
    name = "segment"
    header = "X-Signature"
    algorithm = "sha1"
    secret = "segment-shared-secret"
