"""PagerDuty v3: ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]``, HMAC-SHA256 of the body.

Vector PD3-1: PagerDuty's own Go client, ``webhookv3/webhookv3_test.go`` in
https://github.com/PagerDuty/go-pagerduty (secret, ``defaultBody`` and the "valid" and
"mismatch" signatures). Docs: https://developer.pagerduty.com/docs/verifying-webhook-signatures
PagerDuty ships no Python SDK that verifies webhooks, so there is no differential oracle.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hookseal import (
    Headers,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    VerificationError,
    Verifier,
)
from hookseal.schemes.base import make_replay_key
from hookseal.schemes.pagerduty import PagerDuty
from hookseal.stores.memory import MemoryNonceStore

SECRET = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
BODY = (
    b'{"event":{"id":"01BWDWL3NYY7LUFPZCC28QUCMK","event_type":"incident.priority_updated",'
    b'"resource_type":"incident","occurred_at":"2021-04-26T17:36:27.458Z","agent":{"html_url":'
    b'"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":'
    b'"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":'
    b'"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":'
    b'"https://api.pagerduty.com/incidents/PGR0VU2","html_url":'
    b'"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","title":'
    b'"A little bump in the road","service":{"html_url":'
    b'"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":'
    b'"https://api.pagerduty.com/services/PF9KMXH","summary":"API Service","type":'
    b'"service_reference"},"assignees":[{"html_url":"https://acme.pagerduty.com/users/PTUXL6G",'
    b'"id":"PTUXL6G","self":"https://api.pagerduty.com/users/PTUXL6G","summary":"User 123",'
    b'"type":"user_reference"}],"escalation_policy":{"html_url":'
    b'"https://acme.pagerduty.com/escalation_policies/PUS0KTE","id":"PUS0KTE","self":'
    b'"https://api.pagerduty.com/escalation_policies/PUS0KTE","summary":"Default","type":'
    b'"escalation_policy_reference"},"teams":[{"html_url":'
    b'"https://acme.pagerduty.com/teams/PFCVPS0","id":"PFCVPS0","self":'
    b'"https://api.pagerduty.com/teams/PFCVPS0","summary":"Engineering","type":'
    b'"team_reference"}],"priority":{"html_url":'
    b'"https://acme.pagerduty.com/account/incident_priorities","id":"PSO75BM","self":'
    b'"https://api.pagerduty.com/priorities/PSO75BM","summary":"P1","type":'
    b'"priority_reference"},"urgency":"high","conference_bridge":{"conference_number":1000,'
    b'"conference_url":"https://example.com"},"resolve_reason":null}}}'
)
VALID = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
MISMATCH = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"
HEADER = "X-PagerDuty-Signature"


def _verifier(secrets: object = SECRET, **options: object) -> Verifier:
    return Verifier(PagerDuty(), secrets, **options)  # type: ignore[arg-type]


def test_body_is_the_published_bytes() -> None:
    assert len(BODY) == 1655
    assert hashlib.sha256(BODY).hexdigest().startswith("6ef42c69")


def test_pd3_1_valid_signature_verifies() -> None:
    """go-pagerduty webhookv3_test.go, case "valid"."""
    verified = _verifier().verify(BODY, {HEADER: VALID, "X-Webhook-Id": "w-1"})
    assert verified.scheme == "pagerduty"
    assert verified.timestamp is None
    assert verified.msg_id == "w-1"
    assert verified.replay_key == make_replay_key("pagerduty", bytes.fromhex(VALID[3:]))


def test_pd3_1_mismatch_signature_is_refused() -> None:
    """go-pagerduty webhookv3_test.go, case "mismatch"."""
    with pytest.raises(SignatureMismatch):
        _verifier().verify(BODY, {HEADER: MISMATCH})


def test_pd3_1_is_what_the_signer_produces() -> None:
    headers = Signer(PagerDuty(), SECRET).sign(BODY, msg_id="w-1")
    assert headers == {HEADER: VALID, "X-Webhook-Id": "w-1"}


def test_rotation_several_signatures_any_may_match() -> None:
    for value in (f"{MISMATCH},{VALID}", f"{VALID},{MISMATCH}"):
        assert _verifier(nonce_store=None).verify(BODY, {HEADER: value})


def test_tampered_body_and_wrong_secret() -> None:
    with pytest.raises(SignatureMismatch):
        _verifier().verify(BODY + b"\n", {HEADER: VALID})
    with pytest.raises(SignatureMismatch):
        _verifier("another-secret").verify(BODY, {HEADER: VALID})


def test_replay_is_refused_whatever_the_unsigned_id() -> None:
    verifier = _verifier(nonce_store=MemoryNonceStore())
    verifier.verify(BODY, {HEADER: VALID, "X-Webhook-Id": "w-1"})
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, {HEADER: VALID, "X-Webhook-Id": "w-2"})


_H = "v1=" + "aa" * 32


@pytest.mark.parametrize(
    ("value", "error", "reason"),
    [
        (None, MissingHeader, "missing_header"),
        ("", MissingHeader, "missing_header"),
        ("v1=", MalformedHeader, "malformed_header"),
        ("v1=,v1=" + "aa" * 32, MalformedHeader, "malformed_header"),
        ("aa" * 32, MalformedHeader, "malformed_header"),
        (_H + "a", MalformedHeader, "malformed_header"),
        (_H[:-2] + "zz", MalformedHeader, "malformed_header"),
        (_H + "é", MalformedHeader, "malformed_header"),
        (_H + "\r\n", MalformedHeader, "malformed_header"),
        (VALID[:-2], SignatureMismatch, "signature_mismatch"),
        (VALID + "00", SignatureMismatch, "signature_mismatch"),
        (_H, SignatureMismatch, "signature_mismatch"),
        ("v1=" + "a" * 5000, MalformedHeader, "header_too_long"),
        (",".join([_H] * 9), MalformedHeader, "too_many_signatures"),
    ],
)
def test_hostile_headers(value: str | None, error: type[VerificationError], reason: str) -> None:
    headers = {} if value is None else {HEADER: value}
    with pytest.raises(error) as caught:
        _verifier().verify(BODY, headers)
    assert caught.value.reason == reason


@pytest.mark.parametrize("order", [0, 1])
def test_duplicated_header_is_refused(order: int) -> None:
    lines = [(HEADER, VALID), (HEADER, MISMATCH)]
    with pytest.raises(MalformedHeader) as caught:
        _verifier().verify(BODY, Headers(lines[order:] + lines[:order]))
    assert caught.value.reason == "duplicate_header"


def test_message_id_with_a_space_is_malformed() -> None:
    with pytest.raises(MalformedHeader):
        _verifier().verify(BODY, {HEADER: VALID, "X-Webhook-Id": "w 1"})


def test_rejection_does_not_echo_the_expected_mac() -> None:
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureMismatch) as caught:
        _verifier().verify(BODY, {HEADER: _H})
    assert expected not in str(caught.value)
