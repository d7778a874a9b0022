"""DocuSign Connect: ``X-DocuSign-Signature-<n>: <base64 HMAC-SHA256 of the body>``, one per key.

DocuSign publishes no secret/body/signature triple and its SDKs (docusign-esign) do not verify
Connect messages, so every MAC here is derived with :mod:`hmac` from the algorithm documented
at https://developers.docusign.com/platform/webhooks/connect/validate/ (HMAC-SHA256 of the
entire raw body keyed with the Connect key as UTF-8 text, base64) and the header series of
https://developers.docusign.com/platform/webhooks/connect/hmac/ (one header per active key,
numbered from 1, up to 100 keys): "derived".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from unittest import mock

import pytest
from body_hmac_contract import BODY, BodyHMACContract

from hookseal import (
    Headers,
    MalformedHeader,
    MissingHeader,
    ReplayedDelivery,
    SignatureMismatch,
    Signer,
    Verifier,
)
from hookseal.schemes import docusign as docusign_module
from hookseal.schemes.base import make_replay_key
from hookseal.schemes.docusign import DocuSignConnect
from hookseal.stores.memory import MemoryNonceStore

KEY = "bVYNjVu9vHpgeN3Gr/qUjLvzSumR+xGwhOEtGk+M2uE="  # the form the Connect page shows
OTHER = "zX8b4Ck1p0y7m0c2nJxQ1w9sV3eT6rH5aL8dG2fK4uI="


def mac(body: bytes, key: str = KEY) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def header(number: int) -> str:
    return f"X-DocuSign-Signature-{number}"


def verifier(*keys: str, **options: object) -> Verifier:
    options.setdefault("nonce_store", None)
    return Verifier(DocuSignConnect(), list(keys or [KEY]), **options)  # type: ignore[arg-type]


class TestDocuSignContract(BodyHMACContract):
    scheme_class = DocuSignConnect
    name = "docusign"
    header = "X-DocuSign-Signature-1"
    encoding = "base64"
    secret = KEY
    other_secret = OTHER


def test_key_is_used_as_text_not_base64_decoded() -> None:
    """The Connect key looks like base64 but DocuSign's samples key the HMAC with its UTF-8."""
    decoded_key = base64.b64decode(KEY)
    as_bytes = base64.b64encode(hmac.new(decoded_key, BODY, hashlib.sha256).digest()).decode()
    with pytest.raises(SignatureMismatch):
        verifier().verify(BODY, {header(1): as_bytes})
    verifier().verify(BODY, {header(1): mac(BODY)})


def test_signer_sends_the_algorithm_header() -> None:
    assert Signer(DocuSignConnect(), KEY).sign(BODY) == {
        header(1): mac(BODY),
        "X-Authorization-Digest": "HMACSHA256",
    }


@pytest.mark.parametrize("position", [1, 2, 3, 8])
def test_any_header_of_the_series_may_hold_the_matching_mac(position: int) -> None:
    """With several Connect keys, DocuSign sends one header per key; the configured key's MAC
    may sit in any of them."""
    headers = {header(n): mac(BODY, f"another-account-key-{n}") for n in range(1, 9)}
    headers[header(position)] = mac(BODY)
    verified = verifier().verify(BODY, headers)
    assert verified.key_index == 0
    assert verified.scheme == "docusign"


def test_any_configured_key_may_match_any_header() -> None:
    headers = {header(1): mac(BODY, "unknown"), header(2): mac(BODY, OTHER)}
    assert verifier(KEY, OTHER).verify(BODY, headers).key_index == 1
    assert verifier(OTHER, KEY).verify(BODY, headers).key_index == 0


def test_a_gap_in_the_numbering_is_accepted() -> None:
    """Only header 2 present (say key 1 was removed): still a signature DocuSign sent."""
    verifier().verify(BODY, {header(2): mac(BODY)})


def test_forged_headers_beside_forged_headers_are_refused() -> None:
    headers = {header(n): mac(BODY, f"forged-{n}") for n in range(1, 9)}
    with pytest.raises(SignatureMismatch) as info:
        verifier().verify(BODY, headers)
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("number", [2, 5, 8])
@pytest.mark.parametrize("valid_first", [True, False])
def test_every_header_of_the_series_is_refused_when_repeated(
    number: int, valid_first: bool
) -> None:
    lines = [(header(1), mac(BODY, "forged"))]
    pair = [(header(number), mac(BODY)), (header(number), mac(BODY, "forged"))]
    lines += pair if valid_first else pair[::-1]
    with pytest.raises(MalformedHeader) as info:
        verifier().verify(BODY, Headers(lines))
    assert info.value.reason == "duplicate_header"


@pytest.mark.parametrize("number", [1, 2, 8])
def test_every_header_of_the_series_is_strictly_decoded(number: int) -> None:
    """A malformed value anywhere in the series is refused, even beside a valid one."""
    for bad in (mac(BODY) + "!!!", mac(BODY).rstrip("="), mac(BODY) + " " + mac(BODY), "é"):
        headers = {header(1): mac(BODY), header(number): bad}
        with pytest.raises(MalformedHeader):
            verifier().verify(BODY, headers)


def test_every_header_of_the_series_is_length_bounded() -> None:
    headers = {header(1): mac(BODY), header(3): "A" * 5000}
    with pytest.raises(MalformedHeader) as info:
        verifier().verify(BODY, headers)
    assert info.value.reason == "header_too_long"


def test_a_header_beyond_max_signatures_is_refused_before_any_mac() -> None:
    headers = {header(n): mac(BODY, f"forged-{n}") for n in range(1, 10)}
    headers[header(1)] = mac(BODY)
    with mock.patch.object(docusign_module, "hmac_matches") as matches:
        with pytest.raises(MalformedHeader) as info:
            verifier().verify(BODY, headers)  # max_signatures defaults to 8
        matches.assert_not_called()
    assert info.value.reason == "too_many_signatures"
    assert info.value.header == header(9)
    # Raised to nine, the same delivery is accepted.
    verifier(max_signatures=9).verify(BODY, headers)


def test_one_hundred_keys_with_max_signatures_100() -> None:
    """DocuSign's maximum: 100 active keys, 100 headers; the last one matches."""
    headers = {header(n): mac(BODY, f"account-key-{n}") for n in range(1, 101)}
    headers[header(100)] = mac(BODY)
    verifier(max_signatures=100).verify(BODY, headers)
    with pytest.raises(MalformedHeader) as info:
        verifier(max_signatures=99).verify(BODY, headers)
    assert info.value.reason == "too_many_signatures"


def test_no_more_than_100_headers_are_ever_read() -> None:
    """max_signatures above 100 reads the hundred DocuSign can send, nothing beyond."""
    headers = {header(101): mac(BODY)}
    with pytest.raises(MissingHeader):
        verifier(max_signatures=1000).verify(BODY, headers)


def test_headers_outside_the_series_are_ignored() -> None:
    for name in ("X-DocuSign-Signature", "X-DocuSign-Signature-0", "X-DocuSign-Signature-01"):
        with pytest.raises(MissingHeader) as info:
            verifier().verify(BODY, {name: mac(BODY)})
        assert info.value.header == header(1)


def test_replay_identity_ignores_which_header_carried_the_mac() -> None:
    """Moving the MAC to another header, adding forged ones or stripping the other keys'
    signatures leaves the identity unchanged: it is every configured key's MAC of the body."""
    store = MemoryNonceStore()
    v = verifier(KEY, OTHER, nonce_store=store)
    first = v.verify(BODY, {header(1): mac(BODY, OTHER), header(2): mac(BODY)})
    assert set(first.replay_keys) == {
        make_replay_key("docusign", base64.b64decode(mac(BODY, key))) for key in (KEY, OTHER)
    }
    for replay in (
        {header(1): mac(BODY)},
        {header(2): mac(BODY, OTHER)},
        {header(1): mac(BODY, "forged"), header(3): mac(BODY)},
    ):
        with pytest.raises(ReplayedDelivery):
            v.verify(BODY, replay)
    # A worker holding only one of the keys (a rolling deploy) refuses it too.
    with pytest.raises(ReplayedDelivery):
        verifier(KEY, nonce_store=store).verify(BODY, {header(1): mac(BODY)})


def test_nothing_secret_in_a_rejection_of_the_series() -> None:
    headers = {header(n): mac(BODY, f"forged-{n}") for n in range(1, 4)}
    with pytest.raises(SignatureMismatch) as info:
        verifier(KEY, OTHER).verify(BODY, headers)
    text = str(info.value) + repr(info.value)
    for leak in (mac(BODY), mac(BODY, OTHER), KEY, OTHER, "evt_1"):
        assert leak not in text
