"""``hookseal explain`` diagnoses the CLI tests do not reach, run in-process on real deliveries."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from hookseal import Signer
from hookseal._explain import _secret_variants, _url_variants, explain
from hookseal.schemes import Discord, GitHub, Twilio

NOW = 1_700_000_000
SECRET = "coverage-gaps-github-secret"
FORM = b"AccountSid=AC123&Body=Hi"
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


def github(body: bytes, secret: str | bytes = SECRET) -> dict[str, str]:
    return Signer(GitHub(), secret).sign(body, timestamp=NOW, msg_id="gh-1")


def test_missing_header_says_to_fix_what_it_says() -> None:
    diagnosis = explain("github", [SECRET], b"{}", {"Content-Type": "application/json"}, now=NOW)
    assert not diagnosis.verified
    assert diagnosis.reason == "missing_header"
    assert diagnosis.causes == []
    assert diagnosis.render().endswith("no variant of the body, secret or URL changes this: "
                                       "fix what it says.")  # fmt: skip


def test_surrounding_whitespace_in_the_configured_secret() -> None:
    body = b'{"a": 1}'
    diagnosis = explain("github", [SECRET + " \n"], body, github(body), now=NOW)
    assert diagnosis.causes
    assert "with surrounding whitespace removed" in diagnosis.causes[0]
    assert SECRET not in diagnosis.render()


def test_secret_variants_skip_a_whsec_part_that_is_not_base64() -> None:
    labels = [label for label, _ in _secret_variants("whsec_not*base64!")]
    assert not any("base64 part encodes" in label for label in labels)
    assert any("base64 part encodes" in label for label, _ in _secret_variants("whsec_QUJDRA=="))
    # The whsec_ form whose base64 is broken still gets its other forms tried, end to end.
    body = b'{"a": 1}'
    diagnosis = explain("github", ["whsec_not*base64!"], body, github(body, "not*base64!"),
                        now=NOW)  # fmt: skip
    assert diagnosis.causes
    assert "without its 'whsec_' prefix" in diagnosis.causes[0]


@pytest.mark.parametrize(
    ("signed", "seen", "label"),
    [
        ("https://h.example/hook?a=1&b=2", "https://h.example/hook?b=2&a=1", "sorted order"),
        ("https://h.example/hook", "https://h.example/hook/", "no trailing slash"),
    ],
)
def test_url_variants_find_the_signed_url(signed: str, seen: str, label: str) -> None:
    token = "coverage-gaps-twilio-token"
    headers = {**Signer(Twilio(), token).sign(FORM, timestamp=NOW, url=signed), **FORM_TYPE}
    diagnosis = explain("twilio", [token], FORM, headers, url=seen, now=NOW)
    assert diagnosis.causes
    assert label in diagnosis.causes[0]


def test_url_variants_only_for_http_urls_with_a_host() -> None:
    assert list(_url_variants("ftp://h.example/hook")) == []
    assert list(_url_variants("https:///hook")) == []
    assert list(_url_variants("https://h.example/hook"))


def test_python_reserialisation_hint_needs_a_container_of_two() -> None:
    wrong = "another-github-secret"
    two = json.dumps({"a": 1, "b": 2}).encode()
    one = json.dumps({"a": 1}).encode()
    hint = "possibly a re-serialised body"
    assert any(hint in c for c in explain("github", [SECRET], two, github(two, wrong),
                                          now=NOW).causes)  # fmt: skip
    assert not any(hint in c for c in explain("github", [SECRET], one, github(one, wrong),
                                              now=NOW).causes)  # fmt: skip


def test_secret_forms_a_scheme_cannot_load_are_skipped() -> None:
    """Discord's key is a public key: most variants of it do not even load."""
    private = ed25519.Ed25519PrivateKey.generate()
    public_hex = private.public_key().public_bytes_raw().hex()
    headers = Signer(Discord(), private).sign(b'{"type":1}', timestamp=NOW)
    diagnosis = explain("discord", [public_hex], b'{"type":2}', headers, now=NOW)
    assert diagnosis.reason == "signature_mismatch"
    assert diagnosis.causes == []


def test_unloadable_secret_with_no_working_form() -> None:
    diagnosis = explain("standard-webhooks", ["whsec_"], b"{}", {}, now=NOW)
    assert diagnosis.reason == "configuration_error"
    assert diagnosis.causes == []
