"""Microsoft Teams outgoing webhooks: ``Authorization: HMAC <base64>``.

Docs: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-outgoing-webhook
(HMAC-SHA256 of the raw body keyed with the security token decoded from base64; Microsoft's
sample does ``new HMACSHA256(Convert.FromBase64String(token))``). No published vector and no
Python SDK verifier: derived from the documented algorithm.
"""

from __future__ import annotations

import base64
import hmac

import pytest
from body_hmac_contract import BODY, BodyHMACContract

from hookseal import ConfigurationError, MalformedHeader, SignatureMismatch, Signer, Verifier
from hookseal.schemes.teams import MicrosoftTeams

KEY = bytes(range(100, 132))
TOKEN = base64.b64encode(KEY).decode()


class TestMicrosoftTeamsContract(BodyHMACContract):
    scheme_class = MicrosoftTeams
    name = "microsoft-teams"
    header = "Authorization"
    prefix = "HMAC "
    encoding = "base64"
    secret = TOKEN
    key_bytes = KEY
    other_secret = base64.b64encode(b"another 32-byte key for rotation").decode()


def _mac(key: bytes, body: bytes = BODY) -> str:
    return base64.b64encode(hmac.new(key, body, "sha256").digest()).decode()


def test_signer_sends_the_authorization_header_teams_sends() -> None:
    assert Signer(MicrosoftTeams(), secret=TOKEN).sign(BODY) == {
        "Authorization": "HMAC " + _mac(KEY)
    }


@pytest.mark.parametrize(
    "value",
    [
        "Bearer " + _mac(KEY),
        "hmac " + _mac(KEY),
        "HMAC  " + _mac(KEY),
        "HMAC" + _mac(KEY),
        "HMAC " + _mac(KEY) + " extra",
    ],
)
def test_other_authorization_forms_are_malformed(value: str) -> None:
    with pytest.raises(MalformedHeader):
        Verifier(MicrosoftTeams(), [TOKEN], nonce_store=None).verify(BODY, {"Authorization": value})


def test_the_key_is_the_decoded_token_not_its_text() -> None:
    with pytest.raises(SignatureMismatch):
        Verifier(MicrosoftTeams(), [TOKEN], nonce_store=None).verify(
            BODY, {"Authorization": "HMAC " + _mac(TOKEN.encode())}
        )


@pytest.mark.parametrize("bad", ["not base64!", TOKEN.rstrip("="), TOKEN + "A"])
def test_a_token_that_is_not_base64_is_refused_at_construction(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Verifier(MicrosoftTeams(), [bad])
    assert bad not in str(info.value)
