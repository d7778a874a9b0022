"""Finding 4 (MEDIUM): the Twilio body is bound by bodySHA256 whatever the Content-Type says.

Twilio's algorithm: https://www.twilio.com/docs/usage/webhooks/webhooks-security (JSON bodies
carry ``bodySHA256`` in the signed URL; form bodies have their parameters signed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from hookseal import SignatureMismatch, Signer, Verifier
from hookseal.schemes import Twilio

TOKEN = "auth-token-123456"
BODY = b'{"CallSid":"CA1","Status":"completed"}'
URL = "https://example.com/tw?bodySHA256=" + hashlib.sha256(BODY).hexdigest()
FORM = "application/x-www-form-urlencoded"


def _verifier() -> Verifier:
    return Verifier(Twilio(), TOKEN, nonce_store=None)


def _signature(url: str, params: str = "") -> str:
    mac = hmac.new(TOKEN.encode(), (url + params).encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def test_genuine_json_delivery_is_accepted() -> None:
    headers = Signer(Twilio(), TOKEN).sign(BODY, url=URL)
    assert _verifier().verify(BODY, headers, url=URL).body == BODY


@pytest.mark.parametrize("forged", [b"", b"Status=completed", BODY])
@pytest.mark.parametrize(
    "content_type", [FORM, FORM + "; charset=utf-8", "Application/X-WWW-Form-Urlencoded"]
)
def test_form_content_type_with_body_hash_is_refused(forged: bytes, content_type: str) -> None:
    headers = {"X-Twilio-Signature": _signature(URL), "Content-Type": content_type}
    with pytest.raises(SignatureMismatch):
        _verifier().verify(forged, headers, url=URL)


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_body_hash_is_checked_for_any_other_content_type(content_type: str | None) -> None:
    headers = {"X-Twilio-Signature": _signature(URL)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    for forged in (b"", b"{}", BODY + b"\n"):
        with pytest.raises(SignatureMismatch):
            _verifier().verify(forged, headers, url=URL)


@pytest.mark.parametrize(("body", "signed"), [(b"=x", "x"), (b"a=1&=x", "xa1"), (b"=", "")])
def test_nameless_form_fields_are_refused(body: bytes, signed: str) -> None:
    url = "https://example.com/tw"
    headers = {"X-Twilio-Signature": _signature(url, signed), "Content-Type": FORM}
    with pytest.raises(SignatureMismatch):
        _verifier().verify(body, headers, url=url)
