"""Airtable: ``X-Airtable-Content-MAC: hmac-sha256=<hex>``, keyed with the decoded secret.

Docs: https://airtable.com/developers/web/api/webhooks-overview (the MAC is HMAC-SHA256 of the
body keyed with ``macSecretBase64`` decoded from base64, hex, after ``hmac-sha256=``). No
published vector and no official Python SDK verifier: derived from the documented algorithm.
"""

from __future__ import annotations

import base64
import hmac

import pytest
from body_hmac_contract import BODY, BodyHMACContract

from hookseal import ConfigurationError, SignatureMismatch, Signer, Verifier
from hookseal.schemes.airtable import Airtable

KEY = bytes(range(32))
SECRET = base64.b64encode(KEY).decode()
HEADER = "X-Airtable-Content-MAC"


class TestAirtableContract(BodyHMACContract):
    scheme_class = Airtable
    name = "airtable"
    header = HEADER
    prefix = "hmac-sha256="
    secret = SECRET
    key_bytes = KEY
    other_secret = base64.b64encode(b"another 32-byte key for rotation").decode()


def test_the_key_is_the_decoded_secret_not_its_text() -> None:
    keyed_with_text = "hmac-sha256=" + hmac.new(SECRET.encode(), BODY, "sha256").hexdigest()
    with pytest.raises(SignatureMismatch):
        Verifier(Airtable(), [SECRET], nonce_store=None).verify(BODY, {HEADER: keyed_with_text})


def test_raw_key_bytes_are_accepted() -> None:
    headers = Signer(Airtable(), secret=SECRET).sign(BODY)
    Verifier(Airtable(), [KEY], nonce_store=None).verify(BODY, headers)


@pytest.mark.parametrize(
    "bad", [SECRET.rstrip("="), SECRET + "!", SECRET.replace("A", "-"), "not base64", "===="]
)
def test_a_secret_that_is_not_base64_is_refused_at_construction(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Verifier(Airtable(), [bad])
    assert bad not in str(info.value)
