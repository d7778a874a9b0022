"""RFC 9421 branches the rest of the suite leaves unexercised, each with an observable effect."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from hookseal import (
    ConfigurationError,
    Headers,
    MalformedHeader,
    SignatureMismatch,
    Signer,
    VerificationError,
    Verifier,
)
from hookseal.schemes._rfc9421_components import parse_component_spec
from hookseal.schemes.http_message_signatures import HTTPMessageSignatures

pytestmark = pytest.mark.extras  # http-sf and cryptography

NOW = 1_700_000_000
HMAC_KEY = b"coverage-gaps-rfc9421-hmac-key!!"
BODY = b'{"event": "coverage"}'


def verifier(scheme: HTTPMessageSignatures, keys: object = None) -> Verifier:
    return Verifier(
        scheme, keys or {"k1": HMAC_KEY}, nonce_store=None, on_event=lambda _event: None
    )


def crafted(components: str, **extra: str) -> dict[str, str]:
    """A Signature-Input covering ``components`` with a well-formed but wrong signature."""
    zeros = base64.b64encode(bytes(32)).decode()
    return {
        "Signature-Input": f'sig1=({components});created={NOW};keyid="k1";alg="hmac-sha256"',
        "Signature": f"sig1=:{zeros}:",
        **extra,
    }


def test_authority_of_an_ipv6_literal_keeps_its_brackets() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method", "@authority"))
    url = "https://[2001:DB8::1]/hooks"
    headers = Signer(scheme, ("k1", HMAC_KEY)).sign(BODY, timestamp=NOW, url=url)
    assert verifier(scheme).verify(BODY, headers, url=url, method="POST", now=NOW)
    # The authority is lower-cased, brackets kept: the same host with another port fails.
    with pytest.raises(SignatureMismatch):
        verifier(scheme).verify(BODY, headers, url="https://[2001:db8::2]/hooks", method="POST",
                                now=NOW)  # fmt: skip
    assert verifier(scheme).verify(
        BODY, headers, url="https://[2001:db8::1]/hooks", method="POST", now=NOW
    )


def test_two_query_params_and_a_missing_one() -> None:
    scheme = HTTPMessageSignatures(
        required_components=('"@query-param";name="a"', '"@query-param";name="b"')
    )
    url = "https://example.com/hook?b=2&a=1&c=3"
    headers = Signer(scheme, ("k1", HMAC_KEY)).sign(BODY, timestamp=NOW, url=url)
    assert verifier(scheme).verify(BODY, headers, url=url, method="POST", now=NOW)
    # c is not signed: changing it changes nothing; changing b breaks the signature.
    assert verifier(scheme).verify(BODY, headers, url=url[:-1] + "9", method="POST", now=NOW)
    with pytest.raises(SignatureMismatch):
        verifier(scheme).verify(BODY, headers, url=url.replace("b=2", "b=3"), method="POST",
                                now=NOW)  # fmt: skip
    with pytest.raises(SignatureMismatch, match="query parameter 'b'"):
        verifier(scheme).verify(
            BODY, headers, url="https://example.com/hook?a=1", method="POST", now=NOW
        )


def test_a_query_with_too_many_parameters_is_refused_before_crypto() -> None:
    scheme = HTTPMessageSignatures(required_components=('"@query-param";name="a"',))
    url = "https://example.com/hook?" + "&".join(f"p{i}=1" for i in range(300)) + "&a=1"
    headers = crafted('"@query-param";name="a"')
    with pytest.raises(SignatureMismatch, match="more than 256 parameters"):
        verifier(scheme).verify(BODY, headers, url=url, method="POST", now=NOW)


def test_covered_field_sent_in_too_many_lines() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    lines = [(name, value) for name, value in crafted('"@method" "x-note"').items()]
    many = Headers(lines + [("X-Note", "n")] * 33)
    with pytest.raises(MalformedHeader, match="more than 32 lines"):
        verifier(scheme).verify(BODY, many, url=None, method="POST", now=NOW)
    few = Headers(lines + [("X-Note", "n")] * 32)
    with pytest.raises(SignatureMismatch):  # within the cap: checked, and the MAC is wrong
        verifier(scheme).verify(BODY, few, url=None, method="POST", now=NOW)


def test_covered_sf_field_that_does_not_parse() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    headers = crafted('"@method" "content-digest";sf', **{"Content-Digest": "sha-256=(unclosed"})
    with pytest.raises(MalformedHeader, match="not a valid structured field"):
        verifier(scheme).verify(BODY, headers, method="POST", now=NOW)


def test_too_many_components_refused() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    fields = " ".join(f'"x-f{i}"' for i in range(33))
    with pytest.raises(MalformedHeader, match="more than 32 components"):
        verifier(scheme).verify(BODY, crafted('"@method" ' + fields), method="POST", now=NOW)


def test_resolver_returning_none_or_raising_a_verification_error() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method",))
    unknown = verifier(scheme, lambda key_id: None)
    with pytest.raises(VerificationError) as info:
        unknown.verify(BODY, crafted('"@method"'), method="POST", now=NOW)
    assert info.value.reason == "unknown_key_id"

    def refusing(key_id: str) -> object:
        raise SignatureMismatch("this key id was revoked")

    with pytest.raises(SignatureMismatch, match="revoked"):
        verifier(scheme, refusing).verify(BODY, crafted('"@method"'), method="POST", now=NOW)


def test_single_component_string_and_signing_without_content_digest() -> None:
    scheme = HTTPMessageSignatures(required_components="@method")
    assert [c.identifier for c in scheme.required_components] == ['"@method"']
    assert repr(scheme.required_components[0]) == 'Component("@method")'
    headers = Signer(scheme, ("k1", HMAC_KEY)).sign(BODY, timestamp=NOW)
    assert "Content-Digest" not in headers
    assert verifier(scheme).verify(BODY, headers, method="POST", now=NOW)
    with pytest.raises(SignatureMismatch):
        verifier(scheme).verify(BODY, headers, method="PUT", now=NOW)


def test_scheme_key_entry_points_refuse_misuse() -> None:
    scheme = HTTPMessageSignatures()
    with pytest.raises(ConfigurationError, match="secrets=\\{keyid: key\\}"):
        scheme.load_key(HMAC_KEY)
    with pytest.raises(ConfigurationError, match="Signer"):
        scheme.sign(HMAC_KEY, BODY, timestamp=NOW, msg_id="m", url=None, method="POST")
    signing = scheme.load_signing_key(("k1", HMAC_KEY))
    assert repr(signing) == "_SigningKey('k1', '**********')"
    assert HMAC_KEY.hex() not in repr(signing)


def test_signer_refuses_a_public_key_object() -> None:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(ConfigurationError, match="signing needs the private key"):
        Signer(HTTPMessageSignatures(), ("k1", public))


def test_short_rsa_key_refused() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(ConfigurationError, match="1024-bit RSA key; at least 2048"):
        verifier(HTTPMessageSignatures(), {"k1": ("rsa-pss-sha512", weak)})


def test_component_spec_round_trip() -> None:
    component = parse_component_spec('"@query-param";name="id"')
    assert component.identifier == '"@query-param";name="id"'
    assert repr(component) == 'Component("@query-param";name="id")'


def test_covered_field_that_is_not_text_in_a_plain_mapping() -> None:
    """A plain dict reaches the scheme as given: a covered non-text value is refused."""
    scheme = HTTPMessageSignatures(required_components=("@method",))
    headers: dict[str, object] = {**crafted('"@method" "x-count"'), "X-Count": 5}
    with pytest.raises(MalformedHeader, match="'x-count' header is not text"):
        verifier(scheme).verify(BODY, headers, method="POST", now=NOW)  # type: ignore[arg-type]
    headers["X-Count"] = b"5"  # bytes are header text (latin-1): checked, then the MAC fails
    with pytest.raises(SignatureMismatch):
        verifier(scheme).verify(BODY, headers, method="POST", now=NOW)  # type: ignore[arg-type]
