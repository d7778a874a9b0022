"""``Content-Digest`` (RFC 9530): a hash of the exact body bytes, so a signature can bind the body.

RFC 9421 signatures cover headers and request details, not the body. A sender binds the body by
sending ``Content-Digest: sha-256=:<base64>:`` and covering ``content-digest`` in the signature;
the receiver must then hash the raw body it received and compare. :func:`content_digest` builds
the header value and :func:`verify_content_digest` checks one in constant time.

Only ``sha-256`` and ``sha-512`` are supported (the algorithms RFC 9530 registers as active);
the deprecated ``md5``, ``sha``, ``unixsum`` and ``unixcksum`` are ignored as unknown, as the RFC
asks. Parsing a received header needs the optional ``http-sf`` package
(``pip install 'hookseal[rfc9421]'``); building one does not.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import ConfigurationError, MalformedHeader, SignatureMismatch

__all__ = ["DIGEST_ALGORITHMS", "content_digest", "verify_content_digest"]

#: The RFC 9530 algorithms hookseal computes and checks, by their registered names.
DIGEST_ALGORITHMS: dict[str, Callable[..., Any]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
}
_HEADER = "Content-Digest"
_MAX_MEMBERS = 16
_compare = hmac.compare_digest


def _algorithm_names(algorithms: object, what: str = "algorithms") -> tuple[str, ...]:
    if isinstance(algorithms, str):
        algorithms = (algorithms,)
    try:
        names: tuple[object, ...] = tuple(algorithms)  # type: ignore[arg-type]
    except TypeError:
        raise ConfigurationError(f"{what} must be a sequence such as ('sha-256',).") from None
    if not names:
        raise ConfigurationError(f"{what} is empty: name at least one of 'sha-256', 'sha-512'.")
    for name in names:
        if name not in DIGEST_ALGORITHMS:
            raise ConfigurationError(
                # The value is not echoed: a secret passed in the wrong place must not be.
                f"{what} names an unsupported Content-Digest algorithm: use 'sha-256' or "
                "'sha-512'."
            )
    if len(set(names)) != len(names):
        raise ConfigurationError(f"{what} names an algorithm more than once.")
    return names  # type: ignore[return-value]


def content_digest(body: bytes, algorithms: Sequence[str] = ("sha-256",)) -> str:
    """Return the ``Content-Digest`` header value for ``body``.

    >>> content_digest(b'{"hello": "world"}')
    'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:'

    Args:
        body: the exact body bytes that will be sent (after any content coding).
        algorithms: ``"sha-256"`` and/or ``"sha-512"``, in the order they should appear.

    Raises:
        ConfigurationError: for an unknown or repeated algorithm.
        TypeError: if ``body`` is not bytes.
    """
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"body must be bytes, not {type(body).__name__}.")
    names = _algorithm_names(algorithms)
    members = []
    for name in names:
        raw = DIGEST_ALGORITHMS[name](bytes(body)).digest()
        members.append(f"{name}=:{binascii.b2a_base64(raw, newline=False).decode('ascii')}:")
    return ", ".join(members)


def _parse(value: str, header: str) -> dict[str, Any]:
    try:
        import http_sf
    except ImportError:  # pragma: no cover - the extra is installed in the test environment
        raise ConfigurationError(
            "Checking Content-Digest needs the http-sf package: pip install 'hookseal[rfc9421]'"
        ) from None

    def _duplicate(key: str, context: str) -> None:
        raise ValueError(f"duplicate key {key!r}")

    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=_duplicate
        )
    except Exception:  # every parser failure is the sender's malformed header
        raise MalformedHeader(
            f"The {header!r} header is not a valid structured-field dictionary "
            "(expected e.g. 'sha-256=:<base64>:').",
            header=header,
        ) from None
    assert isinstance(parsed, dict)
    return parsed


def verify_content_digest(
    body: bytes,
    value: str,
    *,
    algorithms: Sequence[str] = ("sha-256", "sha-512"),
    header: str = _HEADER,
) -> str:
    """Check a received ``Content-Digest`` value against the raw body, in constant time.

    Every member whose algorithm is in ``algorithms`` must match (so a forged ``sha-512`` next
    to a genuine ``sha-256`` is refused); members with other algorithm names are ignored, as
    RFC 9530 requires; at least one accepted algorithm must be present.

    Returns:
        the name of the first algorithm that matched.

    Raises:
        MalformedHeader: the value is not a structured-field dictionary, a digest is not a byte
            sequence, or it has too many members (reason ``malformed_header``).
        SignatureMismatch: reason ``digest_mismatch`` when a digest differs from the body or no
            accepted algorithm is present.
    """
    accepted = _algorithm_names(algorithms)
    if len(value) > 4096 or not value.isascii() or not value.isprintable():
        raise MalformedHeader(
            f"The {header!r} header is too long or holds non-ASCII or control characters.",
            header=header,
        )
    members = _parse(value, header)
    if len(members) > _MAX_MEMBERS:
        raise MalformedHeader(
            f"The {header!r} header lists more than {_MAX_MEMBERS} digests.", header=header
        )
    matched: str | None = None
    for name, member in members.items():
        if name not in accepted:
            continue
        presented = member[0] if isinstance(member, tuple) else member
        if type(presented) is not bytes:
            raise MalformedHeader(
                f"The {name!r} digest in the {header!r} header is not a byte sequence "
                "(':<base64>:').",
                header=header,
            )
        expected = DIGEST_ALGORITHMS[name](body).digest()
        if not _compare(expected, presented):
            raise SignatureMismatch(
                f"The {name} digest in the {header!r} header does not match the body. The body "
                "must reach the verifier exactly as sent (not re-serialised JSON, not decoded "
                "from its Content-Encoding).",
                reason="digest_mismatch",
                header=header,
            )
        if matched is None:
            matched = name
    if matched is None:
        raise SignatureMismatch(
            f"The {header!r} header holds no digest this verifier accepts ({', '.join(accepted)}).",
            reason="digest_mismatch",
            header=header,
        )
    return matched
