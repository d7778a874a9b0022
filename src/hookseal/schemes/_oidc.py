"""OIDC / JWT checks shared by the schemes that verify RS256 tokens (Pub/Sub, Microsoft Graph).

PyJWT verifies the signature with the algorithm pinned to RS256; the claims' times are checked
here against the verifier's clock (PyJWT's own time checks would read the system clock).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .._errors import (
    ConfigurationError,
    MalformedHeader,
    SignatureMismatch,
    TimestampOutOfTolerance,
)

__all__ = [
    "COMPACT_JWT",
    "KEY_ID",
    "check_token_times",
    "require_jwt",
    "rs256_claims",
    "rs256_key_id",
]

#: A compact JWS: three base64url parts (its shape, checked before PyJWT reads it).
COMPACT_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", re.ASCII)
#: A key id hookseal looks up: 1 to 128 printable ASCII characters, no spaces.
KEY_ID = re.compile(r"[\x21-\x7e]{1,128}", re.ASCII)

#: What PyJWT checks itself: the signature only; every claim is checked by the scheme.
_SIGNATURE_ONLY = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
    "verify_aud": False,
    "verify_iss": False,
}


def _jwt() -> Any:
    import jwt  # the gcp extra (PyJWT); the schemes check it is installed at construction

    return jwt


def require_jwt(missing: str) -> Any:
    """PyJWT; ConfigurationError(``missing``) when it is not installed (call at construction)."""
    try:
        import jwt
    except ImportError:  # pragma: no cover - the no-extras session checks the message
        raise ConfigurationError(missing) from None
    return jwt


def rs256_key_id(
    token: str,
    *,
    malformed: Callable[[], MalformedHeader],
    wrong_algorithm: Callable[[], SignatureMismatch],
    no_key_id: Callable[[], MalformedHeader],
) -> str:
    """The key id in the token's header, once the header names RS256 (before any key).

    Raises ``malformed()`` for a header PyJWT cannot read (any of its exceptions, wrapped at
    this boundary), ``wrong_algorithm()`` for any algorithm but RS256 and ``no_key_id()``
    for a missing or implausible ``kid``.
    """
    try:
        header = _jwt().get_unverified_header(token)
    except Exception:  # PyJWT's DecodeError, or anything a hostile token provokes
        header = None
    if not isinstance(header, dict):
        raise malformed()
    if header.get("alg") != "RS256":
        raise wrong_algorithm()
    kid = header.get("kid")
    if not isinstance(kid, str) or KEY_ID.fullmatch(kid) is None:
        raise no_key_id()
    return kid


def rs256_claims(
    token: str,
    key: Any,
    *,
    malformed: Callable[[], MalformedHeader],
    mismatch: Callable[[], SignatureMismatch],
) -> dict[str, Any]:
    """The token's claims once its RS256 signature verifies with ``key``.

    Raises ``malformed()`` for a token PyJWT cannot read (any of its exceptions, wrapped at
    this boundary) and ``mismatch()`` when the signature does not verify.
    """
    jwt = _jwt()
    try:
        claims = jwt.decode(token, key, algorithms=["RS256"], options=_SIGNATURE_ONLY)
    except jwt.InvalidSignatureError:
        claims = None
    except Exception:  # a foreign exception is wrapped at the boundary
        raise malformed() from None
    if not isinstance(claims, dict):
        raise mismatch()
    return claims


def check_token_times(
    claims: Mapping[str, Any],
    now: float,
    *,
    leeway: int,
    max_lifetime: int,
    what: str,
    header: str,
) -> None:
    """``iat``, ``nbf`` (default ``iat``) and ``exp``: whole seconds, a bounded lifetime, valid now.

    ``what`` names the token in messages ("The bearer token"); ``header`` is where it came from.
    """
    issued, expires = claims.get("iat"), claims.get("exp")
    not_before = claims.get("nbf", issued)
    if type(issued) is not int or type(expires) is not int or type(not_before) is not int:
        raise MalformedHeader(
            f"{what}'s iat, nbf and exp must be whole Unix seconds.",
            reason="malformed_timestamp",
            header=header,
        )
    if not expires > issued or expires - issued > max_lifetime:
        raise TimestampOutOfTolerance(
            f"{what}'s lifetime is not between 1 s and {max_lifetime} s (max_token_lifetime).",
            reason="timestamp_too_old",
            header=header,
        )
    if not now <= expires + leeway:
        raise TimestampOutOfTolerance(
            f"{what} has expired. Check this server's clock (NTP).",
            reason="timestamp_too_old",
            header=header,
        )
    if not (issued <= now + leeway and not_before <= now + leeway):
        raise TimestampOutOfTolerance(
            f"{what} is not valid yet. Check this server's clock (NTP).",
            reason="timestamp_in_future",
            header=header,
        )
