"""Fuzz targets shared by the atheris scripts in this directory.

Each target takes raw bytes, splits them into fields on ``\\n`` (decoded as Latin-1, so every
byte survives), feeds them to one parser, and raises ``AssertionError`` if the parser fails
with anything but a hookseal ``VerificationError``. They run under atheris
(``python fuzz/fuzz_<name>.py -max_total_time=60``) or, without atheris, over a corpus
(``python fuzz/fuzz_<name>.py fuzz/corpus/<name>``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hookseal import Headers, IPAllowlist, Signer, VerificationError, Verifier
from hookseal._encoding import decode_base64, decode_hex, parse_timestamp
from hookseal._forwarded import parse_forwarded, parse_x_forwarded_for
from hookseal.contrib._common import declared_length

NOW = 1_700_000_000
URL = "https://hooks.example.com/in?tenant=acme"
BODY = b'{"type":"invoice.paid"}'
Target = Callable[[bytes], None]


def fields(data: bytes, count: int) -> list[str]:
    """``count`` text fields from ``data`` (missing ones are empty)."""
    parts = data.split(b"\n", count - 1)
    parts += [b""] * (count - len(parts))
    return [part.decode("latin-1") for part in parts]


def only_verification_errors(call: Callable[[], object]) -> object:
    try:
        return call()
    except VerificationError as exc:
        return exc
    except Exception as exc:  # the bug this fuzzing looks for
        raise AssertionError(f"{type(exc).__name__} escaped: {exc!r}") from exc


# -- small parsers -------------------------------------------------------------------------


def timestamp(data: bytes) -> None:
    (text,) = fields(data, 1)
    result = only_verification_errors(lambda: parse_timestamp(text, "X-Timestamp"))
    assert not isinstance(result, int) or (text.isascii() and text.isdigit())


def encoding(data: bytes) -> None:
    (text,) = fields(data, 1)
    only_verification_errors(lambda: decode_hex(text, "X-Sig"))
    only_verification_errors(lambda: decode_base64(text, "X-Sig"))
    only_verification_errors(lambda: declared_length(text))


_ALLOWLISTS = [
    IPAllowlist(["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"]),
    IPAllowlist(["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"], forwarded_header="forwarded"),
    IPAllowlist(["10.0.0.0/8"], trusted_proxies=2, forwarded_header="forwarded"),
]


def forwarded(data: bytes) -> None:
    peer, *lines = fields(data, 4)
    only_verification_errors(lambda: parse_forwarded(lines))
    only_verification_errors(lambda: parse_x_forwarded_for(lines))
    for allowlist in _ALLOWLISTS:
        for address in (peer, "192.168.1.1"):
            headers = Headers(
                [("X-Forwarded-For", line) for line in lines]
                + [("Forwarded", line) for line in lines]
            )
            only_verification_errors(lambda a=allowlist, p=address, h=headers: a.check(p, h))  # type: ignore[misc]


# -- scheme checks on arbitrary header values -----------------------------------------------


def _verifiers() -> list[tuple[Verifier, dict[str, str], str]]:
    from hookseal.schemes import (
        Discord,
        GitHub,
        GitLab,
        HMACScheme,
        Paddle,
        Shopify,
        Slack,
        StandardWebhooks,
        Stripe,
        Twilio,
        WorkOS,
    )

    seed = hashlib.sha256(b"fuzz").hexdigest()
    whsec = "whsec_" + __import__("base64").b64encode(bytes.fromhex(seed)).decode()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)).public_key()
    schemes: list[tuple[Any, object, object]] = [
        (StandardWebhooks(), whsec, whsec),
        (GitHub(), seed, seed),
        (Stripe(), seed, seed),
        (Slack(), seed, seed),
        (Shopify(), seed, seed),
        (Twilio(), seed, seed),
        (GitLab(), seed, seed),
        (Paddle(), seed, seed),
        (WorkOS(), seed, seed),
        (Discord(), public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex(), seed),
        (
            HMACScheme(
                "X-Sig",
                prefix="sha256=",
                timestamp_header="X-Ts",
                id_header="X-Id",
                template="{id}.{timestamp}.{body}",
            ),
            seed,
            seed,
        ),
    ]
    built = []
    for scheme, secret, signing in schemes:
        url = f"{URL}&bodySHA256={hashlib.sha256(BODY).hexdigest()}"
        headers = Signer(scheme, signing).sign(BODY, timestamp=NOW, msg_id="msg_1", url=url)
        verifier = Verifier(scheme, secret, nonce_store=None, on_event=lambda event: None)
        built.append((verifier, headers, url))
    return built


_VERIFIERS: list[tuple[Verifier, dict[str, str], str]] = []


def scheme_headers(data: bytes) -> None:
    if not _VERIFIERS:
        _VERIFIERS.extend(_verifiers())
    selector, value, second = fields(data, 3)
    index = len(selector) % len(_VERIFIERS)
    verifier, genuine, url = _VERIFIERS[index]
    names = sorted(genuine)
    name = names[len(value) % len(names)]
    lines = [(k, v) for k, v in genuine.items() if k != name] + [(name, value)]
    if second:
        lines.append((name, second))
    only_verification_errors(lambda: verifier.verify(BODY, lines, url=url, method="POST", now=NOW))
    mapping = {k.lower(): v for k, v in lines}
    only_verification_errors(
        lambda: asyncio.run(verifier.averify(BODY, mapping, url=url, method="POST", now=NOW))
    )


# -- RFC 9421 structured fields --------------------------------------------------------------

_RFC9421: list[Any] = []


def rfc9421(data: bytes) -> None:
    from hookseal.digest import verify_content_digest
    from hookseal.schemes import HTTPMessageSignatures

    if not _RFC9421:
        key = hashlib.sha256(b"fuzz-rfc9421").digest()
        scheme = HTTPMessageSignatures()
        headers = Signer(scheme, ("k1", key)).sign(BODY, timestamp=NOW, msg_id="n1", url=URL)
        _RFC9421.append(
            (Verifier(scheme, {"k1": key}, nonce_store=None, on_event=lambda e: None), headers)
        )
    verifier, genuine = _RFC9421[0]
    signature_input, signature, digest = fields(data, 3)
    headers = dict(genuine)
    headers["Signature-Input"] = signature_input or genuine["Signature-Input"]
    headers["Signature"] = signature or genuine["Signature"]
    headers["Content-Digest"] = digest or genuine["Content-Digest"]
    only_verification_errors(
        lambda: verifier.verify(BODY, headers, url=URL, method="POST", now=NOW)
    )
    only_verification_errors(lambda: verify_content_digest(BODY, digest))


TARGETS: dict[str, Target] = {
    "timestamp": timestamp,
    "encoding": encoding,
    "forwarded": forwarded,
    "scheme_headers": scheme_headers,
    "rfc9421": rfc9421,
}


def main(name: str) -> None:
    """Run target ``name`` under atheris, or over corpus paths when atheris is unavailable."""
    target = TARGETS[name]
    args = sys.argv[1:]
    corpus_only = "--corpus-only" in args or os.environ.get("HOOKSEAL_FUZZ_CORPUS_ONLY")
    args = [arg for arg in args if arg != "--corpus-only"]
    try:
        import atheris
    except ImportError:
        atheris = None
    if atheris is not None and not corpus_only:
        atheris.Setup([sys.argv[0], *args], target)
        atheris.Fuzz()
        return
    paths = [Path(arg) for arg in args if not arg.startswith("-")] or [
        Path(__file__).parent / "corpus" / name
    ]
    count = 0
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            target(file.read_bytes())
            count += 1
    print(f"{name}: {count} corpus inputs, no unexpected exception")
