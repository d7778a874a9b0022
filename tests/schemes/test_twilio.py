"""Twilio scheme: the SDK's published vectors and a differential test against twilio-python.

The oracle is ``twilio.request_validator.RequestValidator`` (the ``twilio`` test dependency):
what it signs hookseal verifies, what hookseal's Signer produces it validates, and tampering
with the URL, a parameter, the body, the signature or the token is rejected by both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from hookseal import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    PayloadTooLarge,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    Verifier,
)
from hookseal.schemes import Twilio
from hookseal.schemes.base import make_replay_key
from hookseal.stores.memory import MemoryNonceStore

# Published vectors. Source: twilio/twilio-python, tests/unit/test_request_validator.py
# (commit 30368b08ba580a6c18202ab20bfc68d59559ebd7).
TOKEN = "12345"
URI = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
JSON_BODY = b'{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
URI_WITH_BODY = URI + "&bodySHA256=" + BODY_HASH
JSON_EXPECTED = "a9nBmqA0ju/hNViExpshrM61xv4="
DUPLICATE_BODY = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"
DUPLICATE_EXPECTED = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
# Not published: the same URI and parameters signed with HMAC-SHA256 (a SharedKey with
# algorithm HMAC_SHA256), derived with twilio-python 9.13.0 and re-derived with hmac below.
SHA256_EXPECTED = "033hgUJA9M/hXIZsYjwkerEP/DBm35nEri5FhCYjA5s="

FORM = "application/x-www-form-urlencoded"
SIG = "X-Twilio-Signature"


class Params:
    """A MultiDict-like mapping, the form RequestValidator reads repeated keys from."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self.pairs))

    def __len__(self) -> int:
        return len(self.pairs)

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


def verifier(*tokens: str, algorithm: str = "sha1", **kwargs: object) -> Verifier:
    kwargs.setdefault("nonce_store", None)
    return Verifier(Twilio(algorithm=algorithm), list(tokens), **kwargs)  # type: ignore[arg-type]


def form(signature: str, content_type: str = FORM) -> dict[str, str]:
    return {SIG: signature, "Content-Type": content_type}


FORM_BODY = urlencode(PARAMS).encode()


# -- published vectors -------------------------------------------------------------------------


def test_compute_signature_vector() -> None:
    verified = verifier(TOKEN).verify(FORM_BODY, form(EXPECTED), url=URI)
    assert verified.scheme == "twilio"
    assert verified.timestamp is None
    assert verified.msg_id is None
    assert Signer(Twilio(), secret=TOKEN).sign(FORM_BODY, url=URI) == {
        SIG: EXPECTED,
        "Content-Type": FORM,
    }


@pytest.mark.parametrize(
    ("uri", "signature"),
    [
        # test_validation_removes_port_on_https
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", EXPECTED),
        # test_validation_removes_port_on_http ("hash of http uri with port 1234")
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        # test_validation_adds_port_on_https ("hash of uri with port 443")
        (URI, "kvajT1Ptam85bY51eRf/AJRuM3w="),
        # test_validation_adds_port_on_http ("hash of uri with port 80")
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_port_vectors(uri: str, signature: str) -> None:
    verifier(TOKEN).verify(FORM_BODY, form(signature), url=uri)


def test_duplicate_keys_vector() -> None:
    # test_compute_signature_duplicate_multi_dict / _query_dict
    verifier(TOKEN).verify(DUPLICATE_BODY, form(DUPLICATE_EXPECTED), url=URI)
    assert Signer(Twilio(), secret=TOKEN).sign(DUPLICATE_BODY, url=URI)[SIG] == DUPLICATE_EXPECTED


def test_json_body_vector() -> None:
    # test_compute_hash_unicode and test_validation_of_body_succeeds
    assert hashlib.sha256(JSON_BODY).hexdigest() == BODY_HASH
    headers = form(JSON_EXPECTED, "application/json")
    verifier(TOKEN).verify(JSON_BODY, headers, url=URI_WITH_BODY)
    assert Signer(Twilio(), secret=TOKEN).sign(JSON_BODY, url=URI_WITH_BODY) == {
        SIG: JSON_EXPECTED,
        "Content-Type": "application/json",
    }
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(JSON_BODY + b" ", headers, url=URI_WITH_BODY)
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(JSON_BODY, headers, url=URI)


def test_sha256_shared_key_vector() -> None:
    signed = URI + "".join(name + PARAMS[name] for name in sorted(PARAMS))
    mac = hmac.new(TOKEN.encode(), signed.encode(), hashlib.sha256).digest()
    assert base64.b64encode(mac).decode() == SHA256_EXPECTED
    verifier(TOKEN, algorithm="sha256").verify(FORM_BODY, form(SHA256_EXPECTED), url=URI)
    # The algorithm is pinned by configuration: each mode refuses the other's signature.
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(FORM_BODY, form(SHA256_EXPECTED), url=URI)
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN, algorithm="sha256").verify(FORM_BODY, form(EXPECTED), url=URI)
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=KS1,algorithm=HMAC_SHA256"}
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(FORM_BODY, {**form(SHA256_EXPECTED), **settings}, url=URI)


def test_the_mac_length_follows_the_algorithm_the_keys_use() -> None:
    # ``algorithm`` may be set until a Verifier uses the scheme; the length check must read
    # the value the keys were loaded with, not one frozen at construction.
    scheme = Twilio()
    scheme.algorithm = "sha256"
    pinned = Verifier(scheme, [TOKEN], nonce_store=None)
    pinned.verify(FORM_BODY, form(SHA256_EXPECTED), url=URI)
    with pytest.raises(SignatureMismatch, match="20 bytes"):
        pinned.verify(FORM_BODY, form(EXPECTED), url=URI)


# -- differential against twilio-python ----------------------------------------------------------

TOKENS = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=40)
HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z]{2,6}){1,2}", fullmatch=True)
SEGMENTS = st.text(alphabet=string.ascii_letters + string.digits + "-._~", max_size=8)
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=16)
# Names are never empty: a nameless form field ("=value") is refused (see
# test_form_fields_without_a_name_are_refused).
NAMES = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=16)
PAIRS = st.lists(st.tuples(NAMES, TEXT), max_size=8)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(HOSTS)
    port = draw(st.none() | st.integers(min_value=1, max_value=65535))
    path = "/" + "/".join(draw(st.lists(SEGMENTS, max_size=4)))
    query = draw(st.lists(st.tuples(SEGMENTS.filter(bool), SEGMENTS), max_size=3))
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}{path}"
    return url + ("?" + urlencode(query) if query else "")


def received_url(url: str, extra_port: int) -> str:
    """A URL the receiver may see for a delivery Twilio signed for ``url``.

    A proxy may add any port to a URL signed without one, and may drop a default port.
    """
    scheme, _, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    host, colon, port = authority.partition(":")
    if not colon:
        return f"{scheme}://{host}:{extra_port}{slash}{tail}"
    if port == ("443" if scheme == "https" else "80"):
        return f"{scheme}://{host}{slash}{tail}"
    return url


PORTS = st.integers(min_value=1, max_value=65535)


@given(token=TOKENS, url=urls(), pairs=PAIRS, port=PORTS)
def test_sdk_signature_verifies_in_hookseal(
    token: str, url: str, pairs: list[tuple[str, str]], port: int
) -> None:
    signature = RequestValidator(token).compute_signature(url, Params(pairs))
    body = urlencode(pairs).encode()
    v = verifier(token)
    v.verify(body, form(signature), url=url)
    # Both accept the URL with a port added or a default port dropped (proxies do that).
    other = received_url(url, port)
    assert RequestValidator(token).validate(other, Params(pairs), signature)
    v.verify(body, form(signature), url=other)


@given(token=TOKENS, url=urls(), pairs=PAIRS, port=PORTS)
def test_hookseal_signature_validates_in_sdk(
    token: str, url: str, pairs: list[tuple[str, str]], port: int
) -> None:
    body = urlencode(pairs).encode()
    signature = Signer(Twilio(), secret=token).sign(body, url=url)[SIG]
    assert RequestValidator(token).validate(url, Params(pairs), signature)
    assert RequestValidator(token).validate(received_url(url, port), Params(pairs), signature)


@given(token=TOKENS, url=urls(), pairs=PAIRS.filter(bool), data=st.data())
def test_tampering_is_rejected_by_both(
    token: str, url: str, pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    sdk = RequestValidator(token)
    signature = sdk.compute_signature(url, Params(pairs))
    body = urlencode(pairs).encode()
    v = verifier(token)

    tampered_url = url + ("&" if "?" in url else "?") + "x=1"
    assert not sdk.validate(tampered_url, Params(pairs), signature)
    with pytest.raises(SignatureMismatch):
        v.verify(body, form(signature), url=tampered_url)

    index = data.draw(st.integers(0, len(pairs) - 1))
    name, value = pairs[index]
    changed = [*pairs[:index], (name, value + "!"), *pairs[index + 1 :]]
    assert not sdk.validate(url, Params(changed), signature)
    with pytest.raises(SignatureMismatch):
        v.verify(urlencode(changed).encode(), form(signature), url=url)

    mac = bytearray(base64.b64decode(signature))
    mac[data.draw(st.integers(0, 19))] ^= 1
    flipped = base64.b64encode(bytes(mac)).decode()
    assert not sdk.validate(url, Params(pairs), flipped)
    with pytest.raises(SignatureMismatch):
        v.verify(body, form(flipped), url=url)

    other_token = token + "0"
    assert not RequestValidator(other_token).validate(url, Params(pairs), signature)
    with pytest.raises(SignatureMismatch):
        verifier(other_token).verify(body, form(signature), url=url)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(token=TOKENS, url=urls(), payload=JSON_VALUES, ascii_only=st.booleans())
def test_json_bodies_both_directions(
    token: str, url: str, payload: object, ascii_only: bool
) -> None:
    text = json.dumps(payload, ensure_ascii=ascii_only)
    body = text.encode()
    digest = hashlib.sha256(body).hexdigest()
    signed_url = url + ("&" if "?" in url else "?") + "bodySHA256=" + digest
    sdk = RequestValidator(token)
    headers = form(sdk.compute_signature(signed_url, {}), "application/json")
    verifier(token).verify(body, headers, url=signed_url)
    ours = Signer(Twilio(), secret=token).sign(body, url=signed_url)
    assert ours == headers
    assert sdk.validate(signed_url, text, ours[SIG])
    tampered = text + " "
    assert not sdk.validate(signed_url, tampered, ours[SIG])
    with pytest.raises(SignatureMismatch):
        verifier(token).verify(tampered.encode(), headers, url=signed_url)


@given(token=TOKENS, url=urls(), pairs=PAIRS)
def test_sha256_mode_matches_independent_hmac(
    token: str, url: str, pairs: list[tuple[str, str]]
) -> None:
    values: dict[str, set[str]] = {}
    for name, value in pairs:
        values.setdefault(name, set()).add(value)
    signed = url + "".join(n + v for n in sorted(values) for v in sorted(values[n]))
    mac = hmac.new(token.encode(), signed.encode(), hashlib.sha256).digest()
    signature = base64.b64encode(mac).decode()
    body = urlencode(pairs).encode()
    verifier(token, algorithm="sha256").verify(body, form(signature), url=url)
    assert Signer(Twilio(algorithm="sha256"), secret=token).sign(body, url=url)[SIG] == signature


def test_identical_repeated_pairs_count_once_like_the_sdk() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URI, Params([("a", "1"), ("a", "1")]))
    assert signature == RequestValidator(TOKEN).compute_signature(URI, {"a": "1"})
    verifier(TOKEN).verify(b"a=1&a=1", form(signature), url=URI)
    verifier(TOKEN).verify(b"a=1", form(signature), url=URI)


def test_blank_values_are_signed() -> None:
    pairs = [("Body", ""), ("From", "+1")]
    signature = RequestValidator(TOKEN).compute_signature(URI, Params(pairs))
    verifier(TOKEN).verify(b"Body=&From=%2B1", form(signature), url=URI)
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(b"From=%2B1", form(signature), url=URI)


def test_content_type_parameters_and_case() -> None:
    for content_type in (FORM + "; charset=UTF-8", "Application/X-WWW-Form-URLEncoded"):
        verifier(TOKEN).verify(FORM_BODY, form(EXPECTED, content_type), url=URI)


def test_get_request_signs_the_url_alone() -> None:
    url = URI + "&CallSid=CA1"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    verifier(TOKEN).verify(b"", {SIG: signature}, url=url, method="GET")
    assert Signer(Twilio(), secret=TOKEN).sign(b"", url=url, method="GET") == {SIG: signature}


# -- URL handling ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        ("https://[2001:db8::1]/sms", "https://[2001:db8::1]:8443/sms"),
        ("https://[2001:db8::1]:443/sms", "https://[2001:db8::1]/sms"),
        ("https://user:pw@example.com/a", "https://user:pw@example.com:8443/a"),
        ("http://example.com/a?b=%2F", "http://example.com:80/a?b=%2F"),
    ],
)
def test_port_variants_edit_only_the_authority(signed_url: str, received_url: str) -> None:
    headers = Signer(Twilio(), secret=TOKEN).sign(FORM_BODY, url=signed_url)
    verifier(TOKEN).verify(FORM_BODY, headers, url=received_url)


def test_only_the_port_may_differ() -> None:
    headers = Signer(Twilio(), secret=TOKEN).sign(FORM_BODY, url="https://example.com:8443/a")
    for url in (
        "https://example.com:9443/a",  # another port is another URL
        "http://example.com:8443/a",
        "https://example.com:8443/a/",
        "https://example.com:8443/A",
        "https://example.org:8443/a",
    ):
        with pytest.raises(SignatureMismatch):
            verifier(TOKEN).verify(FORM_BODY, headers, url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com:99999999/a",
        "https://example.com:abc/a",
        "https://example.com:/a",
        "https://[::1/a",
        "https://[::1]x/a",
        "https://ex\u00e4mple.com/\u00fc?q=\u20ac",
    ],
)
def test_odd_urls_never_crash(url: str) -> None:
    headers = Signer(Twilio(), secret=TOKEN).sign(FORM_BODY, url=url)
    verifier(TOKEN).verify(FORM_BODY, headers, url=url)
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(FORM_BODY, headers, url=url + "x")


def test_url_with_lone_surrogate_is_a_mismatch() -> None:
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(FORM_BODY, form(EXPECTED), url="https://example.com/\udcff")


def test_missing_url_is_a_programming_error() -> None:
    # A receiver that forgets url= has a bug: it should fail loudly (500, failing test), not
    # look like a rejected delivery.
    with pytest.raises(TypeError, match="url="):
        verifier(TOKEN).verify(FORM_BODY, form(EXPECTED))
    with pytest.raises(TypeError, match="url="):
        Signer(Twilio(), secret=TOKEN).sign(FORM_BODY)
    with pytest.raises(TypeError):
        verifier(TOKEN).verify(FORM_BODY, form(EXPECTED), url=b"https://x.com/")  # type: ignore[arg-type]
    for relative in ("/myapp.php?foo=1", "mycompany.com/myapp.php", "ftp://x.com/a", ""):
        with pytest.raises(ValueError, match="absolute"):
            verifier(TOKEN).verify(FORM_BODY, form(EXPECTED), url=relative)


def test_signer_refuses_bodies_it_cannot_sign() -> None:
    with pytest.raises(ValueError, match="bodySHA256"):
        Signer(Twilio(), secret=TOKEN).sign(JSON_BODY, url=URI)
    with pytest.raises(ValueError, match="SHA-256"):
        Signer(Twilio(), secret=TOKEN).sign(JSON_BODY + b" ", url=URI_WITH_BODY)


# -- body handling ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/json", "multipart/form-data"]
)
def test_body_not_covered_by_the_signature_is_refused(content_type: str | None) -> None:
    headers = {SIG: EXPECTED}
    if content_type is not None:
        headers["Content-Type"] = content_type
    with pytest.raises(SignatureMismatch, match="bodySHA256"):
        verifier(TOKEN).verify(FORM_BODY, headers, url=URI)


def test_body_hash_checks() -> None:
    wrong = URI + "&bodySHA256=" + "0" * 64
    headers = form(RequestValidator(TOKEN).compute_signature(wrong, {}), "application/json")
    with pytest.raises(SignatureMismatch, match="SHA-256"):
        verifier(TOKEN).verify(JSON_BODY, headers, url=wrong)
    upper = URI + "&bodySHA256=" + BODY_HASH.upper()
    headers = form(RequestValidator(TOKEN).compute_signature(upper, {}), "application/json")
    assert not RequestValidator(TOKEN).validate(upper, JSON_BODY.decode(), headers[SIG])
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(JSON_BODY, headers, url=upper)
    twice = URI_WITH_BODY + "&bodySHA256=" + BODY_HASH
    headers = form(RequestValidator(TOKEN).compute_signature(twice, {}), "application/json")
    with pytest.raises(SignatureMismatch, match="more than once"):
        verifier(TOKEN).verify(JSON_BODY, headers, url=twice)
    encoded_name = URI + "&body%53HA256=" + BODY_HASH
    headers = form(RequestValidator(TOKEN).compute_signature(encoded_name, {}), "application/json")
    verifier(TOKEN).verify(JSON_BODY, headers, url=encoded_name)


@pytest.mark.parametrize(
    "body",
    [
        b"a=1&&b=2",
        b"a=1&",
        b"a",
        b"a=%ff",
        "a=\u00e9".encode(),
        b"a=1;b=2&c",
    ],
)
def test_malformed_form_bodies(body: bytes) -> None:
    with pytest.raises(SignatureMismatch, match="form"):
        verifier(TOKEN).verify(body, form(EXPECTED), url=URI)


def test_too_many_form_parameters_before_any_crypto() -> None:
    body = "&".join(f"p{i}=1" for i in range(1001)).encode()
    with pytest.raises(PayloadTooLarge) as info:
        verifier(TOKEN).verify(body, form("AAAA"), url=URI)
    assert info.value.reason == "too_many_params"
    pairs = [(f"p{i}", "1") for i in range(20)]
    body = urlencode(pairs).encode()
    signature = RequestValidator(TOKEN).compute_signature(URI, Params(pairs))
    Verifier(Twilio(max_params=20), TOKEN, nonce_store=None).verify(body, form(signature), url=URI)
    with pytest.raises(PayloadTooLarge):
        Verifier(Twilio(max_params=19), TOKEN, nonce_store=None).verify(
            body, form(signature), url=URI
        )


# -- replay ------------------------------------------------------------------------------------


def test_replay_key_is_the_mac_whichever_url_variant_matched() -> None:
    v = verifier(TOKEN, nonce_store=MemoryNonceStore())
    first = v.verify(FORM_BODY, form(EXPECTED), url=URI)
    assert first.replay_key == make_replay_key("twilio", base64.b64decode(EXPECTED))
    with pytest.raises(ReplayedDelivery):
        v.verify(FORM_BODY, form(EXPECTED), url="https://mycompany.com:443/myapp.php?foo=1&bar=2")
    with pytest.raises(ReplayedDelivery):
        v.verify(FORM_BODY, form(EXPECTED), url=URI)


# -- hostile headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {SIG: ""}, {SIG: "  "}, {"Content-Type": FORM}])
def test_missing_signature(headers: dict[str, str]) -> None:
    with pytest.raises(MissingHeader):
        verifier(TOKEN).verify(FORM_BODY, headers, url=URI)


@pytest.mark.parametrize(
    "value",
    [
        EXPECTED + "!!!",
        EXPECTED + "==",
        EXPECTED + " ",
        EXPECTED.rstrip("="),
        EXPECTED[:-2] + "9=",  # non-zero trailing bits
        "sha1=" + EXPECTED,
        EXPECTED + "," + EXPECTED,
        EXPECTED + "é",
        EXPECTED[:5] + "\n" + EXPECTED[5:],
        "\x00",
        EXPECTED.replace("/", "_"),
    ],
)
def test_malformed_signature(value: str) -> None:
    with pytest.raises(MalformedHeader):
        verifier(TOKEN).verify(FORM_BODY, form(value), url=URI)


def test_truncated_extended_and_wrong_algorithm_macs() -> None:
    mac = base64.b64decode(EXPECTED)
    for length in range(1, 20):
        with pytest.raises(SignatureMismatch):
            verifier(TOKEN).verify(
                FORM_BODY, form(base64.b64encode(mac[:length]).decode()), url=URI
            )
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(FORM_BODY, form(base64.b64encode(mac + b"\0").decode()), url=URI)
    # A SHA-1 MAC where SHA-256 is configured (the downgrade direction).
    with pytest.raises(SignatureMismatch, match="20 bytes"):
        verifier(TOKEN, algorithm="sha256").verify(FORM_BODY, form(EXPECTED), url=URI)


@pytest.mark.parametrize("name", [SIG, "Content-Type"])
def test_duplicated_headers(name: str) -> None:
    lines = [(SIG, EXPECTED), ("Content-Type", FORM), (name, "x")]
    with pytest.raises(MalformedHeader) as info:
        verifier(TOKEN).verify(FORM_BODY, lines, url=URI)
    assert info.value.reason == "duplicate_header"


def test_thousands_of_signatures() -> None:
    with pytest.raises(MalformedHeader) as info:
        verifier(TOKEN).verify(FORM_BODY, form(",".join([EXPECTED] * 1000)), url=URI)
    assert info.value.reason == "header_too_long"


def test_non_ascii_content_type() -> None:
    with pytest.raises(MalformedHeader):
        verifier(TOKEN).verify(FORM_BODY, form(EXPECTED, FORM + "; charset=é"), url=URI)


def test_no_leaks() -> None:
    forged = base64.b64encode(b"\1" * 20).decode()
    with pytest.raises(SignatureMismatch) as info:
        verifier(TOKEN + "abc").verify(FORM_BODY, form(forged), url=URI)
    text = str(info.value) + repr(info.value)
    for needle in (EXPECTED, TOKEN + "abc", "CA1234567890ABCDE", "14158675309"):
        assert needle not in text
    assert TOKEN not in repr(verifier("secret-token")) + repr(Twilio())


@pytest.mark.parametrize(
    "kwargs",
    [{"algorithm": "md5"}, {"algorithm": "HMAC_SHA1"}, {"max_params": 0}, {"max_params": True}],
)
def test_configuration_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Twilio(**kwargs)
    with pytest.raises(ConfigurationError):
        verifier("")


def test_tokens_are_utf8_like_the_sdk() -> None:
    token = "t\u00f6ken"
    signature = RequestValidator(token).compute_signature(URI, PARAMS)
    verifier(token).verify(FORM_BODY, form(signature), url=URI)


# -- query spellings twilio-node accepts -------------------------------------------------------
# twilio-node's validateRequest (src/webhooks/webhooks.ts since the fix for twilio-node#1059,
# "validate Twilio signatures with escaped and unescaped query string values") tries the URL as
# WHATWG's URL serializes it (which writes ' in a query as %27) with and without its port, then
# the same two with the query re-encoded by Node's querystring module (which writes %27 as ').
# Its getExpectedTwilioSignature(token, url, {}) is the HMAC-SHA1 of the URL text.
NODE_TOKEN = "s3cr3t"


def node_signature(url: str, token: str = NODE_TOKEN) -> str:
    return base64.b64encode(hmac.new(token.encode(), url.encode(), hashlib.sha1).digest()).decode()


def verify_get(signed_url: str, received_url: str) -> None:
    verifier(NODE_TOKEN).verify(b"", {SIG: node_signature(signed_url)}, url=received_url)


# Ported from twilio-node spec/unit/webhooks/webhooks.spec.js ("validateRequest()").
NODE_SPEC_ACCEPTED = [
    ("https://example.com:443/path?test=param", "https://example.com:443/path?test=param"),
    ("https://example.com:443/path?test=param", "https://example.com/path?test=param"),
    ("https://example.com/path?test=param", "https://example.com/path?test=param"),
    ("https://example.com/path?test=param", "https://example.com:443/path?test=param"),
    (
        "https://example.com/path?test=param'WithQuote",
        "https://example.com/path?test=param'WithQuote",
    ),
    (
        "https://example.com/path?test=param'WithQuote",
        "https://example.com/path?test=param%27WithQuote",
    ),
    (
        "https://example.com/path?test=param%27WithQuote",
        "https://example.com/path?test=param'WithQuote",
    ),
    (
        "https://example.com/path?test=param%27WithQuote",
        "https://example.com/path?test=param%27WithQuote",
    ),
]


@pytest.mark.parametrize(("signed_url", "received_url"), NODE_SPEC_ACCEPTED)
def test_twilio_node_spec_vectors(signed_url: str, received_url: str) -> None:
    verify_get(signed_url, received_url)


def test_twilio_node_spec_refusal() -> None:
    with pytest.raises(SignatureMismatch):
        verify_get("https://example.com/path?test=param", "https://example.com/path?test=param2")


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        # The quote case with a form body, the way Twilio posts it (port added as well).
        ("https://example.com:443/sms?name=O%27Brien", "https://example.com/sms?name=O'Brien"),
        # WHATWG's special-query set: space, ", <, > are percent-encoded too.
        ("https://example.com/a?q=%22x%20%3Cy%3E%22", 'https://example.com/a?q="x <y>"'),
        # Node's querystring: '+' is a space, written %20; %7E is written ~; a name without
        # '=' gets one; empty pairs vanish; repeated names are grouped; array-index names first.
        (
            "https://example.com/a?From=%2B1415&Body=hi%20there",
            "https://example.com/a?From=%2B1415&Body=hi+there",
        ),
        ("https://example.com/a?x=~&flag=", "https://example.com/a?x=%7E&&flag"),
        ("https://example.com/a?b=1&b=3&a=2", "https://example.com/a?b=1&a=2&b=3"),
        ("https://example.com/a?2=x&10=y&b=1", "https://example.com/a?b=1&10=y&2=x"),
        ("https://example.com/a?n=%C3%A9t%C3%A9", "https://example.com/a?n=%c3%a9t%c3%a9"),
    ],
)
def test_query_spellings_twilio_node_accepts(signed_url: str, received_url: str) -> None:
    verify_get(signed_url, received_url)
    # The same with a form body, as Twilio's POSTs carry.
    headers = Signer(Twilio(), secret=NODE_TOKEN).sign(FORM_BODY, url=signed_url)
    verifier(NODE_TOKEN).verify(FORM_BODY, headers, url=received_url)


@pytest.mark.parametrize(
    ("signed_url", "received_url"),
    [
        # Neither SDK decodes an unreserved escape into the URL it signs.
        ("https://example.com/a?q=%41", "https://example.com/a?q=A"),
        # Node re-encodes only the query, and only its own way: %27 is never written for a
        # quote that arrived as %27 in the path, nor upper-case hex restored.
        ("https://example.com/it%27s?q=1", "https://example.com/it's?q=1"),
        ("https://example.com/a?q=%c3%a9", "https://example.com/a?q=%C3%A9"),
        # Node's serializer lower-cases the host, so a query re-encoding over a host it would
        # change is no spelling any SDK tries.
        ("https://Example.com/a?q=%27", "https://Example.com/a?q='"),
        ("https://example.com/a/../b?q=%27", "https://example.com/a/../b?q='"),
        ("https://example.com/a?q=%27#frag", "https://example.com/a?q='#frag"),
        # A stray '%' is outside what is reproduced exactly: the URL as given, nothing else.
        ("https://example.com/a?q=%25zz&r=%27", "https://example.com/a?q=%zz&r='"),
        # Parameters are never reordered beyond what Node's grouping does.
        ("https://example.com/a?a=2&b=1", "https://example.com/a?b=1&a=2"),
    ],
)
def test_no_spelling_beyond_the_sdks(signed_url: str, received_url: str) -> None:
    with pytest.raises(SignatureMismatch):
        verify_get(signed_url, received_url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/path?test=param'WithQuote",
        "https://example.com:8443/a?q=O'Brien&x=1+2",
        "http://example.com/a?q=%27&b=%2B",
    ],
)
def test_twilio_python_signatures_still_verify(url: str) -> None:
    # twilio-python's RequestValidator signs the URL text: the URL as given is always tried.
    validator = RequestValidator(NODE_TOKEN)
    signature = validator.compute_signature(url, PARAMS)
    verifier(NODE_TOKEN).verify(FORM_BODY, form(signature), url=url)
    assert validator.validate(url, PARAMS, signature)


@given(
    st.text(
        alphabet=string.ascii_letters + string.digits + "%'\"+=&<>~ -._!*()é",
        max_size=60,
    ),
    st.sampled_from(["https://example.com/p", "http://example.com:8080/p", "https://Ex.com/p"]),
)
def test_candidates_are_bounded(query: str, base: str) -> None:
    from hookseal.schemes.twilio import _url_candidates

    url = f"{base}?{query}"
    candidates = _url_candidates(url)
    assert candidates[0] == url
    assert len(candidates) == len(set(candidates)) <= 6


def test_query_spellings_cost_one_mac_each() -> None:
    from hookseal.schemes.twilio import _url_candidates

    # Port toggled, WHATWG-encoded, re-encoded: six spellings, no more.
    url = "https://example.com/a?x='&y=1+2"
    assert len(_url_candidates(url)) == 6
    # A query neither SDK re-encodes differently costs the two port spellings only.
    assert len(_url_candidates(URI)) == 2


def test_default_body_limit_is_twilios_callback_cap() -> None:
    # Twilio skips a status callback whose payload exceeds 1 MB (error 17564).
    assert verifier(TOKEN).limits.max_body_bytes == 1024 * 1024


def test_an_overlong_url_is_refused_before_its_spellings_are_built() -> None:
    """Hostile queries cost ~10x a benign one per byte: the URL's length is bounded first."""
    from hookseal import MalformedHeader
    from hookseal.schemes.twilio import MAX_URL_LENGTH

    verifier = Verifier(Twilio(), ["auth-token-for-tests"], nonce_store=None)
    url = "https://example.com/sms?" + "a[0]=%27+" * (MAX_URL_LENGTH // 9 + 1)
    with pytest.raises(MalformedHeader) as raised:
        verifier.verify(b"", {"X-Twilio-Signature": "AAAA"}, url=url, now=1_700_000_000)
    assert raised.value.reason == "malformed_header"


# -- the body is bound by bodySHA256 whatever the Content-Type says ------------------------------
# Twilio's algorithm (https://www.twilio.com/docs/usage/webhooks/webhooks-security): JSON bodies
# carry bodySHA256 in the signed URL; form bodies have their parameters signed.


def url_signature(url: str, params: str = "") -> str:
    mac = hmac.new(TOKEN.encode(), (url + params).encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


@pytest.mark.parametrize("forged", [b"", b"Status=completed", JSON_BODY])
@pytest.mark.parametrize(
    "content_type", [FORM, FORM + "; charset=utf-8", "Application/X-WWW-Form-Urlencoded"]
)
def test_a_form_content_type_cannot_skip_the_body_hash_of_a_signed_url(
    forged: bytes, content_type: str
) -> None:
    """A URL signed with bodySHA256 binds the body even when the request claims a form."""
    headers = {SIG: url_signature(URI_WITH_BODY), "Content-Type": content_type}
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(forged, headers, url=URI_WITH_BODY)


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_the_body_hash_is_checked_for_any_other_content_type(content_type: str | None) -> None:
    headers = {SIG: url_signature(URI_WITH_BODY)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    verifier(TOKEN).verify(JSON_BODY, headers, url=URI_WITH_BODY)
    for forged in (b"", b"{}", JSON_BODY + b"\n"):
        with pytest.raises(SignatureMismatch):
            verifier(TOKEN).verify(forged, headers, url=URI_WITH_BODY)


@pytest.mark.parametrize(("body", "signed"), [(b"=x", "x"), (b"a=1&=x", "xa1"), (b"=", "")])
def test_form_fields_without_a_name_are_refused(body: bytes, signed: str) -> None:
    url = "https://example.com/tw"
    headers = {SIG: url_signature(url, signed), "Content-Type": FORM}
    with pytest.raises(SignatureMismatch):
        verifier(TOKEN).verify(body, headers, url=url)
