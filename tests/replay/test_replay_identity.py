"""The replay identity depends only on what was signed, never on the keys' configuration.

During a secret rotation senders put one signature per active secret in the header; receivers
add the new secret first (step 1), and in a rolling deploy some workers hold ``[old]`` while
others hold ``[old, new]``. A captured delivery must be refused as a replay in every one of
those states, and whichever of its signatures an attacker strips. Endpoints with different
secrets sharing one store must never refuse each other's genuine deliveries.
"""

from __future__ import annotations

import base64
import hmac
import itertools
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import ConfigurationError, ReplayedDelivery, Signer, Verified, Verifier
from hookseal._keys import HMACKey
from hookseal.schemes import (
    GitHub,
    HMACScheme,
    Paddle,
    Shopify,
    Slack,
    StandardWebhooks,
    Stripe,
    WorkOS,
)
from hookseal.schemes.base import Scheme, make_replay_key, match_hmac
from hookseal.stores.memory import MemoryNonceStore

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


# -- rotation step 1 and rolling deploys, with one shared store ------------------------------

ROTATING: list[tuple[str, Callable[[], object], tuple[str, str]]] = [
    ("github", GitHub, ("old-gh-secret", "new-gh-secret")),
    ("shopify", Shopify, ("old-shopify-secret", "new-shopify-secret")),
    ("stripe", Stripe, ("whsec_old_secret_aaaa", "whsec_new_secret_bbbb")),
    ("slack", Slack, ("old-slack-secret", "new-slack-secret")),
    ("paddle", Paddle, ("pdl_ntfset_old", "pdl_ntfset_new")),
    ("workos", WorkOS, ("wos_old_secret", "wos_new_secret")),
    ("hmac", lambda: HMACScheme("X-Sig", prefix="sha256="), ("old-secret-1", "new-secret-2")),
    ("standard-webhooks", StandardWebhooks, (SW_OLD, SW_NEW)),
]
WORKER_KEYS = [("old",), ("old", "new"), ("new", "old")]


@pytest.mark.parametrize(
    ("make", "secrets"), [c[1:] for c in ROTATING], ids=[c[0] for c in ROTATING]
)
@pytest.mark.parametrize("first", WORKER_KEYS, ids="-".join)
@pytest.mark.parametrize("second", WORKER_KEYS, ids="-".join)
def test_a_delivery_is_accepted_once_whatever_each_worker_holds(
    make: Callable[[], object],
    secrets: tuple[str, str],
    first: tuple[str, ...],
    second: tuple[str, ...],
) -> None:
    """Rotation step 1 or a rolling deploy: workers with other key lists share one store."""
    by_name = dict(zip(("old", "new"), secrets, strict=True))
    scheme = make()
    headers = Signer(scheme, by_name["old"]).sign(BODY, timestamp=NOW, msg_id="msg1")  # type: ignore[arg-type]
    store = MemoryNonceStore()
    worker_a = Verifier(make(), [by_name[n] for n in first], nonce_store=store)  # type: ignore[arg-type]
    worker_b = Verifier(make(), [by_name[n] for n in second], nonce_store=store)  # type: ignore[arg-type]
    worker_a.verify(BODY, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        worker_b.verify(BODY, headers, now=NOW)


def test_a_set_of_secrets_is_refused_at_construction() -> None:
    for unordered in ({"a-secret", "b-secret"}, frozenset({"a-secret"}), {"k": 1}.keys()):
        with pytest.raises(ConfigurationError, match="ordered"):
            Verifier(Stripe(), unordered)


# -- endpoints sharing one store --------------------------------------------------------------

SHARED: list[tuple[str, Callable[[], object], tuple[str, str]]] = [
    ("standard-webhooks", StandardWebhooks, (SW_OLD, SW_NEW)),
    (
        "hmac-id-timestamp",
        lambda: HMACScheme(
            "X-Sig", id_header="X-Id", timestamp_header="X-Ts", template="{id}.{timestamp}.{body}"
        ),
        ("tenant-a-secret", "tenant-b-secret"),
    ),
    ("stripe", Stripe, ("whsec_tenant_a", "whsec_tenant_b")),
    ("github", GitHub, ("tenant-a-secret", "tenant-b-secret")),
]


@pytest.mark.parametrize(("make", "secrets"), [c[1:] for c in SHARED], ids=[c[0] for c in SHARED])
@pytest.mark.parametrize("same_body", [True, False])
def test_endpoints_sharing_a_store_never_refuse_each_others_deliveries(
    make: Callable[[], object], secrets: tuple[str, str], same_body: bool
) -> None:
    """Same id and timestamp (and even body) at two endpoints: both genuine, both accepted."""
    store = MemoryNonceStore()
    secret_a, secret_b = secrets
    endpoint_a = Verifier(make(), [secret_a], nonce_store=store)  # type: ignore[arg-type]
    endpoint_b = Verifier(make(), [secret_b], nonce_store=store)  # type: ignore[arg-type]
    body_b = BODY if same_body else b'{"id":"evt_2"}'
    for_a = Signer(make(), secret_a).sign(BODY, timestamp=NOW, msg_id="msg_shared")  # type: ignore[arg-type]
    for_b = Signer(make(), secret_b).sign(body_b, timestamp=NOW, msg_id="msg_shared")  # type: ignore[arg-type]
    endpoint_a.verify(BODY, for_a, now=NOW)
    endpoint_b.verify(body_b, for_b, now=NOW)  # not a replay: another endpoint's delivery
    with pytest.raises(ReplayedDelivery):
        endpoint_b.verify(body_b, for_b, now=NOW)


def test_a_tenant_cannot_burn_another_tenants_message_ids() -> None:
    """A tenant signs deliveries with its own secret, reusing ids the other tenant will send."""
    store = MemoryNonceStore()
    victim_secret, attacker_secret = SW_OLD, SW_NEW
    victim = Verifier(StandardWebhooks(), [victim_secret], nonce_store=store)
    attacker = Verifier(StandardWebhooks(), [attacker_secret], nonce_store=store)
    for msg_id in ("msg_1", "msg_2", "msg_3"):
        burn = Signer(StandardWebhooks(), attacker_secret).sign(BODY, timestamp=NOW, msg_id=msg_id)
        attacker.verify(BODY, burn, now=NOW)
    for msg_id in ("msg_1", "msg_2", "msg_3"):
        genuine = Signer(StandardWebhooks(), victim_secret).sign(BODY, timestamp=NOW, msg_id=msg_id)
        assert victim.verify(BODY, genuine, now=NOW).msg_id == msg_id


# -- the default store survives a verifier built per request ---------------------------------


def test_a_verifier_built_per_request_still_refuses_replays() -> None:
    headers = Signer(GitHub(), "gh-secret").sign(BODY, msg_id="d1")
    Verifier(GitHub(), ["gh-secret"]).verify(BODY, headers, now=NOW)
    with pytest.raises(ReplayedDelivery):
        Verifier(GitHub(), ["gh-secret"]).verify(BODY, headers, now=NOW)


# -- the replay key is the digest of the documented signed material ------------------------------

TEXT_SECRET = "whsec_text_secret_for_tests"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()


class RecordingStore:
    def __init__(self) -> None:
        self.keys: list[bytes] = []

    def reserve(self, key: bytes, expires_at: float, now: float) -> bool:
        self.keys.append(key)
        return True


def documented_key(scheme: Scheme, body: bytes, headers: dict[str, str], secret: str) -> bytes:
    """The documented material, computed independently of hookseal's HMAC code."""
    raw = secret.encode()
    if isinstance(scheme, StandardWebhooks):
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        material = hmac.digest(base64.b64decode(secret[6:]), signed, "sha256")
    elif isinstance(scheme, Stripe):
        ts = headers["Stripe-Signature"].split(",")[0][2:]
        material = hmac.digest(raw, f"{ts}.".encode() + body, "sha256")
    elif isinstance(scheme, Slack):
        ts = headers["X-Slack-Request-Timestamp"]
        material = hmac.digest(raw, f"v0:{ts}:".encode() + body, "sha256")
    else:
        material = hmac.digest(raw, body, "sha256")
    return make_replay_key(scheme.name, material)


@pytest.mark.parametrize(
    ("scheme", "secret"),
    [
        (StandardWebhooks(), STANDARD_SECRET),
        (Stripe(), TEXT_SECRET),
        (Slack(), TEXT_SECRET),
        (GitHub(), TEXT_SECRET),
    ],
    ids=lambda s: getattr(s, "name", ""),
)
@given(
    body=st.binary(max_size=500),
    msg_id=st.from_regex(r"msg_[A-Za-z0-9_-]{1,40}", fullmatch=True),
)
def test_the_store_receives_the_digest_of_the_signed_material(
    scheme: Scheme, secret: str, body: bytes, msg_id: str
) -> None:
    headers = Signer(scheme, secret).sign(body, timestamp=NOW, msg_id=msg_id)
    store = RecordingStore()
    verified = Verifier(scheme, [secret], nonce_store=store).verify(body, headers, now=NOW)
    expected = documented_key(scheme, body, headers, secret)
    assert store.keys == [expected]
    assert verified.replay_key == expected
    assert len(verified.replay_key) == 16


def test_without_a_store_the_replay_key_is_still_available_and_stable() -> None:
    body = b"{}"
    headers = Signer(StandardWebhooks(), STANDARD_SECRET).sign(body, timestamp=NOW, msg_id="m1")
    verified = Verifier(StandardWebhooks(), [STANDARD_SECRET], nonce_store=None).verify(
        body, headers, now=NOW
    )
    first = verified.replay_key
    mac = hmac.digest(base64.b64decode(STANDARD_SECRET[6:]), b"m1.1700000000." + body, "sha256")
    assert first == verified.replay_key == make_replay_key("standard-webhooks", mac)


def test_verified_takes_a_replay_key_or_the_material_to_derive_it() -> None:
    verified = Verified(b"x", timestamp=1, msg_id="a", key_index=0, scheme="s", replay_key=b"k")
    assert verified.replay_key == b"k"
    assert verified.replay_keys == (b"k",)
    derived = Verified(
        b"x", timestamp=1, msg_id="a", key_index=0, scheme="s", replay_material=[b"b", b"a"]
    )
    assert derived.replay_keys == tuple(sorted(make_replay_key("s", m) for m in (b"a", b"b")))
    assert Verified(b"x", timestamp=1, msg_id="a", key_index=0, scheme="s").replay_keys == ()
