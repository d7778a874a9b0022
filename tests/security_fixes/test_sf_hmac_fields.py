"""Finding 3 (MEDIUM): HMACScheme field shifting and leading-zero timestamps.

With ``{id}{timestamp}{body}`` the bytes ``evt_100`` + ``1700000000`` also read as ``evt_1`` +
``001700000000``: the same signature, another id, another replay key.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import ConfigurationError, MalformedHeader, Signer, Verifier
from hookseal._encoding import parse_timestamp
from hookseal.schemes import HMACScheme, Paddle, Slack, StandardWebhooks, Stripe, WorkOS

NOW = 1_700_000_000
BODY = b'{"x":1}'


@pytest.mark.parametrize(
    "template",
    [
        "{id}{timestamp}{body}",
        "{id}.{timestamp}{body}",
        "{timestamp}{body}",
        "{id}{body}",
        "{id}x{timestamp}.{body}",
        "{timestamp}.{id}9{body}",
        "v1:{id}ab{timestamp}:{body}",
    ],
)
def test_templates_with_movable_field_boundaries_are_refused(template: str) -> None:
    with pytest.raises(ConfigurationError, match="ambiguous"):
        HMACScheme(
            "X-Sig",
            timestamp_header="X-Ts" if "{timestamp}" in template else None,
            id_header="X-Id" if "{id}" in template else None,
            template=template,
        )


@pytest.mark.parametrize(
    "template",
    [
        "{body}",
        "{timestamp}.{body}",
        "{id}.{timestamp}.{body}",
        "v1:{id}:{timestamp}:{body}",
        "{id}a.{timestamp}-{body}",
    ],
)
def test_separated_templates_are_still_accepted(template: str) -> None:
    scheme = HMACScheme(
        "X-Sig",
        timestamp_header="X-Ts" if "{timestamp}" in template else None,
        id_header="X-Id" if "{id}" in template else None,
        template=template,
    )
    headers = Signer(scheme, "topsecret-value").sign(BODY, timestamp=NOW, msg_id="evt_100")
    Verifier(scheme, "topsecret-value").verify(BODY, headers, now=NOW)


def test_leading_zero_timestamp_and_separator_in_id_are_refused() -> None:
    scheme = HMACScheme(
        "X-Sig", timestamp_header="X-Ts", id_header="X-Id", template="{id}.{timestamp}.{body}"
    )
    verifier = Verifier(scheme, "topsecret-value", nonce_store=None)
    headers = Signer(scheme, "topsecret-value").sign(BODY, timestamp=NOW, msg_id="evt")
    with pytest.raises(MalformedHeader) as info:
        verifier.verify(BODY, {**headers, "X-Ts": "0" + str(NOW)}, now=NOW)
    assert info.value.reason == "malformed_timestamp"
    with pytest.raises(MalformedHeader):
        verifier.verify(BODY, {**headers, "X-Id": "evt.1"}, now=NOW)


@pytest.mark.parametrize("value", ["00", "01", "0" + str(NOW), "00" + str(NOW), "0000000000"])
def test_parse_timestamp_refuses_leading_zeros(value: str) -> None:
    with pytest.raises(MalformedHeader) as info:
        parse_timestamp(value, "X-Ts")
    assert info.value.reason == "malformed_timestamp"


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_parse_timestamp_accepts_each_number_in_its_one_spelling(number: int) -> None:
    assert parse_timestamp(str(number), "X-Ts") == number


@pytest.mark.parametrize(
    ("scheme", "secret", "header", "old", "new"),
    [
        (Stripe(), "whsec_abc", "Stripe-Signature", f"t={NOW},", f"t=0{NOW},"),
        (Paddle(), "pdl_ntfset_x", "Paddle-Signature", f"ts={NOW};", f"ts=0{NOW};"),
        (WorkOS(), "wos_x", "WorkOS-Signature", f"t={NOW}000,", f"t=0{NOW}000,"),
        (Slack(), "slacksecret", "X-Slack-Request-Timestamp", str(NOW), f"0{NOW}"),
        (StandardWebhooks(), "whsec_" + "a" * 32, "webhook-timestamp", str(NOW), f"0{NOW}"),
    ],
    ids=["stripe", "paddle", "workos", "slack", "standard-webhooks"],
)
def test_provider_schemes_refuse_leading_zero_timestamps(
    scheme: object, secret: str, header: str, old: str, new: str
) -> None:
    """A zero-padded copy of a genuine timestamp is malformed, refused before any crypto."""
    signer = Signer(scheme, secret)  # type: ignore[arg-type]
    genuine = signer.sign(BODY, timestamp=NOW, msg_id="msg1")
    verifier = Verifier(scheme, secret, nonce_store=None)  # type: ignore[arg-type]
    verifier.verify(BODY, genuine, now=NOW)
    assert old in genuine[header]
    with pytest.raises(MalformedHeader) as info:
        verifier.verify(BODY, {**genuine, header: genuine[header].replace(old, new)}, now=NOW)
    assert info.value.reason == "malformed_timestamp"
