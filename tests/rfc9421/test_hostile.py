"""Hostile input to HTTPMessageSignatures: each must be refused with the documented reason.

Genuine messages come from hookseal's Signer with RFC 9421 Appendix B.1 keys
(https://www.rfc-editor.org/rfc/rfc9421#appendix-B.1) and RFC 9421 example B.2.6.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rfc9421_support import (
    PUBLIC_KEYS,
    SHARED_SECRET,
    crafted,
    hmac_verifier,
    key_bytes,
    signer,
    verify_example,
)

from hookseal import (
    Headers,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    TimestampOutOfTolerance,
    VerificationError,
    Verifier,
)
from hookseal.schemes import HTTPMessageSignatures
from hookseal.stores.memory import MemoryNonceStore
from stable_ids import stable_repr

pytestmark = pytest.mark.extras

URL = "https://hooks.example.com/in?x=1"
BODY = b'{"event": "paid"}'
NOW = 1_700_000_000
REQUIRED = ("@method", "@target-uri", "content-digest")


def genuine(keyid: str = "test-key-ed25519", **kwargs: object) -> dict[str, str]:
    kwargs.setdefault("label", "sig1")
    return signer(keyid, REQUIRED, **kwargs).sign(BODY, timestamp=NOW, msg_id="n1", url=URL)


def check(
    headers: object, *, body: bytes = BODY, secrets: object = PUBLIC_KEYS, **kw: object
) -> object:
    scheme_kw = {k: kw.pop(k) for k in ("label", "tag", "require_created", "required") if k in kw}
    required = scheme_kw.pop("required", REQUIRED)
    kw.setdefault("nonce_store", None)
    scheme = HTTPMessageSignatures(required_components=required, **scheme_kw)
    v = Verifier(scheme, secrets=secrets, **kw)  # type: ignore[arg-type]
    return v.verify(body, headers, url=URL, method="POST", now=NOW)  # type: ignore[arg-type]


def replace(headers: dict[str, str], **changes: str) -> dict[str, str]:
    out = dict(headers)
    for name, value in changes.items():
        out[name.replace("_", "-")] = value
    return out


def test_genuine_message_is_accepted() -> None:
    assert check(genuine()).key_id == "test-key-ed25519"  # type: ignore[attr-defined]


@pytest.mark.parametrize("drop", ["Signature-Input", "Signature"])
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_missing_or_blank_signature_headers(drop: str, blank: str | None) -> None:
    headers = genuine()
    if blank is None:
        del headers[drop]
    else:
        headers[drop] = blank
    with pytest.raises(MissingHeader):
        check(headers)


def test_required_component_not_covered() -> None:
    headers = signer("test-key-ed25519", ("@method", "content-digest"), label="sig1").sign(
        BODY, timestamp=NOW, msg_id="n", url=URL
    )
    with pytest.raises(SignatureMismatch) as info:
        check(headers)
    assert info.value.reason == "missing_component"


def test_rfc_example_without_required_components_is_refused() -> None:
    """B.2.5 covers date, @authority and content-type only: not the default policy."""
    from rfc9421_support import verifier

    with pytest.raises(SignatureMismatch) as info:
        verify_example("B.2.5", verifier(("@method", "@target-uri", "content-digest")))
    assert info.value.reason == "missing_component"


def test_covered_header_removed_or_changed() -> None:
    headers = genuine()
    del headers["Content-Digest"]
    with pytest.raises(SignatureMismatch):
        check(headers)
    with pytest.raises(SignatureMismatch):
        check(genuine(), body=BODY + b"\n")
    forged = replace(
        genuine(),
        Content_Digest="sha-256=:" + base64.b64encode(hashlib.sha256(b"x").digest()).decode() + ":",
    )
    with pytest.raises(SignatureMismatch):
        check(forged, body=b"x")


def test_url_and_method_are_bound() -> None:
    headers = genuine()
    v = Verifier(HTTPMessageSignatures(), secrets=PUBLIC_KEYS, nonce_store=None)
    with pytest.raises(SignatureMismatch):
        v.verify(BODY, headers, url=URL + "&y=2", method="POST", now=NOW)
    with pytest.raises(SignatureMismatch):
        v.verify(BODY, headers, url=URL, method="PUT", now=NOW)
    with pytest.raises(SignatureMismatch):
        v.verify(BODY, headers, url=None, method="POST", now=NOW)


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ('sig1=("@method");created=1, sig1=("@method");created=2', "sig1=:AAAA:"),
        (
            'sig1=("@method");created=1700000000;keyid="test-key-ed25519"',
            "sig1=:AAAA:, sig1=:AAAA:",
        ),
        ('sig1=("@method");created=1;created=2;keyid="k"', "sig1=:AAAA:"),
    ],
)
def test_duplicate_labels_and_parameters(signature_input: str, signature: str) -> None:
    with pytest.raises(MalformedHeader):
        check({"Signature-Input": signature_input, "Signature": signature})


def test_two_header_lines_are_refused() -> None:
    headers = genuine()
    lines = [*headers.items(), ("Signature", headers["Signature"])]
    with pytest.raises(MalformedHeader) as info:
        check(Headers(lines))
    assert info.value.reason == "duplicate_header"


GOOD_INPUT = (
    'sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="test-key-ed25519"'
)


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ("sig1", "sig1=:AAAA:"),
        ("sig1=(", "sig1=:AAAA:"),
        ('sig1=("@method"', "sig1=:AAAA:"),
        ('Sig1=("@method")', "Sig1=:AAAA:"),
        ('sig1=("@method"),', "sig1=:AAAA:"),
        ('sig1=(@method);keyid="k"', "sig1=:AAAA:"),  # token, not string
        ('sig1="@method";keyid="k"', "sig1=:AAAA:"),  # not an inner list
        ('sig1=("@method" "@method");keyid="k"', "sig1=:AAAA:"),  # duplicate component
        (GOOD_INPUT, "sig1=AAAA"),  # token, not byte sequence
        (GOOD_INPUT, "sig1=:AAAA"),
        (GOOD_INPUT, "sig1=:A!AA:"),
        (GOOD_INPUT, 'sig1="AAAA"'),
        (GOOD_INPUT, "sig1=(:AAAA:)"),
        (GOOD_INPUT, "sig2=:AAAA:"),  # labels differ
        (GOOD_INPUT + ', sig2=("@method");keyid="k"', "sig2=:AAAA:, sig1=:AAAA:"),  # order differs
        (GOOD_INPUT.replace(";keyid", ";kid"), "sig1=:AAAA:"),  # unknown parameter
        (GOOD_INPUT.replace(';keyid="test-key-ed25519"', ""), "sig1=:AAAA:"),  # no keyid
        (GOOD_INPUT.replace('keyid="test-key-ed25519"', "keyid=test"), "sig1=:AAAA:"),
        (GOOD_INPUT + ";nonce=1", "sig1=:AAAA:"),
        (GOOD_INPUT + ";alg=ed25519", "sig1=:AAAA:"),
        (GOOD_INPUT + ";tag=?1", "sig1=:AAAA:"),
        (GOOD_INPUT + ", x=\x01", "sig1=:AAAA:"),
        (GOOD_INPUT + ", é", "sig1=:AAAA:"),
    ],
)
def test_malformed_structured_fields(signature_input: str, signature: str) -> None:
    with pytest.raises(MalformedHeader):
        check({"Signature-Input": signature_input, "Signature": signature}, label="sig1")


@pytest.mark.parametrize(
    "created",
    [
        "created=1700000000.0",
        'created="1700000000"',
        "created",
        "created=-1",
        "created=99999999999999",
    ],
)
def test_malformed_created(created: str) -> None:
    signature_input = GOOD_INPUT.replace("created=1700000000", created)
    with pytest.raises(MalformedHeader) as info:
        check({"Signature-Input": signature_input, "Signature": "sig1=:AAAA:"})
    assert info.value.reason == "malformed_timestamp"


def test_missing_created_when_required() -> None:
    signature_input = GOOD_INPUT.replace(";created=1700000000", "")
    with pytest.raises(MalformedHeader) as info:
        check({"Signature-Input": signature_input, "Signature": "sig1=:AAAA:"})
    assert info.value.reason == "malformed_timestamp"


def test_missing_created_allowed_when_configured() -> None:
    """Without created the replay material is the signature and Verified.timestamp is None."""
    scheme = HTTPMessageSignatures(required_components=REQUIRED, require_created=False)
    headers = genuine()
    base_input = headers["Signature-Input"].replace("created=1700000000;", "")
    from hookseal.schemes._rfc9421_components import RequestContext, signature_base
    from hookseal.schemes._rfc9421_keys import load_key

    member = scheme._parse_dictionary(base_input, "Signature-Input")["sig1"]
    sig = scheme._parse_signature("sig1", member, (b"", {}))
    base = signature_base(
        sig.components, scheme._serialize_member(member), RequestContext("POST", URL, headers, 4096)
    )
    key = load_key(key_bytes("test-key-ed25519.priv.pem"), private=True)
    headers["Signature-Input"] = base_input
    headers["Signature"] = "sig1=:" + base64.b64encode(key.sign(base)).decode() + ":"
    verified = check(headers, require_created=False)
    assert verified.timestamp is None  # type: ignore[attr-defined]
    with pytest.raises(MalformedHeader):
        check(headers)


def test_expired_and_future_and_stale() -> None:
    headers = genuine()
    v = Verifier(HTTPMessageSignatures(), secrets=PUBLIC_KEYS, nonce_store=None, tolerance=300)
    with pytest.raises(TimestampOutOfTolerance) as info:
        v.verify(BODY, headers, url=URL, method="POST", now=NOW + 301)
    assert info.value.reason == "timestamp_too_old"
    with pytest.raises(TimestampOutOfTolerance) as info:
        v.verify(BODY, headers, url=URL, method="POST", now=NOW - 301)
    assert info.value.reason == "timestamp_in_future"
    earlier = signer("test-key-ed25519", REQUIRED, label="sig1").sign(
        BODY, timestamp=NOW - 100, msg_id="n1", url=URL
    )
    expired = replace(earlier, Signature_Input=earlier["Signature-Input"] + ";expires=1699999999")
    with pytest.raises(TimestampOutOfTolerance) as info:
        v.verify(BODY, expired, url=URL, method="POST", now=NOW)
    assert info.value.reason == "timestamp_too_old"
    backwards = replace(headers, Signature_Input=headers["Signature-Input"] + ";expires=1")
    with pytest.raises(MalformedHeader):
        v.verify(BODY, backwards, url=URL, method="POST", now=NOW)


def _hmac_forgery_with_public_key(alg: str | None) -> dict[str, str]:
    """The classic key-confusion forgery: HMAC keyed with the Ed25519 public key's PEM bytes."""
    from hookseal.schemes._rfc9421_components import RequestContext, signature_base

    scheme = HTTPMessageSignatures(required_components=REQUIRED)
    params = ';created=1700000000;keyid="test-key-ed25519"' + (f';alg="{alg}"' if alg else "")
    signature_input = 'sig1=("@method" "@target-uri" "content-digest")' + params
    headers = genuine()
    member = scheme._parse_dictionary(signature_input, "Signature-Input")["sig1"]
    sig = scheme._parse_signature("sig1", member, (b"", {}))
    base = signature_base(
        sig.components, scheme._serialize_member(member), RequestContext("POST", URL, headers, 4096)
    )
    for public in (key_bytes("test-key-ed25519.pub.pem"),):
        mac = hmac.new(public, base, "sha256").digest()
    headers["Signature-Input"] = signature_input
    headers["Signature"] = "sig1=:" + base64.b64encode(mac).decode() + ":"
    return headers


def test_alg_contradicting_the_key_is_refused() -> None:
    with pytest.raises(SignatureMismatch) as info:
        check(_hmac_forgery_with_public_key("hmac-sha256"))
    assert info.value.reason == "algorithm_mismatch"
    with pytest.raises(SignatureMismatch) as info:
        check(_hmac_forgery_with_public_key(None))
    assert info.value.reason == "signature_mismatch"


def test_alg_that_matches_the_key_is_accepted() -> None:
    assert 'alg="ed25519"' in genuine()["Signature-Input"]
    assert check(genuine()).key_id == "test-key-ed25519"  # type: ignore[attr-defined]


def test_unknown_keyid() -> None:
    with pytest.raises(SignatureMismatch) as info:
        check(genuine(), secrets={"other": SHARED_SECRET})
    assert info.value.reason == "unknown_key_id"


def test_too_many_signatures_before_any_key_lookup() -> None:
    looked_up: list[str] = []

    def resolve(keyid: str) -> object:
        looked_up.append(keyid)
        return PUBLIC_KEYS.get(keyid)

    headers = genuine()
    member_input = headers["Signature-Input"].split("=", 1)[1]
    member_sig = headers["Signature"].split("=", 1)[1]
    labels = [f"s{i}" for i in range(9)]
    many = {
        "Signature-Input": ", ".join(f"{label}={member_input}" for label in labels),
        "Signature": ", ".join(f"{label}={member_sig}" for label in labels),
        "Content-Digest": headers["Content-Digest"],
    }
    with pytest.raises(MalformedHeader) as info:
        check(many, secrets=resolve, label="s8", max_header_bytes=100_000)
    assert info.value.reason == "too_many_signatures"
    huge = {name: ", ".join([value] * 120) for name, value in many.items()}
    with pytest.raises(MalformedHeader) as info:
        check(huge, secrets=resolve, label="s8")
    assert info.value.reason == "header_too_long"
    assert looked_up == []


def test_several_signatures_need_a_label() -> None:
    one = genuine(label="a")
    two = genuine("test-shared-secret", label="b")
    both = {
        "Signature-Input": f"{one['Signature-Input']}, {two['Signature-Input']}",
        "Signature": f"{one['Signature']}, {two['Signature']}",
        "Content-Digest": one["Content-Digest"],
    }
    with pytest.raises(MalformedHeader) as info:
        check(both)
    assert info.value.reason == "ambiguous_signature"
    assert check(both, label="b").key_id == "test-shared-secret"  # type: ignore[attr-defined]
    assert check(both, label=("b", "a")).key_id == "test-shared-secret"  # type: ignore[attr-defined]
    with pytest.raises(SignatureMismatch) as info:
        check(both, label="c")
    assert info.value.reason == "no_supported_signature"
    forged_b = both["Signature"].replace(two["Signature"].split("=:")[1][:4], "AAAA", 1)
    with pytest.raises(SignatureMismatch):
        check(replace(both, Signature=forged_b), label=("a", "b"))


def test_required_tag() -> None:
    with pytest.raises(SignatureMismatch) as info:
        check(genuine(), tag="billing")
    assert info.value.reason == "no_supported_signature"
    assert check(genuine(tag="billing"), tag="billing").key_id == "test-key-ed25519"  # type: ignore[attr-defined]


def test_truncated_and_extended_hmac_signatures() -> None:
    headers = genuine("test-shared-secret")
    raw = base64.b64decode(headers["Signature"].split(":")[1])
    for candidate in [raw[:n] for n in range(len(raw))] + [raw + b"\x00"]:
        forged = replace(headers, Signature="sig1=:" + base64.b64encode(candidate).decode() + ":")
        with pytest.raises(SignatureMismatch):
            check(forged)


def test_replay_is_refused_by_the_nonce_store() -> None:
    headers = genuine()
    v = Verifier(HTTPMessageSignatures(), secrets=PUBLIC_KEYS, nonce_store=MemoryNonceStore())
    v.verify(BODY, headers, url=URL, method="POST", now=NOW)
    with pytest.raises(ReplayedDelivery):
        v.verify(BODY, headers, url=URL, method="POST", now=NOW + 1)


def test_errors_do_not_leak_signatures_or_keys() -> None:
    headers = genuine("test-shared-secret")
    signature = headers["Signature"].split(":")[1]
    with pytest.raises(SignatureMismatch) as info:
        check(headers, body=b"other")
    text = str(info.value) + repr(info.value)
    assert signature not in text
    assert base64.b64encode(SHARED_SECRET).decode() not in text
    assert "other" not in text


@given(st.text(max_size=120), st.text(max_size=60))
def test_arbitrary_header_values_raise_only_verification_errors(si: str, sig: str) -> None:
    with contextlib.suppress(VerificationError):
        check({"Signature-Input": si, "Signature": sig, "Content-Digest": sig}, label="sig1")


@given(
    st.lists(
        st.sampled_from(
            [
                '"@method"',
                '"@path"',
                '"content-digest"',
                '"x";sf',
                '"@query-param";name="x"',
                "@a",
                '"b";key="c"',
                "(",
                ")",
                ";",
                "=",
                "1",
                '"',
                ":AAAA:",
                " ",
                ",",
            ]
        ),
        max_size=12,
    )
)
def test_structured_junk_raises_only_verification_errors(parts: list[str]) -> None:
    si = "sig1=(" + " ".join(parts) + ');created=1700000000;keyid="test-key-ed25519"'
    with contextlib.suppress(VerificationError):
        check(
            {"Signature-Input": si, "Signature": "sig1=:AAAA:", "X": "a=1"},
            label="sig1",
            required=(),
        )


# -- structured fields that http-sf parses but cannot serialise (or cannot parse) ------------

SF_COVERED = [
    ('"content-digest";sf', "content-digest", None),  # a Dictionary (RFC 9530)
    ('"accept";sf', "accept", None),  # a List, known to http-sf's retrofit table
    ('"x-dict";sf', "x-dict", "dictionary"),
    ('"x-list";sf', "x-list", "list"),
    ('"x-item";sf', "x-item", "item"),
    ('"x-dict";key="a"', "x-dict", "dictionary"),
    ('"x-bytes";bs', "x-bytes", None),
]
HOSTILE_SF_VALUES = [
    "",
    " ",
    "   ",
    "\t",
    " \t ",
    "\r\n ",  # an obs-fold and nothing else
    ",",
    "a=",
    "(",
    "a=()",
    'a=%"\\xff"',
    "a=@99999999999999999",
    "a=1234567890123456",
    "a=1.23456",
    "?2",
    "é",
    "\x00",
    "a" * 5000,  # longer than max_header_bytes
    "(" + " 1" * 2000 + ")",  # a large inner list, within max_header_bytes
]


def sf_verifier(**kw: object) -> Verifier:
    scheme = HTTPMessageSignatures(
        required_components=(),
        label="sig1",
        structured_fields={"x-dict": "dictionary", "x-list": "list", "x-item": "item"},
    )
    return Verifier(scheme, secrets=PUBLIC_KEYS, nonce_store=None, **kw)  # type: ignore[arg-type]


def forged_covering(identifier: str, header: str, value: str) -> dict[str, str]:
    """A forged request with a configured keyid covering ``identifier`` (no key is needed)."""
    return {
        "Signature-Input": f'sig1=("@method" {identifier});created={NOW};keyid="test-key-ed25519"',
        "Signature": "sig1=:" + base64.b64encode(bytes(64)).decode() + ":",
        header: value,
    }


@pytest.mark.parametrize(("identifier", "header", "kind"), SF_COVERED)
@pytest.mark.parametrize("value", HOSTILE_SF_VALUES, ids=stable_repr)
def test_hostile_structured_field_values_are_refused_not_crashed(
    identifier: str, header: str, kind: str | None, value: str
) -> None:
    # An empty or blank Dictionary/List parses to an empty container that http-sf's serialiser
    # refuses with ValueError: a 500 before any signature check, for anyone who knows a keyid.
    with pytest.raises(VerificationError) as info:
        sf_verifier().verify(
            BODY, forged_covering(identifier, header, value), url=URL, method="POST", now=NOW
        )
    assert info.value.reason in ("malformed_header", "header_too_long", "signature_mismatch")


@pytest.mark.parametrize("identifier", ['"content-digest";sf', '"accept";sf', '"x-list";sf'])
@pytest.mark.parametrize("value", ["", "   ", "\t", " \r\n  "], ids=stable_repr)
def test_empty_structured_field_is_malformed_header(identifier: str, value: str) -> None:
    header = identifier.split(";")[0].strip('"')
    with pytest.raises(MalformedHeader) as info:
        sf_verifier().verify(
            BODY, forged_covering(identifier, header, value), url=URL, method="POST", now=NOW
        )
    assert info.value.reason == "malformed_header"
    assert info.value.header == header


@given(
    st.sampled_from(SF_COVERED),
    st.one_of(
        st.text(alphabet=' \t,;=()"?:@%*-.!a1Z\\', max_size=60),
        st.text(max_size=40),
    ),
)
def test_covered_structured_fields_raise_only_verification_errors(
    covered: tuple[str, str, str | None], value: str
) -> None:
    identifier, header, _kind = covered
    with contextlib.suppress(VerificationError):
        sf_verifier().verify(
            BODY, forged_covering(identifier, header, value), url=URL, method="POST", now=NOW
        )


# -- bounds on what the signature base reads, before any crypto ----------------------------------


def test_a_query_with_too_many_parameters_is_refused_before_crypto() -> None:
    scheme = HTTPMessageSignatures(required_components=('"@query-param";name="a"',))
    url = "https://example.com/hook?" + "&".join(f"p{i}=1" for i in range(300)) + "&a=1"
    with pytest.raises(SignatureMismatch, match="more than 256 parameters"):
        hmac_verifier(scheme).verify(
            BODY, crafted('"@query-param";name="a"'), url=url, method="POST", now=NOW
        )


def test_a_covered_field_sent_in_too_many_lines_is_malformed() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    lines = list(crafted('"@method" "x-note"').items())
    many = Headers(lines + [("X-Note", "n")] * 33)
    with pytest.raises(MalformedHeader, match="more than 32 lines"):
        hmac_verifier(scheme).verify(BODY, many, url=None, method="POST", now=NOW)
    few = Headers(lines + [("X-Note", "n")] * 32)
    with pytest.raises(SignatureMismatch):  # within the cap: checked, and the MAC is wrong
        hmac_verifier(scheme).verify(BODY, few, url=None, method="POST", now=NOW)


def test_a_covered_structured_field_that_does_not_parse_is_malformed() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    headers = crafted('"@method" "content-digest";sf', **{"Content-Digest": "sha-256=(unclosed"})
    with pytest.raises(MalformedHeader, match="not a valid structured field"):
        hmac_verifier(scheme).verify(BODY, headers, method="POST", now=NOW)


def test_more_than_32_components_are_refused() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    fields = " ".join(f'"x-f{i}"' for i in range(33))
    with pytest.raises(MalformedHeader, match="more than 32 components"):
        hmac_verifier(scheme).verify(BODY, crafted('"@method" ' + fields), method="POST", now=NOW)
