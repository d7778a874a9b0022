"""Shared data for the RFC 9421 tests: the RFC's keys, messages and signature examples.

The vectors in tests/vectors/rfc9421/ are RFC 9421 Appendix B (keys B.1, examples B.2-B.4),
section 2.4 and section 4.3, and RFC 9530 Appendix B:
https://www.rfc-editor.org/rfc/rfc9421#appendix-B and
https://www.rfc-editor.org/rfc/rfc9530#appendix-B
(cross-checked against pyauth/http-message-signatures test/test.py; see examples.json "_about").
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hookseal import Headers, Signer, Verifier
from hookseal.schemes.http_message_signatures import HTTPMessageSignatures

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "rfc9421"
EXAMPLES: dict[str, Any] = json.loads((VECTORS / "examples.json").read_text())
BY_ID: dict[str, dict[str, Any]] = {e["id"]: e for e in EXAMPLES["signature_examples"]}
MESSAGES: dict[str, dict[str, Any]] = EXAMPLES["messages"]
#: Every B.2 example signs created=1618884473; 4.3 signs 1618884480 and expires 1618884540.
RFC_NOW = 1618884480


def key_bytes(name: str) -> bytes:
    return (VECTORS / "keys" / name).read_bytes()


SHARED_SECRET = base64.b64decode(key_bytes("test-shared-secret.b64"))

#: keyid -> verification key, in the forms users configure.
PUBLIC_KEYS: dict[str, object] = {
    "test-key-rsa-pss": ("rsa-pss-sha512", key_bytes("test-key-rsa-pss.pub.pem")),
    "test-key-rsa": ("rsa-v1_5-sha256", key_bytes("test-key-rsa.pub.pem").decode()),
    "test-key-ecc-p256": key_bytes("test-key-ecc-p256.pub.pem"),
    "test-key-ed25519": key_bytes("test-key-ed25519.pub.pem").decode(),
    "test-shared-secret": SHARED_SECRET,
}
#: keyid -> signing key.
PRIVATE_KEYS: dict[str, object] = {
    "test-key-rsa-pss": ("rsa-pss-sha512", key_bytes("test-key-rsa-pss.priv.pem")),
    "test-key-rsa": ("rsa-v1_5-sha256", key_bytes("test-key-rsa.priv.pem")),
    "test-key-ecc-p256": key_bytes("test-key-ecc-p256.priv.pem"),
    "test-key-ed25519": key_bytes("test-key-ed25519.priv.pem"),
    "test-shared-secret": SHARED_SECRET,
}

REQUEST_EXAMPLES = ["B.2.1", "B.2.2", "B.2.3", "B.2.5", "B.2.6", "B.3", "B.4", "4.3-proxy_sig"]
RESPONSE_EXAMPLES = ["B.2.4", "2.4-reqres"]
DETERMINISTIC = [i for i in REQUEST_EXAMPLES if BY_ID[i]["deterministic"]]


def signed_headers(example_id: str, extra: list[tuple[str, str]] | None = None) -> Headers:
    example = BY_ID[example_id]
    lines = [tuple(pair) for pair in MESSAGES[example["message"]]["headers"]]
    lines += [
        ("Signature-Input", example["signature_input_header"]),
        ("Signature", example["signature_header"]),
    ]
    return Headers(lines + (extra or []))  # type: ignore[arg-type]


def verifier(required: tuple[str, ...] = (), label: object = None, **kwargs: Any) -> Verifier:
    scheme_kwargs = {k: kwargs.pop(k) for k in ("tag", "require_created") if k in kwargs}
    kwargs.setdefault("nonce_store", None)
    kwargs.setdefault("clock", lambda: RFC_NOW)
    secrets = kwargs.pop("secrets", PUBLIC_KEYS)
    return Verifier(
        HTTPMessageSignatures(required_components=required, label=label, **scheme_kwargs),  # type: ignore[arg-type]
        secrets=secrets,
        **kwargs,
    )


def verify_example(example_id: str, v: Verifier | None = None, **overrides: Any) -> Any:
    example = BY_ID[example_id]
    message = MESSAGES[example["message"]]
    v = v or verifier(label=example["label"])
    return v.verify(
        overrides.get("body", message["body"].encode()),
        overrides.get("headers", signed_headers(example_id)),
        url=overrides.get("url", message["target_uri"]),
        method=overrides.get("method", message["method"]),
    )


def signer(keyid: str, required: tuple[str, ...], **kwargs: Any) -> Signer:
    return Signer(
        HTTPMessageSignatures(required_components=required, **kwargs),
        secret=(keyid, PRIVATE_KEYS[keyid]),
    )


#: A 32-byte HMAC key for tests that sign and verify with hmac-sha256 under keyid "k1".
HMAC_KEY = b"rfc9421-tests-hmac-sha256-key!!!"
HMAC_NOW = 1_700_000_000


def hmac_verifier(scheme: HTTPMessageSignatures, keys: object = None) -> Verifier:
    """A verifier of ``scheme`` with {"k1": HMAC_KEY} (or ``keys``), no store, no events."""
    return Verifier(
        scheme, keys or {"k1": HMAC_KEY}, nonce_store=None, on_event=lambda _event: None
    )


def crafted(components: str, **extra: str) -> dict[str, str]:
    """A Signature-Input covering ``components`` with a well-formed but wrong signature."""
    zeros = base64.b64encode(bytes(32)).decode()
    params = f'created={HMAC_NOW};keyid="k1";alg="hmac-sha256"'
    return {
        "Signature-Input": f"sig1=({components});{params}",
        "Signature": f"sig1=:{zeros}:",
        **extra,
    }
