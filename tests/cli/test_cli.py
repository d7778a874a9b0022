"""The ``hookseal`` command line, run in a subprocess: sign, verify, exit codes and leaks."""

from __future__ import annotations

import base64
import json
import shlex

import pytest
from cli_support import (
    ENTRY_POINTS,
    SECRET_ENV,
    assert_no_leak,
    expected_signatures,
    header_args,
    run,
)

from hookseal import Signer, Verifier
from hookseal.schemes import GitHub, StandardWebhooks, Stripe
from stable_ids import stable_repr

NOW = 1_700_000_000
BODY = json.dumps({"action": "opened", "number": 7}).encode()
GITHUB_SECRET = "cli-github-secret-value"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"cli-standard-webhooks-key-bytes!").decode()
STRIPE_SECRET = "whsec_cliStripeSecretValue1234"
SECRET_ARGS = ["--secret-env", SECRET_ENV]


def _parse_headers(stdout: str) -> dict[str, str]:
    headers = {}
    for line in stdout.splitlines():
        name, _, value = line.partition(": ")
        headers[name] = value
    return headers


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_sign_then_verify_round_trip(entry: str) -> None:
    command = ENTRY_POINTS[entry]
    signed = run(
        ["sign", "--scheme", "github", *SECRET_ARGS],
        body=BODY,
        secret=GITHUB_SECRET,
        command=command,
    )
    assert signed.code == 0, signed.stderr
    headers = _parse_headers(signed.stdout)
    assert set(headers) == {"X-Hub-Signature-256", "X-GitHub-Delivery"}
    # The printed headers are what hookseal's own verifier accepts.
    Verifier(GitHub(), GITHUB_SECRET, nonce_store=None).verify(BODY, headers)
    assert GITHUB_SECRET not in signed.output

    verified = run(
        ["verify", "--scheme", "github", *SECRET_ARGS, *header_args(headers)],
        body=BODY,
        secret=GITHUB_SECRET,
        command=command,
    )
    assert verified.code == 0, verified.output
    assert verified.stdout.startswith("verified: scheme=github ")
    assert f"msg_id={headers['X-GitHub-Delivery']}" in verified.stdout
    assert "key_index=0" in verified.stdout
    assert_no_leak(verified, GITHUB_SECRET)


def test_sign_uses_given_timestamp_and_id() -> None:
    result = run(
        [
            "sign",
            "--scheme",
            "standard-webhooks",
            *SECRET_ARGS,
            "--timestamp",
            str(NOW),
            "--id",
            "msg_fixed",
        ],
        body=BODY,
        secret=STANDARD_SECRET,
    )
    assert result.code == 0, result.stderr
    headers = _parse_headers(result.stdout)
    assert headers["webhook-id"] == "msg_fixed"
    assert headers["webhook-timestamp"] == str(NOW)
    assert headers == Signer(StandardWebhooks(), STANDARD_SECRET).sign(
        BODY, timestamp=NOW, msg_id="msg_fixed"
    )
    assert_no_leak(result, STANDARD_SECRET)


def test_sign_curl_prints_a_ready_command(tmp_path) -> None:
    body_file = tmp_path / "event.json"
    body_file.write_bytes(BODY)
    url = "https://hooks.example.com/stripe?tenant=a b"
    result = run(
        [
            "sign",
            "--scheme",
            "stripe",
            *SECRET_ARGS,
            "--timestamp",
            str(NOW),
            "--body-file",
            str(body_file),
            "--curl",
            url,
        ],
        secret=STRIPE_SECRET,
    )
    assert result.code == 0, result.stderr
    words = shlex.split(result.stdout)
    assert words[:4] == ["curl", "-X", "POST", url]
    assert words[-2:] == ["--data-binary", f"@{body_file}"]
    sent = dict(word.split(": ", 1) for word in words[5:-2:2])
    assert words[4:-2:2] == ["-H"] * len(sent)
    Verifier(Stripe(), STRIPE_SECRET, nonce_store=None).verify(BODY, sent, now=NOW)
    assert_no_leak(result, STRIPE_SECRET)


def test_sign_curl_reads_stdin_when_no_body_file() -> None:
    result = run(
        ["sign", "--scheme", "github", *SECRET_ARGS, "--curl", "http://127.0.0.1:8000/h"],
        body=BODY,
        secret=GITHUB_SECRET,
    )
    assert result.code == 0
    assert shlex.split(result.stdout)[-2:] == ["--data-binary", "@-"]


def test_secret_file_with_trailing_newline(tmp_path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(GITHUB_SECRET + "\n")
    headers = Signer(GitHub(), GITHUB_SECRET).sign(BODY)
    result = run(
        ["verify", "--scheme", "github", "--secret-file", str(secret_file), *header_args(headers)],
        body=BODY,
    )
    assert result.code == 0, result.output
    assert_no_leak(
        result,
        GITHUB_SECRET,
        signatures=expected_signatures("github", GITHUB_SECRET, BODY, timestamp=NOW),
    )


def test_rotation_two_secrets_reports_key_index(tmp_path) -> None:
    old = tmp_path / "old"
    old.write_text("the-previous-github-secret")
    headers = Signer(GitHub(), "the-previous-github-secret").sign(BODY)
    result = run(
        [
            "verify",
            "--scheme",
            "github",
            "--secret-file",
            str(old),
            *SECRET_ARGS,
            *header_args(headers),
        ],
        body=BODY,
        secret=GITHUB_SECRET,
    )
    assert result.code == 0, result.output
    assert "key_index=0" in result.stdout


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_verify_rejects_tampered_body_with_reason_and_no_leak(entry: str) -> None:
    headers = Signer(StandardWebhooks(), STANDARD_SECRET).sign(BODY, timestamp=NOW, msg_id="m1")
    tampered = BODY.replace(b"7", b"8")
    result = run(
        [
            "verify",
            "--scheme",
            "standard-webhooks",
            *SECRET_ARGS,
            "--now",
            str(NOW),
            *header_args(headers),
        ],
        body=tampered,
        secret=STANDARD_SECRET,
        command=ENTRY_POINTS[entry],
    )
    assert result.code == 1
    assert result.stdout.startswith("rejected: signature_mismatch: ")
    assert_no_leak(
        result,
        STANDARD_SECRET,
        signatures=expected_signatures(
            "standard-webhooks", STANDARD_SECRET, tampered, timestamp=NOW, msg_id="m1"
        ),
    )


@pytest.mark.parametrize(
    ("now", "drop", "reason"),
    [
        (NOW + 301, None, "timestamp_too_old"),
        (NOW - 301, None, "timestamp_in_future"),
        (NOW, "webhook-signature", "missing_header"),
    ],
)
def test_verify_reason_codes(now: int, drop: str | None, reason: str) -> None:
    headers = Signer(StandardWebhooks(), STANDARD_SECRET).sign(BODY, timestamp=NOW, msg_id="m1")
    headers.pop(drop, None) if drop else None
    result = run(
        [
            "verify",
            "--scheme",
            "standard-webhooks",
            *SECRET_ARGS,
            "--now",
            str(now),
            *header_args(headers),
        ],
        body=BODY,
        secret=STANDARD_SECRET,
    )
    assert result.code == 1
    assert result.stdout.startswith(f"rejected: {reason}: ")
    assert_no_leak(result, STANDARD_SECRET)


def test_verify_tolerance_option() -> None:
    headers = Signer(Stripe(), STRIPE_SECRET).sign(BODY, timestamp=NOW)
    args = [
        "verify",
        "--scheme",
        "stripe",
        *SECRET_ARGS,
        "--now",
        str(NOW + 400),
        *header_args(headers),
    ]
    assert run(args, body=BODY, secret=STRIPE_SECRET).code == 1
    assert run([*args, "--tolerance", "600"], body=BODY, secret=STRIPE_SECRET).code == 0


def test_verify_duplicate_header_line_is_refused() -> None:
    headers = Signer(GitHub(), GITHUB_SECRET).sign(BODY)
    args = header_args(headers)
    result = run(
        [
            "verify",
            "--scheme",
            "github",
            *SECRET_ARGS,
            *args,
            "-H",
            "X-Hub-Signature-256: sha256=" + "0" * 64,
        ],
        body=BODY,
        secret=GITHUB_SECRET,
    )
    assert result.code == 1
    assert result.stdout.startswith("rejected: duplicate_header: ")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["sign"],
        ["verify", "--scheme", "nosuchprovider", *SECRET_ARGS],
        ["sign", "--scheme", "github", "--secret", "on-the-command-line"],
        ["verify", "--scheme", "github", *SECRET_ARGS, "--now", "soon"],
    ],
    ids=["no-command", "no-scheme", "unknown-scheme", "secret-on-command-line", "bad-now"],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(args, body=BODY, secret=GITHUB_SECRET)
    assert result.code == 2
    assert result.stdout == ""
    assert "usage:" in result.stderr
    assert_no_leak(result, GITHUB_SECRET)


def test_no_secret_given_exits_2() -> None:
    result = run(["verify", "--scheme", "github"], body=BODY)
    assert result.code == 2
    assert "--secret-env" in result.stderr


def test_unset_environment_variable_exits_2() -> None:
    result = run(["sign", "--scheme", "github", "--secret-env", "HOOKSEAL_UNSET_VAR"], body=BODY)
    assert result.code == 2
    assert "HOOKSEAL_UNSET_VAR is not set" in result.stderr


def test_missing_secret_file_exits_2(tmp_path) -> None:
    result = run(["sign", "--scheme", "github", "--secret-file", str(tmp_path / "nope")])
    assert result.code == 2
    assert result.stderr.startswith("hookseal: error: ")


def test_secret_in_the_wrong_form_is_a_usage_error_without_leak() -> None:
    # Standard Webhooks needs whsec_<base64>: a raw text secret is refused at construction.
    result = run(
        ["verify", "--scheme", "standard-webhooks", *SECRET_ARGS, "-H", "webhook-id: m"],
        body=BODY,
        secret="raw-text-secret-value",
    )
    assert result.code == 2
    assert "whsec_" in result.stderr
    assert_no_leak(result, "raw-text-secret-value")


def test_header_without_colon_exits_2_and_is_not_echoed() -> None:
    signature = "sha256=" + "ab" * 32
    result = run(
        ["verify", "--scheme", "github", *SECRET_ARGS, "-H", signature],
        body=BODY,
        secret=GITHUB_SECRET,
    )
    assert result.code == 2
    assert "ab" * 32 not in result.output


@pytest.mark.parametrize("command", ["sign", "verify", "explain"])
def test_twilio_needs_an_absolute_url(command: str) -> None:
    base = [command, "--scheme", "twilio", *SECRET_ARGS]
    assert run(base, body=b"A=1", secret="twilio-token").code == 2
    result = run([*base, "--url", "/sms"], body=b"A=1", secret="twilio-token")
    assert result.code == 2
    assert "absolute" in result.stderr


def test_explain_genuine_delivery_exits_0() -> None:
    headers = Signer(Stripe(), STRIPE_SECRET).sign(BODY, timestamp=NOW)
    result = run(
        ["explain", "--scheme", "stripe", *SECRET_ARGS, "--now", str(NOW), *header_args(headers)],
        body=BODY,
        secret=STRIPE_SECRET,
    )
    assert result.code == 0
    assert result.stdout.startswith("verified")


# -- shared tokens: the header is the secret -------------------------------------------------

GITLAB_TOKEN = "cli-gitlab-shared-token-value"


@pytest.mark.parametrize(
    "extra", [[], ["--curl", "https://example.com/hooks"]], ids=["headers", "curl"]
)
def test_sign_shared_token_refuses_to_print_it_without_the_flag(extra: list[str]) -> None:
    result = run(
        ["sign", "--scheme", "gitlab", *SECRET_ARGS, *extra], body=BODY, secret=GITLAB_TOKEN
    )
    assert result.code == 2
    assert result.stdout == ""
    assert "--print-shared-token" in result.stderr
    assert "would print the secret" in result.stderr
    assert GITLAB_TOKEN not in result.output


def test_sign_shared_token_with_the_flag_prints_it() -> None:
    from hookseal.schemes import GitLab

    result = run(
        ["sign", "--scheme", "gitlab", *SECRET_ARGS, "--print-shared-token"],
        body=BODY,
        secret=GITLAB_TOKEN,
    )
    assert result.code == 0, result.stderr
    headers = _parse_headers(result.stdout)
    assert headers["X-Gitlab-Token"] == GITLAB_TOKEN
    Verifier(GitLab(), GITLAB_TOKEN, nonce_store=None).verify(BODY, headers)


def test_print_shared_token_changes_nothing_for_signing_schemes() -> None:
    result = run(
        ["sign", "--scheme", "github", *SECRET_ARGS, "--print-shared-token"],
        body=BODY,
        secret=GITHUB_SECRET,
    )
    assert result.code == 0, result.stderr
    assert_no_leak(result, GITHUB_SECRET)


@pytest.mark.parametrize("command", ["verify", "explain"])
@pytest.mark.parametrize("presented", [GITLAB_TOKEN, "cli-gitlab-shared-token-valuX"])
def test_verify_and_explain_never_print_the_shared_token(command: str, presented: str) -> None:
    result = run(
        [command, "--scheme", "gitlab", *SECRET_ARGS, "-H", f"X-Gitlab-Token: {presented}"],
        body=BODY,
        secret=GITLAB_TOKEN,
    )
    assert result.code == (0 if presented == GITLAB_TOKEN else 1), result.output
    assert_no_leak(result, GITLAB_TOKEN, presented)


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b""], ids=stable_repr)
def test_a_secret_file_loses_exactly_one_line_ending(
    tmp_path, capsys: pytest.CaptureFixture[str], ending: bytes
) -> None:
    """In-process: one trailing CRLF or LF is dropped; anything after it is part of the secret."""
    from hookseal.cli import main

    (tmp_path / "secret").write_bytes(GITHUB_SECRET.encode() + ending)
    (tmp_path / "body").write_bytes(BODY)
    headers = Signer(GitHub(), GITHUB_SECRET).sign(BODY, timestamp=NOW)
    args = [
        *("verify", "--scheme", "github", "--secret-file", str(tmp_path / "secret")),
        *("--body-file", str(tmp_path / "body"), "--now", str(NOW), *header_args(headers)),
    ]
    assert main(args) == 0, capsys.readouterr()
    assert capsys.readouterr().out.startswith("verified: scheme=github")
    (tmp_path / "secret").write_bytes(GITHUB_SECRET.encode() + ending + ending + b"x")
    assert main(args) == 1
