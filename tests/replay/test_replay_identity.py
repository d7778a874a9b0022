"""Finding 1 (HIGH): a rotation header stripped to an older key's signature is a replay.

During a secret rotation senders put one signature per active secret in the header. The replay
key must not depend on which configured key matched, or a captured delivery can be replayed
once per secret by dropping the newer signatures.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Sequence

import pytest

from hookseal import ReplayedDelivery, Signer, Verifier
from hookseal._keys import HMACKey
from hookseal.schemes import GitHub, HMACScheme, Paddle, StandardWebhooks, Stripe, WorkOS
from hookseal.schemes._base import match_hmac

NOW = 1_700_000_000
BODY = b'{"id":"evt_1","amount":100}'

# Each case: scheme, [old, new] secrets, and how to split a signed header into
# (signature header name, the text before the signatures, separator, signature entries).
Split = Callable[[dict[str, str]], tuple[str, str, str, list[str]]]


def _split_stripe(headers: dict[str, str]) -> tuple[str, str, str, list[str]]:
    ts, sig = headers["Stripe-Signature"].split(",")
    return "Stripe-Signature", ts + ",", ",", [sig]


def _split_paddle(headers: dict[str, str]) -> tuple[str, str, str, list[str]]:
    ts, sig = headers["Paddle-Signature"].split(";")
    return "Paddle-Signature", ts + ";", ";", [sig]


def _split_workos(headers: dict[str, str]) -> tuple[str, str, str, list[str]]:
    ts, sig = headers["WorkOS-Signature"].split(", ")
    return "WorkOS-Signature", ts + ", ", ", ", [sig]


def _split_hmac(headers: dict[str, str]) -> tuple[str, str, str, list[str]]:
    return "X-Sig", "", ",", [headers["X-Sig"]]


def _split_standard(headers: dict[str, str]) -> tuple[str, str, str, list[str]]:
    return "webhook-signature", "", " ", [headers["webhook-signature"]]


SW_OLD = "whsec_" + base64.b64encode(b"o" * 24).decode()
SW_NEW = "whsec_" + base64.b64encode(b"n" * 24).decode()

CASES: list[tuple[str, Callable[[], object], tuple[str, str], Split]] = [
    ("stripe", Stripe, ("whsec_old_secret_aaaa", "whsec_new_secret_bbbb"), _split_stripe),
    ("paddle", Paddle, ("pdl_ntfset_old", "pdl_ntfset_new"), _split_paddle),
    ("workos", WorkOS, ("wos_old_secret", "wos_new_secret"), _split_workos),
    (
        "hmac-body-only",
        lambda: HMACScheme("X-Sig", prefix="sha256="),
        ("old-secret-1", "new-secret-2"),
        _split_hmac,
    ),
    (
        "hmac-timestamp",
        lambda: HMACScheme("X-Sig", timestamp_header="X-Ts", template="{timestamp}.{body}"),
        ("old-secret-1", "new-secret-2"),
        _split_hmac,
    ),
    (
        "hmac-base64-id-only",
        lambda: HMACScheme("X-Sig", encoding="base64", id_header="X-Id", template="{id}.{body}"),
        ("old-secret-1", "new-secret-2"),
        _split_hmac,
    ),
    ("standard-webhooks", StandardWebhooks, (SW_OLD, SW_NEW), _split_standard),
]


def _rotation_delivery(
    make: Callable[[], object], secrets: tuple[str, str], split: Split
) -> tuple[Verifier, str, str, str, list[str], dict[str, str]]:
    scheme = make()
    old, new = secrets
    signed_old = Signer(scheme, old).sign(BODY, timestamp=NOW, msg_id="msg1")  # type: ignore[arg-type]
    signed_new = Signer(scheme, new).sign(BODY, timestamp=NOW, msg_id="msg1")  # type: ignore[arg-type]
    name, head, sep, sig_new = split(signed_new)
    _, _, _, sig_old = split(signed_old)
    verifier = Verifier(scheme, [old, new])  # type: ignore[arg-type]
    return verifier, name, head, sep, sig_new + sig_old, signed_new


@pytest.mark.parametrize(
    ("make", "secrets", "split"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_any_subset_of_a_rotation_header_is_a_replay(
    make: Callable[[], object], secrets: tuple[str, str], split: Split
) -> None:
    verifier, name, head, sep, signatures, others = _rotation_delivery(make, secrets, split)
    first = verifier.verify(BODY, {**others, name: head + sep.join(signatures)}, now=NOW)
    assert first.key_index == 1
    subsets: list[Sequence[str]] = [
        order
        for size in range(1, len(signatures) + 1)
        for chosen in itertools.combinations(signatures, size)
        for order in itertools.permutations(chosen)
    ]
    assert len(subsets) == 4
    for subset in subsets:
        with pytest.raises(ReplayedDelivery) as info:
            verifier.verify(BODY, {**others, name: head + sep.join(subset)}, now=NOW)
        assert info.value.reason == "replayed"


@pytest.mark.parametrize(
    ("make", "secrets", "split"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_old_key_first_then_new_key_is_a_replay(
    make: Callable[[], object], secrets: tuple[str, str], split: Split
) -> None:
    """The other order: the old-key-only copy arrives first, the full header later."""
    verifier, name, head, _, signatures, others = _rotation_delivery(make, secrets, split)
    assert verifier.verify(BODY, {**others, name: head + signatures[1]}, now=NOW).key_index == 0
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, {**others, name: head + signatures[0]}, now=NOW)


def test_match_hmac_returns_every_keys_mac_whichever_key_matched() -> None:
    keys = [HMACKey(b"old-secret-1"), HMACKey(b"middle-secret"), HMACKey(b"new-secret-2")]
    every = {key.digest_parts(b"1.", BODY) for key in keys}
    for position, key in enumerate(keys):
        presented = [key.digest_parts(b"1.", BODY)]
        index, material = match_hmac(keys, presented, b"1.", BODY, "X-Sig")
        assert index == position
        assert set(material) == every


def test_github_sha1_fallback_shares_the_canonical_replay_key() -> None:
    """Stripping X-Hub-Signature-256 from an old-key delivery must not make it fresh again."""
    scheme = GitHub(allow_sha1=True)
    verifier = Verifier(scheme, ["old-gh-secret", "new-gh-secret"])
    headers = Signer(scheme, "old-gh-secret").sign(BODY, msg_id="d1")
    assert verifier.verify(BODY, headers, now=NOW).key_index == 0
    sha1_only = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    with pytest.raises(ReplayedDelivery):
        verifier.verify(BODY, sha1_only, now=NOW)
