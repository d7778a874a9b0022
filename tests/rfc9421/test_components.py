"""Component values from RFC 9421 section 2 (https://www.rfc-editor.org/rfc/rfc9421#section-2).

Each expected value below is printed in the RFC section named in the test.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from rfc9421_support import HMAC_KEY, HMAC_NOW, crafted, hmac_verifier

from hookseal import ConfigurationError, Headers, MalformedHeader, SignatureMismatch, Signer
from hookseal.schemes._rfc9421_components import (
    RequestContext,
    parse_component,
    parse_component_spec,
)
from hookseal.schemes.http_message_signatures import HTTPMessageSignatures

pytestmark = pytest.mark.extras


def value(
    spec: str, url: str, headers: Sequence[tuple[str, str]] = (), method: str = "POST"
) -> list[str]:
    component = parse_component_spec(spec)
    request = RequestContext(method, url, Headers(headers), 4096, {"example-dict": "dictionary"})
    if component.name.startswith("@"):
        return request.derived(component)
    return [request.field(component)]


URL = "https://www.example.com/path?param=value&foo=bar&baz=batman&qux="
BODY = b'{"event": "components"}'


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("@method", "POST"),  # 2.2.1
        ("@target-uri", "https://www.example.com/path?param=value&foo=bar&baz=batman&qux="),
        ("@authority", "www.example.com"),  # 2.2.3
        ("@scheme", "https"),  # 2.2.4
        ("@request-target", "/path?param=value&foo=bar&baz=batman&qux="),  # 2.2.5
        ("@path", "/path"),  # 2.2.6
        ("@query", "?param=value&foo=bar&baz=batman&qux="),  # 2.2.7
        ('"@query-param";name="baz"', "batman"),  # 2.2.8
        ('"@query-param";name="qux"', ""),
        ('"@query-param";name="param"', "value"),
    ],
)
def test_derived_components_section_2_2(spec: str, expected: str) -> None:
    assert value(spec, URL) == [expected]


def test_query_param_reencoding_section_2_2_8() -> None:
    url = (
        "https://example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value"
        "&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something"
    )
    assert value('"@query-param";name="var"', url) == ["this%20is%20a%20big%0Amultiline%20value"]
    assert value('"@query-param";name="bar"', url) == ["with%20plus%20whitespace"]
    assert value('"@query-param";name="fa%C3%A7ade%22%3A%20"', url) == ["something"]


def test_repeated_query_param_gives_one_value_per_occurrence() -> None:
    assert value('"@query-param";name="a"', "https://h/?a=1&b=2&a=3") == ["1", "3"]


def test_empty_query_and_path() -> None:
    assert value("@query", "https://example.com") == ["?"]  # 2.2.7: no query gives "?"
    assert value("@path", "https://example.com") == ["/"]
    assert value("@query", "https://example.com/?queryString") == ["?queryString"]


@pytest.mark.parametrize(
    ("url", "authority"),
    [
        ("https://WWW.Example.COM:443/x", "www.example.com"),
        ("http://example.com:80/", "example.com"),
        ("https://example.com:8443/", "example.com:8443"),
        ("https://user:pw@example.com/", "example.com"),
        ("https://[2001:DB8::1]:443/", "[2001:db8::1]"),
    ],
)
def test_authority_is_lowercase_without_default_port(url: str, authority: str) -> None:
    assert value("@authority", url) == [authority]


def test_fragment_and_userinfo_are_not_part_of_the_target_uri() -> None:
    assert value("@target-uri", "https://u@example.com/a?b#frag") == ["https://example.com/a?b"]


def test_field_values_section_2_1() -> None:
    headers = [
        ("Host", "www.example.com"),
        ("X-OWS-Header", "   Leading and trailing whitespace.   "),
        ("X-Obs-Fold-Header", "Obsolete\r\n    line folding."),
        ("Cache-Control", "max-age=60"),
        ("Cache-Control", "   must-revalidate"),
        ("X-Empty-Header", ""),
        ("Example-Dict", " a=1,    b=2;x=1;y=2,   c=(a   b   c)"),
    ]
    url = "https://www.example.com/"
    assert value("x-ows-header", url, headers) == ["Leading and trailing whitespace."]
    assert value("x-obs-fold-header", url, headers) == ["Obsolete line folding."]
    assert value("cache-control", url, headers) == ["max-age=60, must-revalidate"]
    assert value("x-empty-header", url, headers) == [""]
    assert value("example-dict", url, headers) == ["a=1,    b=2;x=1;y=2,   c=(a   b   c)"]
    assert value('"example-dict";sf', url, headers) == ["a=1, b=2;x=1;y=2, c=(a b c)"]


def test_dictionary_members_section_2_1_2() -> None:
    headers = [("Example-Dict", "  a=1, b=2;x=1;y=2, c=(a   b    c), d")]
    url = "https://example.com/"
    assert value('"example-dict";key="a"', url, headers) == ["1"]
    assert value('"example-dict";key="d"', url, headers) == ["?1"]
    assert value('"example-dict";key="b"', url, headers) == ["2;x=1;y=2"]
    assert value('"example-dict";key="c"', url, headers) == ["(a b c)"]
    with pytest.raises(SignatureMismatch):
        value('"example-dict";key="zz"', url, headers)


def test_binary_wrapped_fields_section_2_1_3() -> None:
    url = "https://example.com/"
    two = [("Example-Header", "value, with, lots"), ("Example-Header", "of, commas")]
    assert value('"example-header";bs', url, two) == [
        ":dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:"
    ]
    one = [("Example-Header", "value, with, lots, of, commas")]
    assert value('"example-header";bs', url, one) == [":dmFsdWUsIHdpdGgsIGxvdHMsIG9mLCBjb21tYXM=:"]


def test_sf_on_a_field_of_unknown_type_is_refused() -> None:
    with pytest.raises(MalformedHeader):
        value('"x-custom";sf', "https://e/", [("X-Custom", "a=1")])


@pytest.mark.parametrize(
    "item",
    [
        ("Content-Type", {}),  # upper case
        ("@status", {}),  # response only
        ("@signature-params", {}),
        ("@method", {"req": True}),
        ("content-type", {"tr": True}),
        ("content-type", {"name": "x"}),
        ("@query-param", {}),
        ("@query-param", {"name": 1}),
        ("x", {"bs": True, "sf": True}),
        ("x", {"bs": True, "key": "a"}),
        ("x", {"sf": 1}),
        ("x", {"key": 1}),
        ("bad name", {}),
        (b"@method", {}),
        ("@unknown", {}),
        ("x",),
    ],
)
def test_invalid_component_identifiers(item: object) -> None:
    with pytest.raises(MalformedHeader):
        parse_component(item, "Signature-Input")


@pytest.mark.parametrize("spec", ["", "@status", "Content-Type", '"x";sf=2', 3, '"a" "b"'])
def test_invalid_required_components(spec: object) -> None:
    with pytest.raises(ConfigurationError):
        HTTPMessageSignatures(required_components=(spec,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "/relative",
        "ftp://example.com/",
        "https://",
        "https://ex ample.com/",
        "https://例え.jp/",
        "https://[::1/",
    ],
)
def test_url_components_need_an_absolute_http_url(url: str | None) -> None:
    with pytest.raises(SignatureMismatch):
        value("@target-uri", url)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", [None, "", "PO ST", "PÖST"])
def test_method_component_needs_a_method(method: str | None) -> None:
    with pytest.raises(SignatureMismatch):
        value("@method", "https://e/", method=method)  # type: ignore[arg-type]


@pytest.mark.parametrize("header_value", ["caf\u00e9", "a\x00b", "a\nb", "a" * 5000])
def test_covered_field_values_must_be_short_printable_ascii(header_value: str) -> None:
    with pytest.raises(MalformedHeader):
        value("x-field", "https://e/", [("X-Field", header_value)])


def test_plain_mapping_headers_are_read_case_insensitively() -> None:
    component = parse_component_spec("content-type")
    request = RequestContext("POST", "https://e/", {"Content-Type": "text/plain"}, 4096)
    assert request.field(component) == "text/plain"
    request = RequestContext("POST", "https://e/", {"content-type": b"text/plain"}, 4096)  # type: ignore[dict-item]
    assert request.field(component) == "text/plain"


# -- components through Signer and Verifier ------------------------------------------------------


def test_the_authority_of_an_ipv6_literal_is_lower_cased_with_its_brackets() -> None:
    scheme = HTTPMessageSignatures(required_components=("@method", "@authority"))
    url = "https://[2001:DB8::1]/hooks"
    headers = Signer(scheme, ("k1", HMAC_KEY)).sign(BODY, timestamp=HMAC_NOW, url=url)
    for seen in (url, "https://[2001:db8::1]/hooks"):
        assert hmac_verifier(scheme).verify(BODY, headers, url=seen, method="POST", now=HMAC_NOW)
    with pytest.raises(SignatureMismatch):
        hmac_verifier(scheme).verify(
            BODY, headers, url="https://[2001:db8::2]/hooks", method="POST", now=HMAC_NOW
        )


def test_only_the_signed_query_parameters_are_bound() -> None:
    scheme = HTTPMessageSignatures(
        required_components=('"@query-param";name="a"', '"@query-param";name="b"')
    )
    url = "https://example.com/hook?b=2&a=1&c=3"
    headers = Signer(scheme, ("k1", HMAC_KEY)).sign(BODY, timestamp=HMAC_NOW, url=url)
    verifier = hmac_verifier(scheme)
    assert verifier.verify(BODY, headers, url=url, method="POST", now=HMAC_NOW)
    # c is not signed: changing it changes nothing; changing b breaks the signature.
    assert verifier.verify(BODY, headers, url=url[:-1] + "9", method="POST", now=HMAC_NOW)
    with pytest.raises(SignatureMismatch):
        verifier.verify(BODY, headers, url=url.replace("b=2", "b=3"), method="POST", now=HMAC_NOW)
    with pytest.raises(SignatureMismatch, match="query parameter 'b'"):
        verifier.verify(
            BODY, headers, url="https://example.com/hook?a=1", method="POST", now=HMAC_NOW
        )


def test_required_components_may_be_one_string_and_content_digest_is_then_not_sent() -> None:
    scheme = HTTPMessageSignatures(required_components="@method")
    assert [c.identifier for c in scheme.required_components] == ['"@method"']
    assert repr(scheme.required_components[0]) == 'Component("@method")'
    headers = Signer(scheme, ("k1", HMAC_KEY)).sign(BODY, timestamp=HMAC_NOW)
    assert "Content-Digest" not in headers
    assert hmac_verifier(scheme).verify(BODY, headers, method="POST", now=HMAC_NOW)
    with pytest.raises(SignatureMismatch):
        hmac_verifier(scheme).verify(BODY, headers, method="PUT", now=HMAC_NOW)


def test_a_component_spec_with_parameters_round_trips() -> None:
    component = parse_component_spec('"@query-param";name="id"')
    assert component.identifier == '"@query-param";name="id"'
    assert repr(component) == 'Component("@query-param";name="id")'


def test_a_covered_field_that_is_not_text_in_a_plain_mapping_is_malformed() -> None:
    """A plain dict reaches the scheme as given: a covered non-text value is refused."""
    scheme = HTTPMessageSignatures(required_components=("@method",))
    headers: dict[str, object] = {**crafted('"@method" "x-count"'), "X-Count": 5}
    with pytest.raises(MalformedHeader, match="'x-count' header is not text"):
        hmac_verifier(scheme).verify(BODY, headers, method="POST", now=HMAC_NOW)  # type: ignore[arg-type]
    headers["X-Count"] = b"5"  # bytes are header text (latin-1): checked, then the MAC fails
    with pytest.raises(SignatureMismatch):
        hmac_verifier(scheme).verify(BODY, headers, method="POST", now=HMAC_NOW)  # type: ignore[arg-type]
