"""SharedToken and GitLab: constant-time token checks, rotation, hostile headers, no replay key.

GitLab publishes no test vectors for its secret token (it is sent verbatim in X-Gitlab-Token,
https://docs.gitlab.com/user/project/integrations/webhooks/), so the tests build the header
the way GitLab and RFC 6750 section 2.1 describe it.
"""

from __future__ import annotations

import contextlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import (
    ConfigurationError,
    Headers,
    MalformedHeader,
    MissingHeader,
    SignatureMismatch,
    Signer,
    VerificationError,
    Verifier,
)
from hookseal.schemes import GitLab, SharedToken
from hookseal.schemes import _sent_secrets as sent_secrets_module
from hookseal.stores.memory import MemoryNonceStore

NOW = 1_700_000_000
TOKEN = "glpat-not-a-real-token-8f3a9c"
OLD_TOKEN = "old-token-0123456789abcdef"
BODY = b'{"object_kind":"push","ref":"refs/heads/main"}'
UUID = "5ba9a6a4-8fa7-4c47-b1a6-9f1d7d6c2e11"


def _verifier(scheme: SharedToken, secrets: object = TOKEN, **options: object) -> Verifier:
    return Verifier(scheme, secrets, **options)  # type: ignore[arg-type]


# --- round trips --------------------------------------------------------------------------


def test_gitlab_round_trip_exposes_the_event_uuid_unsigned() -> None:
    headers = {"X-Gitlab-Token": TOKEN, "X-Gitlab-Event-UUID": UUID, "X-Gitlab-Event": "Push Hook"}
    verified = _verifier(GitLab()).verify(BODY, headers, now=NOW)
    assert verified.body == BODY
    assert verified.msg_id == UUID
    assert verified.timestamp is None
    assert verified.scheme == "gitlab"
    assert verified.key_index == 0
    assert verified.replay_key == b""


def test_gitlab_signer_sends_token_and_uuid() -> None:
    headers = Signer(GitLab(), TOKEN).sign(BODY, msg_id=UUID)
    assert headers == {"X-Gitlab-Token": TOKEN, "X-Gitlab-Event-UUID": UUID}
    generated = Signer(GitLab(), TOKEN).sign(BODY)
    assert len(generated["X-Gitlab-Event-UUID"]) == 36
    assert _verifier(GitLab()).verify(BODY, generated, now=NOW).msg_id is not None


def test_gitlab_without_event_uuid_is_accepted_with_no_id() -> None:
    verified = _verifier(GitLab()).verify(BODY, {"x-gitlab-token": TOKEN}, now=NOW)
    assert verified.msg_id is None


def test_bearer_round_trip_and_case_insensitive_auth_scheme() -> None:
    scheme = SharedToken(header="Authorization", prefix="Bearer ")
    verifier = _verifier(scheme)
    headers = Signer(scheme, TOKEN).sign(BODY)
    assert headers == {"Authorization": f"Bearer {TOKEN}"}
    assert verifier.verify(BODY, headers, now=NOW).scheme == "shared-token"
    # RFC 7235: the auth scheme is case-insensitive; the token itself is not.
    assert verifier.verify(BODY, {"authorization": f"bearer {TOKEN}"}, now=NOW)
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, {"Authorization": f"Bearer {TOKEN.upper()}"}, now=NOW)


def test_custom_header_with_id_header() -> None:
    scheme = SharedToken("X-Agent-Secret", id_header="X-Run-Id")
    verified = _verifier(scheme).verify(
        BODY, {"X-Agent-Secret": TOKEN, "X-Run-Id": "run_42"}, now=NOW
    )
    assert verified.msg_id == "run_42"
    assert repr(scheme) == "SharedToken(header='X-Agent-Secret', prefix='', id_header='X-Run-Id')"


@given(
    token=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=80),
    body=st.binary(max_size=200),
)
def test_round_trip_any_printable_token(token: str, body: bytes) -> None:
    scheme = SharedToken("X-Agent-Secret")
    headers = Signer(scheme, token).sign(body)
    assert _verifier(scheme, token, nonce_store=None).verify(body, headers, now=NOW).body == body


# --- rotation -----------------------------------------------------------------------------


def test_rotation_accepts_old_and_new_and_reports_the_index() -> None:
    verifier = _verifier(GitLab(), [OLD_TOKEN, TOKEN])
    assert verifier.verify(BODY, {"X-Gitlab-Token": OLD_TOKEN}, now=NOW).key_index == 0
    assert verifier.verify(BODY, {"X-Gitlab-Token": TOKEN}, now=NOW).key_index == 1
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, {"X-Gitlab-Token": "neither-of-them"}, now=NOW)


def test_every_configured_token_is_compared_whatever_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def counting_compare(a: bytes, b: bytes) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(sent_secrets_module.hmac, "compare_digest", counting_compare)
    tokens = ["t" * 5, "u" * 40, TOKEN, "v" * 200]
    verifier = _verifier(SharedToken("X-Agent-Secret"), tokens)
    for presented in ("t" * 5, "x", "y" * 3000):
        calls.clear()
        expect_error = presented != "t" * 5
        with pytest.raises(SignatureMismatch) if expect_error else contextlib.nullcontext():
            verifier.verify(BODY, {"X-Agent-Secret": presented}, now=NOW)
        # One comparison per configured token (no early exit on a match or a length
        # difference), always between equal-length digests.
        assert len(calls) == len(tokens)
        assert set(calls) == {(32, 32)}


# --- replay: none, by design --------------------------------------------------------------


def test_identical_genuine_deliveries_are_all_accepted_and_nothing_is_recorded() -> None:
    store = MemoryNonceStore()
    verifier = _verifier(GitLab(), nonce_store=store)
    headers = {"X-Gitlab-Token": TOKEN, "X-Gitlab-Event-UUID": UUID}
    for _ in range(3):
        assert verifier.verify(BODY, headers, now=NOW).body == BODY
    assert len(store) == 0


@pytest.mark.asyncio
async def test_async_verify_records_nothing_either() -> None:
    store = MemoryNonceStore()
    verifier = _verifier(GitLab(), nonce_store=store)
    headers = {"X-Gitlab-Token": TOKEN}
    for _ in range(2):
        assert (await verifier.averify(BODY, headers, now=NOW)).replay_key == b""
    assert len(store) == 0


def test_a_full_store_does_not_refuse_shared_token_deliveries() -> None:
    store = MemoryNonceStore(max_entries=1)
    assert store.reserve(b"k" * 16, NOW + 100, NOW)
    verifier = _verifier(SharedToken("X-Agent-Secret"), nonce_store=store)
    assert verifier.verify(BODY, {"X-Agent-Secret": TOKEN}, now=NOW)


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    ["", "   ", f" {TOKEN}", f"{TOKEN}\n", "tökén", "tab\there", b"", b"\xff\xfe", 42],
)
def test_bad_tokens_are_refused_at_construction(secret: object) -> None:
    with pytest.raises(ConfigurationError):
        _verifier(GitLab(), secret)


def test_no_tokens_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        _verifier(GitLab(), [])


@pytest.mark.parametrize(
    "options",
    [
        {"header": ""},
        {"header": "X Agent"},
        {"header": "X-Agent:"},
        {"header": 5},
        {"header": "Authorization", "prefix": " Bearer"},
        {"header": "Authorization", "prefix": "Bearér "},
        {"header": "Authorization", "prefix": "Bearer\n"},
        {"header": "X-Agent", "id_header": "bad id"},
    ],
)
def test_bad_scheme_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        SharedToken(**options)  # type: ignore[arg-type]


def test_reprs_never_show_tokens() -> None:
    verifier = _verifier(GitLab(), [OLD_TOKEN, TOKEN])
    signer = Signer(GitLab(), TOKEN)
    for text in (repr(verifier), repr(signer), repr(verifier._keys), repr(GitLab())):
        assert TOKEN not in text
        assert OLD_TOKEN not in text


# --- hostile headers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "error", "reason"),
    [
        ({}, MissingHeader, "missing_header"),
        ({"X-Gitlab-Token": ""}, MissingHeader, "missing_header"),
        ({"X-Gitlab-Token": "   "}, MissingHeader, "missing_header"),
        ({"X-Gitlab-Token": TOKEN + " "}, SignatureMismatch, "signature_mismatch"),
        ({"X-Gitlab-Token": TOKEN[:-1]}, SignatureMismatch, "signature_mismatch"),
        ({"X-Gitlab-Token": TOKEN + "x"}, SignatureMismatch, "signature_mismatch"),
        ({"X-Gitlab-Token": TOKEN + "é"}, MalformedHeader, "malformed_header"),
        ({"X-Gitlab-Token": TOKEN + "\x00"}, MalformedHeader, "malformed_header"),
        ({"X-Gitlab-Token": TOKEN + "\r\n"}, MalformedHeader, "malformed_header"),
        ({"X-Gitlab-Token": "\ufffd"}, MalformedHeader, "malformed_header"),
        ({"X-Gitlab-Token": "a" * 5000}, MalformedHeader, "header_too_long"),
        ({"X-Gitlab-Token": TOKEN, "X-Gitlab-Event-UUID": "u" * 300}, MalformedHeader, None),
        ({"X-Gitlab-Token": TOKEN, "X-Gitlab-Event-UUID": "a b"}, MalformedHeader, None),
    ],
)
def test_hostile_gitlab_headers(
    headers: dict[str, str], error: type[VerificationError], reason: str | None
) -> None:
    with pytest.raises(error) as caught:
        _verifier(GitLab()).verify(BODY, headers, now=NOW)
    if reason is not None:
        assert caught.value.reason == reason
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "lines",
    [
        [("X-Gitlab-Token", "forged"), ("X-Gitlab-Token", TOKEN)],
        [("X-Gitlab-Token", TOKEN), ("X-Gitlab-Token", "forged")],
        [("X-Gitlab-Token", TOKEN), ("x-gitlab-token", TOKEN)],
    ],
)
def test_duplicated_token_header_is_refused(lines: list[tuple[str, str]]) -> None:
    with pytest.raises(MalformedHeader) as caught:
        _verifier(GitLab()).verify(BODY, Headers(lines), now=NOW)
    assert caught.value.reason == "duplicate_header"


@pytest.mark.parametrize(
    "value",
    ["Bearer", "Bearer ", "Basic " + TOKEN, TOKEN, "Bearer" + TOKEN, "Bearer  "],
)
def test_bearer_prefix_problems(value: str) -> None:
    verifier = _verifier(SharedToken("Authorization", prefix="Bearer "))
    with pytest.raises(MalformedHeader):
        verifier.verify(BODY, {"Authorization": value}, now=NOW)


def test_bearer_with_extra_space_is_a_mismatch_not_a_match() -> None:
    verifier = _verifier(SharedToken("Authorization", prefix="Bearer "))
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, {"Authorization": f"Bearer  {TOKEN}"}, now=NOW)


def test_the_body_is_not_covered() -> None:
    # What the docs warn about: the token authenticates the sender, not the bytes.
    verifier = _verifier(GitLab())
    assert verifier.verify(b"anything at all", {"X-Gitlab-Token": TOKEN}, now=NOW)


@given(st.text(max_size=60))
def test_any_header_text_gives_a_verification_error_or_the_token(value: str) -> None:
    verifier = _verifier(SharedToken("Authorization", prefix="Bearer "), nonce_store=None)
    try:
        verified = verifier.verify(BODY, {"Authorization": value}, now=NOW)
    except VerificationError:
        return
    assert value.lower().startswith("bearer ")
    assert value[len("Bearer ") :] == TOKEN
    assert verified.key_index == 0
