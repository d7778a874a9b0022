"""HMACScheme: every option signs and verifies, exact wire format, rotation, configuration."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import pytest

from hookseal import (
    ConfigurationError,
    MalformedHeader,
    SignatureMismatch,
    Signer,
    TimestampOutOfTolerance,
    Verifier,
)
from hookseal.schemes import HMACScheme
from hookseal.testing import sign_delivery
from stable_ids import stable_repr

from ._support import BODY, NOW, SCHEME_OPTIONS, SECRET

Sign = Callable[..., dict[str, str]]


def _mac(algorithm: str, secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, getattr(hashlib, algorithm)).digest()


# -- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options", [opts for _, opts in SCHEME_OPTIONS], ids=[name for name, _ in SCHEME_OPTIONS]
)
def test_sign_then_verify_round_trips(options, make_scheme, make_verifier, sign):
    scheme = make_scheme(**options)
    headers = sign(scheme, msg_id="abc123")
    verified = make_verifier(scheme).verify(BODY, headers, now=NOW)
    assert verified.body == BODY
    assert verified.key_index == 0
    assert verified.scheme == "hmac"
    assert verified.timestamp == (NOW if scheme.signs_timestamp else None)
    assert verified.msg_id == ("abc123" if options.get("id_header") else None)


@pytest.mark.parametrize(
    "options", [opts for _, opts in SCHEME_OPTIONS], ids=[name for name, _ in SCHEME_OPTIONS]
)
def test_signature_from_another_secret_is_refused(options, make_scheme, make_verifier, sign):
    scheme = make_scheme(**options)
    headers = sign(scheme, secret="some-other-secret")
    with pytest.raises(SignatureMismatch) as info:
        make_verifier(scheme).verify(BODY, headers, now=NOW)
    assert info.value.reason == "signature_mismatch"
    assert info.value.status_code == 401


@pytest.mark.parametrize(
    ("options", "algorithm", "signed", "encode"),
    [
        ({}, "sha256", BODY, bytes.hex),
        ({"prefix": "sha256="}, "sha256", BODY, lambda m: "sha256=" + m.hex()),
        ({"encoding": "base64"}, "sha256", BODY, lambda m: base64.b64encode(m).decode()),
        ({"algorithm": "sha384"}, "sha384", BODY, bytes.hex),
        ({"algorithm": "sha512"}, "sha512", BODY, bytes.hex),
        ({"algorithm": "sha1", "allow_sha1": True}, "sha1", BODY, bytes.hex),
        (
            {"timestamp_header": "X-Timestamp", "template": "{timestamp}.{body}"},
            "sha256",
            b"1700000000." + BODY,
            bytes.hex,
        ),
        (
            {
                "encoding": "base64",
                "timestamp_header": "X-Timestamp",
                "id_header": "X-Id",
                "template": "{id}.{timestamp}.{body}",
            },
            "sha256",
            b"abc123.1700000000." + BODY,
            lambda m: base64.b64encode(m).decode(),
        ),
    ],
)
def test_signature_is_the_documented_hmac_of_the_template(
    options, algorithm, signed, encode, make_scheme, sign
):
    """The wire value is checked against the stdlib hmac module, not against hookseal."""
    headers = sign(make_scheme(**options), msg_id="abc123")
    assert headers["X-Signature"] == encode(_mac(algorithm, SECRET.encode(), signed))
    if "timestamp_header" in options:
        assert headers["X-Timestamp"] == "1700000000"
    if "id_header" in options:
        assert headers["X-Id"] == "abc123"


def test_github_published_example_verifies(make_verifier):
    # Published example: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    # ("Testing the webhook payload validation": secret, payload and expected signature).
    scheme = HMACScheme("X-Hub-Signature-256", prefix="sha256=")
    headers = {
        "X-Hub-Signature-256": "sha256="
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    }
    verifier = make_verifier(scheme, secrets="It's a Secret to Everybody")
    assert verifier.verify(b"Hello, World!", headers).body == b"Hello, World!"
    signed = Signer(scheme, secret="It's a Secret to Everybody").sign(b"Hello, World!")
    assert signed == headers


def test_signer_defaults_timestamp_to_now_and_id_to_random(make_scheme, make_verifier):
    scheme = make_scheme(
        timestamp_header="X-Timestamp", id_header="X-Id", template="{id}.{timestamp}.{body}"
    )
    signer = Signer(scheme, secret=SECRET)
    first, second = signer.sign(BODY), signer.sign(BODY)
    assert first["X-Id"] != second["X-Id"]
    verified = make_verifier(scheme).verify(BODY, first)  # real clock
    assert verified.msg_id == first["X-Id"]


def test_unused_sign_arguments_are_ignored(make_scheme, make_verifier):
    scheme = make_scheme()
    headers = Signer(scheme, secret=SECRET).sign(
        BODY, timestamp=1, msg_id="ignored", url="https://example.test/hook"
    )
    assert set(headers) == {"X-Signature"}
    assert make_verifier(scheme).verify(BODY, headers, now=NOW).timestamp is None


def test_headers_are_found_in_any_case(make_scheme, make_verifier, sign):
    scheme = make_scheme(timestamp_header="X-Timestamp", template="{timestamp}.{body}")
    headers = sign(scheme)
    lowered = {name.lower(): value for name, value in headers.items()}
    upper = {name.upper(): value for name, value in headers.items()}
    verifier = make_verifier(scheme)
    assert verifier.verify(BODY, lowered, now=NOW).timestamp == NOW
    assert verifier.verify(BODY, upper, now=NOW).timestamp == NOW


def test_bytes_secret_and_bytes_like_body(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    secret = b"\x00\xffraw key bytes\n"
    headers = sign(scheme, secret=secret)
    verifier = make_verifier(scheme, secrets=[secret])
    assert verifier.verify(bytearray(BODY), headers, now=NOW).body == BODY
    assert verifier.verify(memoryview(BODY), headers, now=NOW).body == BODY


# -- the unsigned-timestamp guard --------------------------------------------------------


def test_unsigned_timestamp_header_is_refused_by_default(make_scheme):
    with pytest.raises(ConfigurationError, match="allow_unsigned_timestamp"):
        make_scheme(timestamp_header="X-Timestamp")


def test_unsigned_timestamp_allowed_is_window_checked_but_not_reported(
    make_scheme, make_verifier, sign
):
    scheme = make_scheme(timestamp_header="X-Timestamp", allow_unsigned_timestamp=True)
    assert scheme.signs_timestamp is False
    verifier = make_verifier(scheme)
    headers = sign(scheme)
    verified = verifier.verify(BODY, headers, now=NOW)
    assert verified.timestamp is None  # not signed, so never reported as verified
    # Not covered by the MAC: a moved timestamp still verifies, but the window applies.
    moved = {**headers, "X-Timestamp": str(NOW + 5)}
    assert verifier.verify(BODY, moved, now=NOW).body == BODY
    with pytest.raises(TimestampOutOfTolerance) as info:
        verifier.verify(BODY, headers, now=NOW + 301)
    assert info.value.reason == "timestamp_too_old"


# -- key rotation --------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_each_rotated_secret_is_accepted_and_reported(encoding, make_scheme, make_verifier, sign):
    scheme = make_scheme(encoding=encoding)
    secrets = ["oldest-secret", "old-secret", "new-secret"]
    verifier = make_verifier(scheme, secrets=secrets)
    for index, secret in enumerate(secrets):
        assert verifier.verify(BODY, sign(scheme, secret=secret), now=NOW).key_index == index
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, sign(scheme, secret="retired-secret"), now=NOW)


def test_one_mac_per_configured_secret(make_scheme, make_verifier, sign, mac_counter):
    # Every configured secret's MAC is the replay material (the same on every worker of a
    # rolling deploy), so a genuine delivery costs what a forgery costs: one MAC per secret.
    scheme = make_scheme()
    verifier = make_verifier(scheme, secrets=["old-secret", "new-secret"])
    for secret, index in (("new-secret", 1), ("old-secret", 0)):
        body = BODY + secret.encode()
        headers = sign(scheme, body, secret=secret)
        mac_counter.calls = 0
        assert verifier.verify(body, headers, now=NOW).key_index == index
        assert mac_counter.calls == 2


# -- several signatures in one header ---------------------------------------------------


@pytest.mark.parametrize("separator", [",", ", ", " "])
@pytest.mark.parametrize("valid_first", [True, False])
def test_header_with_several_signatures(separator, valid_first, make_scheme, make_verifier, sign):
    scheme = make_scheme(prefix="sha256=")
    good = sign(scheme, secret="new-secret")["X-Signature"]
    other = sign(scheme, secret="unknown-secret")["X-Signature"]
    value = separator.join([good, other] if valid_first else [other, good])
    verifier = make_verifier(scheme, secrets=["old-secret", "new-secret"])
    assert verifier.verify(BODY, {"X-Signature": value}, now=NOW).key_index == 1


def test_old_and_new_signature_during_rotation_reports_newest_key(make_scheme, make_verifier, sign):
    scheme = make_scheme(encoding="base64")
    old = sign(scheme, secret="old-secret")["X-Signature"]
    new = sign(scheme, secret="new-secret")["X-Signature"]
    verifier = make_verifier(scheme, secrets=["old-secret", "new-secret"])
    assert verifier.verify(BODY, {"X-Signature": f"{old} {new}"}, now=NOW).key_index == 1
    assert (
        make_verifier(scheme, secrets=["old-secret"])
        .verify(BODY, {"X-Signature": f"{old} {new}"}, now=NOW)
        .key_index
        == 0
    )


def test_several_signatures_none_matching(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    forged = [sign(scheme, secret=f"wrong-{n}")["X-Signature"] for n in range(3)]
    with pytest.raises(SignatureMismatch):
        make_verifier(scheme).verify(BODY, {"X-Signature": ",".join(forged)}, now=NOW)


def test_exactly_max_signatures_is_accepted(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    forged = [sign(scheme, secret=f"wrong-{n}")["X-Signature"] for n in range(3)]
    value = ",".join([*forged, sign(scheme)["X-Signature"]])
    assert (
        make_verifier(scheme, max_signatures=4).verify(BODY, {"X-Signature": value}, now=NOW).body
        == BODY
    )


# -- configuration mistakes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"algorithm": "md5"},
        {"algorithm": "SHA256"},
        {"algorithm": "sha1"},  # only with allow_sha1=True
        {"algorithm": None},
        {"encoding": "base32"},
        {"encoding": "HEX"},
        {"header": ""},
        {"prefix": "sha256 ="},
        {"prefix": "a,b"},
        {"prefix": "é="},
        {"template": "{body}.{timestamp}", "timestamp_header": "X-Timestamp"},
        {"template": "{timestamp}.{body}"},  # no timestamp_header
        {"template": "{id}.{body}"},  # no id_header
        {"template": "{nonce}.{body}"},
        {"template": "{body}{body}"},
        {"template": "{id}.{id}.{body}", "id_header": "X-Id"},
        {"template": "{timestamp:>12}.{body}", "timestamp_header": "X-Timestamp"},
        {"template": "a{b.{body}"},
        {"template": "}{body}"},
        {"template": "{{literal}}{body}"},
        {"template": "é.{body}"},
        {"template": "nothing signed"},
        {"timestamp_header": "X-Timestamp", "template": "{body}"},  # unsigned, not allowed
    ],
    ids=stable_repr,
)
def test_bad_scheme_configuration_is_refused_at_construction(options, make_scheme):
    with pytest.raises(ConfigurationError):
        make_scheme(**options)


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "   ",
        " leading-space",
        "trailing-newline\n",
        "\ttab",
        "\ufeffbom-secret",
        "bom-inside\ufeff",
        "cafe\u0301",  # NFD: 'e' + combining acute; NFC is 'caf\u00e9'
        b"",
        bytearray(),
        42,
        ["ok-secret", ""],
        [],
        (),
        None,
        {"key-id": "secret"},  # mappings are only for schemes that name keys (RFC 9421)
    ],
    ids=stable_repr,
)
def test_bad_secrets_are_refused_at_construction(secret, make_scheme):
    scheme = make_scheme()
    with pytest.raises(ConfigurationError):
        Verifier(scheme, secrets=secret)
    if not isinstance(secret, (list, tuple)):
        with pytest.raises(ConfigurationError):
            Signer(scheme, secret=secret)


def test_nfc_secret_is_accepted(make_scheme, make_verifier, sign):
    scheme = make_scheme()
    headers = sign(scheme, secret="caf\u00e9")
    assert make_verifier(scheme, secrets="caf\u00e9").verify(BODY, headers, now=NOW).body == BODY


def test_configuration_error_is_a_value_error():
    assert issubclass(ConfigurationError, ValueError)


@pytest.mark.parametrize(
    "options",
    [
        {"tolerance": 0},
        {"tolerance": -1},
        {"tolerance": None},
        {"tolerance": 1.5},
        {"tolerance": float("nan")},
        {"tolerance": True},
        {"tolerance": "300"},
        {"max_body_bytes": 0},
        {"max_header_bytes": -5},
        {"max_signatures": 0},
        {"max_id_length": 0},
        {"replay_retention": 0},
        {"nonce_store": object()},
        {"allowlist": object()},
        {"on_event": "not callable"},
    ],
    ids=stable_repr,
)
def test_bad_verifier_options_are_refused_at_construction(options, make_scheme):
    with pytest.raises(ConfigurationError):
        Verifier(make_scheme(), secrets=SECRET, **options)


def test_whole_float_tolerance_is_accepted(make_scheme):
    assert Verifier(make_scheme(), secrets=SECRET, tolerance=60.0).limits.tolerance == 60


def test_scheme_must_be_a_scheme():
    with pytest.raises(ConfigurationError):
        Verifier("hmac", secrets=SECRET)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        Signer("hmac", secret=SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize("timestamp", [-1, True, 1.5, "1700000000"])
def test_signer_refuses_bad_timestamps(timestamp, make_scheme):
    signer = Signer(make_scheme(), secret=SECRET)
    with pytest.raises(ConfigurationError):
        signer.sign(BODY, timestamp=timestamp)


def test_signer_refuses_str_body(make_scheme):
    with pytest.raises(TypeError):
        Signer(make_scheme(), secret=SECRET).sign("text body")  # type: ignore[arg-type]


# -- a secret in the wrong place is never echoed -------------------------------------------------


def test_options_after_the_header_are_keyword_only():
    with pytest.raises(TypeError):
        HMACScheme("X-Signature", "s3cr3t-value-pasted-here")  # type: ignore[misc]


@pytest.mark.parametrize("option", ["algorithm", "encoding"])
def test_a_secret_given_as_an_option_is_not_echoed(option):
    secret = "s3cr3t-value-pasted-here"
    with pytest.raises(ConfigurationError) as raised:
        HMACScheme("X-Signature", **{option: secret})
    assert secret not in str(raised.value)
    assert secret not in repr(raised.value)


# -- field boundaries in the template ------------------------------------------------------------
# With "{id}{timestamp}{body}" the bytes "evt_100" + "1700000000" also read as "evt_1" +
# "001700000000": the same signature, another id, another replay key.


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
def test_templates_with_movable_field_boundaries_are_refused(template):
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
def test_templates_with_separated_fields_sign_and_verify(template):
    scheme = HMACScheme(
        "X-Sig",
        timestamp_header="X-Ts" if "{timestamp}" in template else None,
        id_header="X-Id" if "{id}" in template else None,
        template=template,
    )
    headers = Signer(scheme, SECRET).sign(BODY, timestamp=NOW, msg_id="evt_100")
    assert Verifier(scheme, SECRET, nonce_store=None).verify(BODY, headers, now=NOW).body == BODY


def test_a_zero_padded_timestamp_or_a_separator_in_the_id_is_malformed():
    scheme = HMACScheme(
        "X-Sig", timestamp_header="X-Ts", id_header="X-Id", template="{id}.{timestamp}.{body}"
    )
    verifier = Verifier(scheme, SECRET, nonce_store=None)
    headers = Signer(scheme, SECRET).sign(BODY, timestamp=NOW, msg_id="evt")
    with pytest.raises(MalformedHeader) as info:
        verifier.verify(BODY, {**headers, "X-Ts": "0" + str(NOW)}, now=NOW)
    assert info.value.reason == "malformed_timestamp"
    with pytest.raises(MalformedHeader):
        verifier.verify(BODY, {**headers, "X-Id": "evt.1"}, now=NOW)


def test_an_id_header_outside_the_template_is_optional_but_still_checked():
    scheme = HMACScheme("X-Sig", id_header="X-Id")
    verifier = Verifier(scheme, SECRET, nonce_store=None)
    delivery = sign_delivery(scheme, SECRET, b"{}", msg_id="id-1")
    without_id = delivery.without("X-Id")
    assert "X-Id" not in without_id.headers
    assert verifier.verify(without_id.body, without_id.headers, now=NOW).msg_id is None
    with pytest.raises(MalformedHeader):
        verifier.verify(b"{}", {**without_id.headers, "X-Id": "bad id\x01"}, now=NOW)
