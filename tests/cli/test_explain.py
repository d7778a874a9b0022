"""``hookseal explain``: each diagnosis reproduced with a real failing delivery, in a subprocess.

Every test also checks that stdout and stderr hold neither the configured secret, nor the
signature the verifier expected for the bytes it got, nor the presented signature.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cli_support import (
    SECRET_ENV,
    assert_no_leak,
    expected_signatures,
    header_args,
    run,
    signature_tokens,
)

from hookseal import Signer
from hookseal._explain import _secret_variants, _url_variants
from hookseal._explain import explain as explain_function
from hookseal.schemes import Discord, GitHub, StandardWebhooks, Stripe, Twilio

NOW = 1_700_000_000
STANDARD_KEY = b"explain-standard-webhooks-key!!!"
STANDARD_SECRET = "whsec_" + base64.b64encode(STANDARD_KEY).decode()
STRIPE_SECRET = "whsec_ExplainStripeSecret0123456789ABC"
GITHUB_SECRET = "explain-github-secret"
TWILIO_TOKEN = "explain-twilio-auth-token"
EVENT = {"type": "invoice.paid", "data": {"id": "in_1", "amount": 4200, "note": "café"}}
COMPACT = json.dumps(EVENT, separators=(",", ":"), ensure_ascii=False).encode()
FORM = b"AccountSid=AC123&Body=Hello+there&From=%2B15550001111"
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


def explain(
    scheme: str,
    configured: str | bytes,
    body: bytes,
    headers: dict[str, str],
    *,
    signed_at: int = NOW,
    now: int = NOW,
    url: str | None = None,
    secret_dir: Path | None = None,
) -> str:
    """Run ``hookseal explain``, expect a rejection, check for leaks; return stdout."""
    args = ["explain", "--scheme", scheme, "--now", str(now), *header_args(headers)]
    if url is not None:
        args += ["--url", url]
    if isinstance(configured, bytes):  # bytes that are not UTF-8 can only come from a file
        assert secret_dir is not None
        secret_file = secret_dir / "secret.bin"
        secret_file.write_bytes(configured)
        result = run([*args, "--secret-file", str(secret_file)], body=body)
    else:
        result = run([*args, "--secret-env", SECRET_ENV], body=body, secret=configured)
    assert result.code == 1, result.output
    assert result.stdout.startswith("rejected: ")
    signatures = signature_tokens(headers)
    try:
        msg_id = headers.get("webhook-id", "msg_explain")
        signatures |= expected_signatures(
            scheme, configured, body, timestamp=signed_at, msg_id=msg_id, url=url
        )
    except ValueError:  # this scheme cannot even load the configured secret: nothing expected
        pass
    assert_no_leak(result, configured, signatures=signatures)
    return result.stdout


def standard(body: bytes = COMPACT, *, timestamp: int = NOW) -> dict[str, str]:
    return Signer(StandardWebhooks(), STANDARD_SECRET).sign(
        body, timestamp=timestamp, msg_id="msg_explain"
    )


# -- the body ------------------------------------------------------------------------------


def test_reserialised_json_whitespace() -> None:
    received = json.dumps(json.loads(COMPACT)).encode()  # what a framework's re-dump produces
    out = explain("standard-webhooks", STANDARD_SECRET, received, standard())
    assert "rejected: signature_mismatch" in out
    assert "the body was re-serialised" in out
    assert "compact separators" in out
    assert "sorted" not in out


def test_reserialised_json_key_order() -> None:
    # The sender wrote its keys sorted and compact (Go's encoding/json does); the receiver's
    # copy has another key order and other whitespace.
    signed = json.dumps(EVENT, sort_keys=True, separators=(",", ":")).encode()
    received = json.dumps(EVENT, indent=2).encode()
    out = explain("github", GITHUB_SECRET, received, Signer(GitHub(), GITHUB_SECRET).sign(signed))
    assert "the body was re-serialised" in out
    assert "keys sorted" in out


def test_reserialised_json_unrecoverable_key_order_still_pointed_out() -> None:
    # The original order cannot be rebuilt, but a body that is exactly Python's json.dumps()
    # output is still worth naming.
    signed = b'{"z": 1, "a": {"y": 2, "b": 3}}'
    received = json.dumps(json.loads(signed), sort_keys=True).encode()
    out = explain("github", GITHUB_SECRET, received, Signer(GitHub(), GITHUB_SECRET).sign(signed))
    assert "possibly a re-serialised body" in out


def test_trailing_newline_added() -> None:
    out = explain("standard-webhooks", STANDARD_SECRET, COMPACT + b"\n", standard())
    assert "a trailing newline was added" in out


# -- the secret ----------------------------------------------------------------------------


def test_standard_webhooks_secret_given_as_raw_text() -> None:
    # The sender keyed HMAC with these raw bytes; the receiver pasted them as text, but
    # Standard Webhooks secrets are written whsec_<base64>.
    raw = "my-raw-standard-key"
    headers = Signer(StandardWebhooks(), raw.encode()).sign(
        COMPACT, timestamp=NOW, msg_id="msg_explain"
    )
    out = explain("standard-webhooks", raw, COMPACT, headers)
    assert out.startswith("rejected: configuration_error")
    assert "the secret was given in the wrong form" in out
    assert "'whsec_' secret (the base64 of the raw text)" in out


def test_standard_webhooks_secret_missing_its_prefix() -> None:
    out = explain("standard-webhooks", STANDARD_SECRET[len("whsec_") :], COMPACT, standard())
    assert "the secret was given in the wrong form" in out
    assert "with a 'whsec_' prefix added" in out


def test_standard_webhooks_sender_used_base64_text_as_key() -> None:
    # A home-made sender used the base64 text itself as the HMAC key instead of decoding it.
    base64_text = STANDARD_SECRET[len("whsec_") :].encode()
    headers = Signer(StandardWebhooks(), base64_text).sign(
        COMPACT, timestamp=NOW, msg_id="msg_explain"
    )
    out = explain("standard-webhooks", STANDARD_SECRET, COMPACT, headers)
    assert "without its 'whsec_' prefix, as raw text" in out


def test_stripe_secret_with_prefix_stripped() -> None:
    headers = Signer(Stripe(), STRIPE_SECRET).sign(COMPACT, timestamp=NOW)
    out = explain("stripe", STRIPE_SECRET[len("whsec_") :], COMPACT, headers)
    assert "rejected: signature_mismatch" in out
    assert "with a 'whsec_' prefix added" in out
    assert "Stripe's 'whsec_' secrets are used whole, as raw text" in out


def test_stripe_secret_base64_decoded_like_standard_webhooks(tmp_path: Path) -> None:
    # Svix habits: the part after whsec_ was base64-decoded; Stripe uses the text as is.
    decoded = base64.b64decode(STRIPE_SECRET[len("whsec_") :])
    headers = Signer(Stripe(), STRIPE_SECRET).sign(COMPACT, timestamp=NOW)
    out = explain("stripe", decoded, COMPACT, headers, secret_dir=tmp_path)
    assert "the secret was given in the wrong form" in out
    assert "'whsec_' secret (the base64 of the raw text)" in out


def test_wrong_secret_has_no_single_cause() -> None:
    headers = Signer(Stripe(), "whsec_SomeoneElsesSecret").sign(COMPACT, timestamp=NOW)
    out = explain("stripe", STRIPE_SECRET, COMPACT, headers)
    assert "no single change explains it" in out


# -- the clock -----------------------------------------------------------------------------


def test_timestamp_too_old_by_n_seconds() -> None:
    out = explain(
        "standard-webhooks", STANDARD_SECRET, COMPACT, standard(), signed_at=NOW, now=NOW + 1234
    )
    assert out.startswith("rejected: timestamp_too_old")
    assert "the timestamp is off by 1234 s (this clock is ahead of the sender's" in out
    assert "the signature is otherwise valid" in out


def test_timestamp_in_future_by_n_seconds() -> None:
    headers = Signer(Stripe(), STRIPE_SECRET).sign(COMPACT, timestamp=NOW + 777)
    out = explain("stripe", STRIPE_SECRET, COMPACT, headers, signed_at=NOW + 777)
    assert out.startswith("rejected: timestamp_in_future")
    assert "off by 777 s (this clock is behind the sender's" in out


def test_clock_skew_and_trailing_newline_together() -> None:
    out = explain("standard-webhooks", STANDARD_SECRET, COMPACT + b"\n", standard(), now=NOW + 900)
    assert "off by 900 s" in out
    assert "the signature does not match either" in out
    assert "a trailing newline was added" in out


# -- the provider --------------------------------------------------------------------------


def test_headers_of_another_provider() -> None:
    headers = Signer(GitHub(), GITHUB_SECRET).sign(COMPACT)
    out = explain("stripe", GITHUB_SECRET, COMPACT, headers)
    assert out.startswith("rejected: missing_header")
    assert "the headers belong to another provider's scheme (github, meta), not stripe" in out


def test_standard_webhooks_headers_sent_to_a_svix_endpoint_are_not_foreign() -> None:
    out = explain("svix", STANDARD_SECRET, COMPACT + b"\n", standard())
    assert "another provider" not in out
    assert "a trailing newline was added" in out


# -- the URL (Twilio) ----------------------------------------------------------------------


def twilio(url: str) -> dict[str, str]:
    return {**Signer(Twilio(), TWILIO_TOKEN).sign(FORM, url=url), **FORM_TYPE}


def test_twilio_url_scheme_and_port_differ() -> None:
    # Behind a TLS-terminating proxy the app sees http:// and its own port.
    public = "https://hooks.example.com/sms?tenant=7"
    out = explain(
        "twilio",
        TWILIO_TOKEN,
        FORM,
        twilio(public),
        url="http://hooks.example.com:8080/sms?tenant=7",
    )
    assert "the URL differs from the one the sender signed" in out
    assert "the https:// scheme and no port" in out


def test_twilio_url_scheme_differs() -> None:
    out = explain(
        "twilio",
        TWILIO_TOKEN,
        FORM,
        twilio("https://hooks.example.com/sms"),
        url="http://hooks.example.com/sms",
    )
    assert "it verifies with the https:// scheme." in out


def test_twilio_url_port_differs() -> None:
    # Twilio was configured with an explicit non-default port; the app rebuilt the URL with
    # the default one.
    out = explain(
        "twilio",
        TWILIO_TOKEN,
        FORM,
        twilio("https://hooks.example.com/sms"),
        url="https://hooks.example.com:8443/sms?x=1",
    )
    assert "no port and no query string" in out


def test_twilio_url_query_added() -> None:
    out = explain(
        "twilio",
        TWILIO_TOKEN,
        FORM,
        twilio("https://hooks.example.com/sms"),
        url="https://hooks.example.com/sms?utm_source=proxy",
    )
    assert "it verifies with no query string." in out


def test_twilio_url_query_dropped_is_pointed_out() -> None:
    out = explain(
        "twilio",
        TWILIO_TOKEN,
        FORM,
        twilio("https://hooks.example.com/sms?tenant=7"),
        url="https://hooks.example.com/sms",
    )
    assert "possibly the URL: it has no query string" in out


# -- hostile bodies --------------------------------------------------------------------------


def test_deeply_nested_json_body_is_diagnosed_without_a_traceback() -> None:
    # json.loads raised RecursionError here and explain died with a traceback.
    body = b"[" * 100_000 + b"]" * 100_000
    headers = Signer(GitHub(), "someone-elses-secret").sign(body)
    result = run(
        ["explain", "--scheme", "github", "--secret-env", SECRET_ENV, *header_args(headers)],
        body=body,
        secret=GITHUB_SECRET,
    )
    assert result.code == 1, result.output
    assert result.stdout.startswith("rejected: signature_mismatch")
    assert "Traceback" not in result.stderr
    assert "no single change explains it" in result.stdout


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_explain_function_bounds_json_nesting(depth: int) -> None:
    body = b'{"a":' * depth + b"1" + b"}" * depth
    headers = Signer(GitHub(), "someone-elses-secret").sign(body)
    diagnosis = explain_function("github", [GITHUB_SECRET], body, headers, now=NOW)
    assert not diagnosis.verified
    assert diagnosis.reason == "signature_mismatch"


def test_nested_json_within_the_bound_is_still_re_serialised() -> None:
    document: object = {"leaf": [1, 2]}
    for _ in range(40):
        document = {"k": document, "n": 1}
    compact = json.dumps(document, separators=(",", ":")).encode()
    spaced = json.dumps(document).encode()
    headers = Signer(GitHub(), GITHUB_SECRET).sign(compact)
    out = explain("github", GITHUB_SECRET, spaced, headers)
    assert "the body was re-serialised" in out


@pytest.mark.parametrize(
    "url", ["https://h.example:99999/x", "https://h.example:port/x", "https://[::1/x"]
)
def test_unusable_url_is_diagnosed_without_a_crash(url: str) -> None:
    # Signed with another token, so explain goes on to try URL variants of the unusable URL.
    headers = Signer(Twilio(), "someone-elses-token").sign(FORM, url="https://h.example/x")
    diagnosis = explain_function(
        "twilio", [TWILIO_TOKEN], FORM, {**headers, **FORM_TYPE}, url=url, now=NOW
    )
    assert not diagnosis.verified
    assert "rejected: " in diagnosis.render()


# -- in-process: diagnoses the subprocess tests above do not reach ------------------------------


def github_signed(body: bytes, secret: str | bytes = GITHUB_SECRET) -> dict[str, str]:
    return Signer(GitHub(), secret).sign(body, timestamp=NOW, msg_id="gh-1")


def test_a_missing_header_is_not_explained_by_any_variant() -> None:
    diagnosis = explain_function(
        "github", [GITHUB_SECRET], b"{}", {"Content-Type": "application/json"}, now=NOW
    )
    assert not diagnosis.verified
    assert diagnosis.reason == "missing_header"
    assert diagnosis.causes == []
    assert diagnosis.render().endswith(
        "no variant of the body, secret or URL changes this: fix what it says."
    )


def test_surrounding_whitespace_in_the_configured_secret_is_found() -> None:
    body = b'{"a": 1}'
    diagnosis = explain_function(
        "github", [GITHUB_SECRET + " \n"], body, github_signed(body), now=NOW
    )
    assert diagnosis.causes
    assert "with surrounding whitespace removed" in diagnosis.causes[0]
    assert GITHUB_SECRET not in diagnosis.render()


def test_a_whsec_secret_whose_base64_is_broken_still_gets_its_other_forms_tried() -> None:
    labels = [label for label, _ in _secret_variants("whsec_not*base64!")]
    assert not any("base64 part encodes" in label for label in labels)
    assert any("base64 part encodes" in label for label, _ in _secret_variants("whsec_QUJDRA=="))
    body = b'{"a": 1}'
    diagnosis = explain_function(
        "github", ["whsec_not*base64!"], body, github_signed(body, "not*base64!"), now=NOW
    )
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
    body = b"AccountSid=AC123&Body=Hi"
    headers = {**Signer(Twilio(), TWILIO_TOKEN).sign(body, timestamp=NOW, url=signed), **FORM_TYPE}
    diagnosis = explain_function("twilio", [TWILIO_TOKEN], body, headers, url=seen, now=NOW)
    assert diagnosis.causes
    assert label in diagnosis.causes[0]


def test_url_variants_only_for_http_urls_with_a_host() -> None:
    assert list(_url_variants("ftp://h.example/hook")) == []
    assert list(_url_variants("https:///hook")) == []
    assert list(_url_variants("https://h.example/hook"))


def test_the_reserialisation_hint_needs_a_container_of_two_members() -> None:
    wrong = "another-github-secret"
    two = json.dumps({"a": 1, "b": 2}).encode()
    one = json.dumps({"a": 1}).encode()
    hint = "possibly a re-serialised body"
    causes_two = explain_function("github", [GITHUB_SECRET], two, github_signed(two, wrong),
                                  now=NOW).causes  # fmt: skip
    causes_one = explain_function("github", [GITHUB_SECRET], one, github_signed(one, wrong),
                                  now=NOW).causes  # fmt: skip
    assert any(hint in cause for cause in causes_two)
    assert not any(hint in cause for cause in causes_one)


def test_secret_forms_a_scheme_cannot_load_are_skipped() -> None:
    """Discord's key is a public key: most variants of it do not even load."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    public_hex = private.public_key().public_bytes_raw().hex()
    headers = Signer(Discord(), private).sign(b'{"type":1}', timestamp=NOW)
    diagnosis = explain_function("discord", [public_hex], b'{"type":2}', headers, now=NOW)
    assert diagnosis.reason == "signature_mismatch"
    assert diagnosis.causes == []


def test_a_secret_that_does_not_load_in_any_form_is_a_configuration_error() -> None:
    diagnosis = explain_function("standard-webhooks", ["whsec_"], b"{}", {}, now=NOW)
    assert diagnosis.reason == "configuration_error"
    assert diagnosis.causes == []


def test_catalog_providers_get_the_same_diagnoses() -> None:
    """explain's diagnoses are generic: they reach every provider in the registry."""
    from hookseal.schemes import Meta, Square, Zoom

    compact = b'{"object":"whatsapp_business_account","entry":[]}'
    headers = Signer(Meta(), "meta-app-secret").sign(compact)
    spaced = json.dumps(json.loads(compact)).encode()
    out = explain("meta", "meta-app-secret", spaced, headers)
    assert "the body was re-serialised" in out

    signed_url = "https://example.com/square/hooks"
    headers = Signer(Square(), "square-signature-key").sign(compact, url=signed_url)
    out = explain(
        "square", "square-signature-key", compact, headers, url="http://example.com/square/hooks"
    )
    assert "the URL differs from the one the sender signed" in out

    headers = Signer(Zoom(), "zoom-secret-token").sign(compact, timestamp=NOW)
    out = explain("zoom", "zoom-secret-token", compact, headers, now=NOW + 3600)
    assert "the timestamp is off by 3600 s" in out

    headers = Signer(Meta(), "meta-app-secret").sign(compact)
    out = explain("stripe", "meta-app-secret", compact, headers)
    assert "another provider's scheme (github, meta)" in out
