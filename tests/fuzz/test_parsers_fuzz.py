"""Property-based fuzzing of every parser that reads attacker input.

The property is the promise of ../shared/SECURITY.md: whatever arrives, a parser returns a
result or raises a hookseal ``VerificationError``; never ``ValueError``, ``TypeError``,
``UnicodeDecodeError``, ``IndexError``, ``OverflowError`` or anything else (a 500 instead of
a 4xx). The same targets run under atheris from ``fuzz/``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookseal import Headers, IPAllowlist, VerificationError, Verified
from hookseal._addresses import read_address
from hookseal._encoding import decode_base64, decode_hex, parse_timestamp
from hookseal._forwarded import header_lines, parse_forwarded, parse_x_forwarded_for
from hookseal._headers import HeaderName, read_header
from hookseal.contrib._common import declared_length
from hostile._harness import Harness
from hostile._profiles import NOW, PROFILES, Profile, Request, params

#: Text shaped like header values: separators and signature alphabets are over-represented.
_STRUCTURAL = " ,;=:.\"'()[]\\/+-_*?#@%tTvVhs0123456789abcdefABCDEF\t"
header_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=_STRUCTURAL, max_size=200),
    st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
)
header_bytes = st.binary(max_size=200)


def _outcome(call: Any) -> object:
    try:
        return call()
    except VerificationError as exc:
        error = exc
    assert isinstance(error.reason, str)
    assert error.reason
    assert error.status_code in (400, 401, 403, 409, 413, 503)
    return error


# -- the small parsers ---------------------------------------------------------------------


@given(header_text)
def test_parse_timestamp(value: str) -> None:
    result = _outcome(lambda: parse_timestamp(value, "X-Timestamp"))
    if isinstance(result, int):
        assert value.isascii()
        assert value.isdigit()
        assert 0 < len(value) <= 12
        assert str(result).zfill(len(value)) == value


@given(header_text)
def test_decode_hex_and_base64(value: str) -> None:
    hexed = _outcome(lambda: decode_hex(value, "X-Sig"))
    if isinstance(hexed, bytes):
        assert hexed.hex() == value.lower()
    b64 = _outcome(lambda: decode_base64(value, "X-Sig"))
    if isinstance(b64, bytes):
        import base64

        assert base64.b64encode(b64).decode() == value


@given(st.one_of(header_text, header_bytes), st.sampled_from([dict, Headers]))
def test_read_header(value: str | bytes, shape: type) -> None:
    headers = shape([("X-Sig", value)]) if shape is Headers else {"X-Sig": value}
    result = _outcome(lambda: read_header(headers, HeaderName("x-sig"), 100))
    if isinstance(result, str):
        assert result.isascii()
        assert result.isprintable()
        assert len(result) <= 100


@given(st.one_of(st.none(), header_text))
def test_declared_content_length(value: str | None) -> None:
    result = _outcome(lambda: declared_length(value))
    if isinstance(result, int):
        assert value is not None
        assert int(value) == result


# -- forwarding headers and addresses ------------------------------------------------------


@given(st.lists(header_text, max_size=4))
def test_forwarded_parsers(lines: list[str]) -> None:
    for parse in (parse_forwarded, parse_x_forwarded_for):
        result = _outcome(lambda parse=parse: parse(lines))  # type: ignore[misc]
        if isinstance(result, list):
            for address, raw in result:
                assert address is None or isinstance(address, str)
                assert isinstance(raw, str)


@given(header_text)
def test_read_address(text: str) -> None:
    parsed = read_address(text)
    assert parsed is None or parsed[0] in (4, 6)


_ALLOWLISTS = [
    IPAllowlist(["10.0.0.0/8", "2001:db8::/32"]),
    IPAllowlist(["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"]),
    IPAllowlist(["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"], forwarded_header="forwarded"),
    IPAllowlist(["10.0.0.0/8"], trusted_proxies=2),
    IPAllowlist(["10.0.0.0/8"], trusted_proxies=1, forwarded_header="forwarded"),
]


@given(
    st.one_of(st.none(), header_text, st.sampled_from(["192.168.1.1", "10.1.2.3", "::1"])),
    st.lists(
        st.tuples(
            st.sampled_from(["X-Forwarded-For", "Forwarded", "x-forwarded-for"]), header_text
        ),
        max_size=4,
    ),
    st.sampled_from(range(len(_ALLOWLISTS))),
    st.booleans(),
)
def test_allowlist_check(
    peer: str | None, lines: list[tuple[str, str]], which: int, as_dict: bool
) -> None:
    headers: Any = dict(lines) if as_dict else Headers(lines)
    result = _outcome(lambda: _ALLOWLISTS[which].check(peer, headers))
    if isinstance(result, str):
        assert read_address(result) is not None


@given(
    st.dictionaries(
        st.one_of(header_text, header_bytes),
        st.one_of(header_text, header_bytes, st.lists(header_text, max_size=3)),
        max_size=4,
    )
)
def test_header_lines_from_any_mapping(mapping: dict[Any, Any]) -> None:
    result = _outcome(lambda: header_lines(mapping, "x-forwarded-for"))
    if isinstance(result, list):
        assert all(isinstance(line, str) for line in result)


# -- every scheme's check, on arbitrary header text ----------------------------------------

_BUILT: dict[str, tuple[Harness, Request]] = {}


def _built(profile: Profile) -> tuple[Harness, Request]:
    """A quiet verifier and a genuine delivery per profile, built once, on first use."""
    if profile.name not in _BUILT:
        harness = Harness(profile, options={"on_event": lambda event: None})
        _BUILT[profile.name] = (harness, profile.sign())
    return _BUILT[profile.name]


def _positions(profile: Profile) -> list[str]:
    names = [profile.sig_header]
    for name in (profile.ts_header, profile.ts_in, profile.id_header):
        if name and name not in names:
            names.append(name)
    return names


@pytest.mark.parametrize("profile", params())
@given(data=st.data())
def test_scheme_check_on_arbitrary_headers(profile: Profile, data: st.DataObject) -> None:
    harness, genuine = _built(profile)
    name = data.draw(st.sampled_from(_positions(profile)))
    value = data.draw(st.one_of(header_text, header_bytes))
    lines: list[tuple[Any, Any]] = [line for line in genuine.headers if line[0] != name]
    lines.append((name, value))
    if data.draw(st.booleans()):
        lines.append((name, data.draw(header_text)))
    body = data.draw(st.sampled_from([genuine.body, b"", b"\xff\xfe"]))
    verifier = harness.verifier

    def run() -> Verified:
        if data.draw(st.booleans()):
            return verifier.verify(body, lines, url=genuine.url, method="POST", now=NOW)
        mapping = {k if isinstance(k, str) else k.decode("latin-1"): v for k, v in lines}
        return asyncio.run(verifier.averify(body, mapping, url=genuine.url, method="POST", now=NOW))

    result = _outcome(run)
    if isinstance(result, Verified):
        # Accepted only when the mutation left a genuine, fresh delivery: never a new body.
        assert result.body == genuine.body or not profile.signs_body


@pytest.mark.parametrize("profile", params())
@given(st.one_of(header_text, header_bytes))
def test_scheme_check_on_an_arbitrary_signature_token(profile: Profile, token: str | bytes) -> None:
    """The signature itself replaced, inside the header's own structure."""
    harness, genuine = _built(profile)
    text = token if isinstance(token, str) else token.decode("latin-1")
    request = profile.with_sig_text(genuine, text)
    verifier = harness.verifier
    result = _outcome(
        lambda: verifier.verify(
            request.body, request.headers, url=request.url, method="POST", now=NOW
        )
    )
    if isinstance(result, Verified):
        genuine_text = profile.sig_text(genuine)
        assert profile.name.startswith("rfc9421") or text.lower() == genuine_text.lower()


# -- RFC 9421 structured fields and Content-Digest -----------------------------------------

_SF_ALPHABET = ' ,;=:"()*?%@-_.+/0123456789abcdefkyidcreatdnoncealgsig1@method@target-uri'
sf_text = st.one_of(header_text, st.text(alphabet=_SF_ALPHABET, max_size=300))


@pytest.mark.extras
@given(sf_text, sf_text)
def test_rfc9421_signature_fields(signature_input: str, signature: str) -> None:
    profile = next(p for p in PROFILES if p.name == "rfc9421-hmac")
    harness, genuine = _built(profile)
    request = genuine.replace("Signature-Input", signature_input).replace("Signature", signature)
    verifier = harness.verifier
    _outcome(
        lambda: verifier.verify(
            request.body, request.headers, url=request.url, method="POST", now=NOW
        )
    )


@pytest.mark.extras
@given(sf_text, st.binary(max_size=64))
def test_content_digest(value: str, body: bytes) -> None:
    from hookseal.digest import verify_content_digest

    result = _outcome(lambda: verify_content_digest(body, value))
    if isinstance(result, str):
        assert result in ("sha-256", "sha-512")


@pytest.mark.extras
@given(sf_text)
def test_rfc9421_signature_input_keeps_the_genuine_signature(signature_input: str) -> None:
    profile = next(p for p in PROFILES if p.name == "rfc9421-hmac")
    harness, genuine = _built(profile)
    request = genuine.replace("Signature-Input", signature_input)
    verifier = harness.verifier
    result = _outcome(
        lambda: verifier.verify(
            request.body, request.headers, url=request.url, method="POST", now=NOW
        )
    )
    assert not isinstance(result, Verified) or signature_input == genuine.get("Signature-Input")


# -- the atheris targets replay their seed corpus as plain scripts ---------------------------


@pytest.mark.extras  # the rfc9421 target needs http-sf
def test_atheris_targets_replay_their_corpus() -> None:
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "fuzz"
    spec = importlib.util.spec_from_file_location("hookseal_fuzz_targets", root / "_targets.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, target in module.TARGETS.items():
        files = sorted((root / "corpus" / name).iterdir())
        assert files, name
        assert (root / f"fuzz_{name}.py").is_file()
        for file in files:
            target(file.read_bytes())
