"""Telegram, Okta event hooks, Flutterwave v3 and HTTP basic credentials (Postmark and others).

None of these senders signs anything, so there is no signature vector to publish; the tests
pin the documented header and value form ("derived"):
- Telegram: https://core.telegram.org/bots/api#setwebhook (``secret_token``, 1-256 of
  ``A-Za-z0-9_-``, sent in ``X-Telegram-Bot-Api-Secret-Token``);
- Okta: https://developer.okta.com/docs/concepts/event-hooks/ (configured header and value);
- Flutterwave: https://developer.flutterwave.com/docs/webhooks (``verif-hash``);
- basic credentials: RFC 7617 section 2's own example, ``Aladdin:open sesame`` ->
  ``QWxhZGRpbjpvcGVuIHNlc2FtZQ==`` (a published vector).
"""

from __future__ import annotations

import pytest

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
from hookseal.schemes.token_senders import BasicAuth, Flutterwave, OktaEventHook, Telegram
from hookseal.stores.memory import MemoryNonceStore

BODY = b'{"update_id":1}'


def _verify(scheme: object, secrets: object, headers: object) -> object:
    return Verifier(scheme, secrets).verify(BODY, headers)  # type: ignore[arg-type]


# --- basic credentials ----------------------------------------------------------------------


def test_rfc7617_example_verifies() -> None:
    """RFC 7617 section 2: user 'Aladdin', password 'open sesame'."""
    header = {"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}
    verified = _verify(BasicAuth(), "Aladdin:open sesame", header)
    assert verified.scheme == "basic-auth"  # type: ignore[attr-defined]
    assert verified.replay_key == b""  # type: ignore[attr-defined]
    # The scheme name is case-insensitive (RFC 7617 / 9110).
    lower = {"authorization": "basic " + header["Authorization"][6:]}
    assert _verify(BasicAuth(), "Aladdin:open sesame", lower)


def test_signer_produces_the_rfc7617_header() -> None:
    headers = Signer(BasicAuth(), "Aladdin:open sesame").sign(BODY)
    assert headers == {"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}


@pytest.mark.parametrize(
    "value",
    [
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZA==",  # open sesamd
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",  # unpadded
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==QQ",
        "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Basic ",
        "Basic",
    ],
)
def test_other_credentials_are_refused(value: str) -> None:
    with pytest.raises((SignatureMismatch, MalformedHeader, MissingHeader)):
        _verify(BasicAuth(), "Aladdin:open sesame", {"Authorization": value})


@pytest.mark.parametrize("secret", ["Aladdin", ":open sesame", "Aladdin:", "", " a:b"])
def test_credentials_must_be_user_colon_password(secret: str) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(BasicAuth(), secret)


def test_rotation_accepts_either_credential() -> None:
    for secret in ("old:one", "new:two"):
        headers = Signer(BasicAuth(), secret).sign(BODY)
        assert _verify(BasicAuth(), ["old:one", "new:two"], headers)


# --- Telegram -------------------------------------------------------------------------------


TELEGRAM = "X-Telegram-Bot-Api-Secret-Token"


def test_telegram_token_verifies_and_nothing_is_recorded() -> None:
    store = MemoryNonceStore()
    verifier = Verifier(Telegram(), "My_secret-Token_42", nonce_store=store)
    for _ in range(2):  # no replay detection: nothing is signed to identify a delivery by
        verified = verifier.verify(BODY, {TELEGRAM: "My_secret-Token_42"})
        assert verified.scheme == "telegram"
        assert not verified.recorded
    assert Signer(Telegram(), "My_secret-Token_42").sign(BODY) == {TELEGRAM: "My_secret-Token_42"}


@pytest.mark.parametrize(
    "secret", ["123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "a" * 257, "with space", "é"]
)
def test_telegram_secret_outside_the_alphabet_is_a_configuration_error(secret: str) -> None:
    with pytest.raises(ConfigurationError):
        Verifier(Telegram(), secret)


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, MissingHeader),
        ({TELEGRAM: ""}, MissingHeader),
        ({TELEGRAM: "My_secret-Token_43"}, SignatureMismatch),
        ({TELEGRAM: "My_secret-Token_4"}, SignatureMismatch),
        ({TELEGRAM: "My_secret-Token_42 "}, SignatureMismatch),
        ({TELEGRAM: "My_secret-Token_42\x00"}, MalformedHeader),
        ({TELEGRAM: "x" * 5000}, MalformedHeader),
        (Headers([(TELEGRAM, "My_secret-Token_42"), (TELEGRAM, "x")]), MalformedHeader),
    ],
)
def test_telegram_hostile_headers(headers: object, error: type[VerificationError]) -> None:
    with pytest.raises(error):
        _verify(Telegram(), "My_secret-Token_42", headers)


# --- Okta and Flutterwave -------------------------------------------------------------------


def test_okta_compares_the_whole_configured_value() -> None:
    secret = "Bearer okta-hook-secret"
    assert _verify(OktaEventHook(), secret, {"Authorization": secret})
    with pytest.raises(SignatureMismatch):
        _verify(OktaEventHook(), secret, {"Authorization": "Bearer okta-hook-secreT"})
    custom = OktaEventHook("X-Hook-Auth")
    assert _verify(custom, "abc123", {"X-Hook-Auth": "abc123"})
    with pytest.raises(MissingHeader):
        _verify(custom, "abc123", {"Authorization": "abc123"})
    assert repr(custom) == "OktaEventHook(header='X-Hook-Auth')"


def test_flutterwave_verif_hash() -> None:
    assert _verify(Flutterwave(), "my-secret-hash", {"verif-hash": "my-secret-hash"})
    with pytest.raises(SignatureMismatch):
        _verify(Flutterwave(), "my-secret-hash", {"verif-hash": "my-secret-hasH"})
    with pytest.raises(MissingHeader):
        _verify(Flutterwave(), "my-secret-hash", {"verifhash": "my-secret-hash"})
    with pytest.raises(MalformedHeader):
        _verify(
            Flutterwave(),
            "my-secret-hash",
            Headers([("verif-hash", "wrong"), ("verif-hash", "my-secret-hash")]),
        )


@pytest.mark.parametrize(
    ("scheme", "secret"),
    [
        (Telegram(), "Sup3r_secret-value"),
        (OktaEventHook(), "user:Sup3r_secret-value"),
        (Flutterwave(), "user:Sup3r_secret-value"),
        (BasicAuth(), "user:Sup3r_secret-value"),
    ],
)
def test_no_secret_in_reprs_or_errors(scheme: object, secret: str) -> None:
    verifier = Verifier(scheme, secret)  # type: ignore[arg-type]
    assert "Sup3r" not in repr(verifier)
    header = next(iter(Signer(scheme, secret).sign(BODY)))  # type: ignore[arg-type]
    with pytest.raises(SignatureMismatch) as caught:
        verifier.verify(BODY, {header: "Basic dXNlcjp3cm9uZw==" if "Auth" in header else "no"})
    assert "Sup3r" not in str(caught.value)
