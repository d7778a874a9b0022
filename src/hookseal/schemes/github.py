"""GitHub: ``X-Hub-Signature-256: sha256=<hex>``, HMAC-SHA256 of the raw body.

Docs: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries

GitHub signs the body alone: no timestamp, no delivery id. ``X-GitHub-Delivery`` is exposed as
:attr:`Verified.msg_id` for the handler's own idempotency, but it is not signed, so replay
decisions use the matched MAC instead (see ``Verifier(replay_retention=...)``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._encoding import decode_hex
from .._errors import ConfigurationError, MalformedHeader, MissingHeader
from .._headers import HeaderName, read_header, single_lines_reader
from .._keys import HMACKey, prepared_matcher, secret_bytes
from .._limits import Limits
from .base import (
    FastCheck,
    Scheme,
    check_message_id,
    match_hmac,
)

__all__ = ["GitHub"]

_SHA256_HEADER = HeaderName("X-Hub-Signature-256")
_SHA1_HEADER = HeaderName("X-Hub-Signature")
_DELIVERY_HEADER = HeaderName("X-GitHub-Delivery")
_SHA256_PREFIX = "sha256="
_SHA1_PREFIX = "sha1="
_NAME = "github"
# 'sha256=' and 64 hex digits of HMAC-SHA256.
_FAST_SIGNATURE_LENGTH = 71


class _GitHubKey:
    """One webhook secret, prepared for HMAC-SHA256 and, when opted in, HMAC-SHA1."""

    __slots__ = ("sha1", "sha256")

    def __init__(self, secret: bytes, allow_sha1: bool) -> None:
        self.sha256 = HMACKey(secret, "sha256")
        self.sha1 = HMACKey(secret, "sha1", allow_sha1=True) if allow_sha1 else None

    def __repr__(self) -> str:
        return "_GitHubKey('**********')"


class GitHub(Scheme):
    """GitHub webhooks, signed with the webhook's secret.

    Args:
        allow_sha1: also accept the legacy ``X-Hub-Signature: sha1=<hex>`` header, and only
            when ``X-Hub-Signature-256`` is absent. Off by default: SHA-1 is a downgrade, and
            every GitHub delivery carries the SHA-256 header. Turn it on only for a
            GitHub-compatible sender (an old GitHub Enterprise Server) that sends SHA-1 alone.

    GitHub signs no timestamp, so the replay bound is the nonce store's retention
    (``Verifier(replay_retention=...)``, default one day).
    """

    name = _NAME
    #: GitHub caps webhook payloads at 25 MB and drops larger ones (docs.github.com, "About
    #: webhook events and payloads", Payload cap); 25 MiB covers either reading of "MB".
    default_max_body_bytes = 25 * 1024 * 1024
    signs_timestamp = False
    id_header = _DELIVERY_HEADER

    def __init__(self, *, allow_sha1: bool = False) -> None:
        if not isinstance(allow_sha1, bool):
            raise ConfigurationError("allow_sha1 must be True or False.")
        self.allow_sha1 = allow_sha1

    @override
    def load_key(self, secret: object) -> _GitHubKey:
        """The webhook secret as GitHub uses it: its UTF-8 bytes."""
        return _GitHubKey(secret_bytes(secret), self.allow_sha1)

    @override
    def prepare_fast_check(self, keys: Sequence[Any], limits: Limits) -> FastCheck | None:
        """The common delivery's check: one ``X-Hub-Signature-256: sha256=<64 hex>``.

        It runs the checks of :meth:`check` with fewer Python operations, on the keyed HMAC
        states prepared once per secret; anything unusual is left to :meth:`check`, which
        produces the precise error.
        """
        max_header = limits.max_header_bytes
        if not keys or max_header < _FAST_SIGNATURE_LENGTH:
            return None
        match = prepared_matcher([key.sha256 for key in keys])
        max_id = min(limits.max_id_length, max_header)
        read = single_lines_reader(_SHA256_HEADER, _DELIVERY_HEADER)

        name = self.name  # the instance's, exactly as check reports it

        def fast_check(body: bytes, headers: Mapping[str, str], now: float) -> Verified | None:
            value, msg_id = read(headers)
            # Before any crypto: 'sha256=' + 64 hex digits; a delivery id of printable ASCII
            # without space, within the limits. Anything else (no id, a repeated line, an id
            # under another spelling) is left to the general path.
            if not (
                type(value) is str
                and type(msg_id) is str
                and len(value) == _FAST_SIGNATURE_LENGTH
                and value.startswith("sha256=")
                and 0 < len(msg_id) <= max_id
                and msg_id.isascii()
                and msg_id.isprintable()
                and " " not in msg_id
            ):
                return None
            matched = match(b"", body, value[7:])
            if matched is None:
                return None  # the general check decides (and says why)
            return Verified(body, None, msg_id, matched[0], name, matched[1])

        return fast_check

    @override
    def check(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
        url: str | None,
        method: str | None,
    ) -> Verified:
        """Check the signature header (SHA-256, or SHA-1 when opted in) against the body."""
        value = read_header(headers, _SHA256_HEADER, limits.max_header_bytes)
        use_sha1 = False
        if value is None and self.allow_sha1:
            value = read_header(headers, _SHA1_HEADER, limits.max_header_bytes)
            use_sha1 = value is not None
        if value is None:
            also = " (or the legacy 'X-Hub-Signature')" if self.allow_sha1 else ""
            raise MissingHeader(
                f"The 'X-Hub-Signature-256' header{also} is missing or empty. Check that the "
                "webhook has a secret set in GitHub and that no proxy strips the header."
                + (
                    ""
                    if self.allow_sha1
                    else " A legacy 'X-Hub-Signature' (SHA-1) header is not accepted unless "
                    "GitHub(allow_sha1=True)."
                ),
                header=_SHA256_HEADER.name,
            )
        header = _SHA1_HEADER.name if use_sha1 else _SHA256_HEADER.name
        prefix = _SHA1_PREFIX if use_sha1 else _SHA256_PREFIX
        if not value.startswith(prefix):
            raise MalformedHeader(
                f"The {header!r} header must start with {prefix!r}.", header=header
            )
        digest = value[len(prefix) :]
        if not digest:
            raise MalformedHeader(f"The {header!r} header has an empty signature.", header=header)
        presented = decode_hex(digest, header)
        msg_id = read_header(headers, _DELIVERY_HEADER, limits.max_header_bytes)
        if msg_id is not None:
            check_message_id(msg_id, _DELIVERY_HEADER.name, limits)
        if use_sha1:
            sha1_keys = [key.sha1 for key in keys]
            index, _ = match_hmac(sha1_keys, [presented], b"", body, header)
            # Replays are keyed on the matching key's SHA-256 MAC whichever header matched,
            # so one captured delivery cannot be accepted once per header.
            macs: tuple[bytes, ...] = (keys[index].sha256.digest(body),)
        else:
            index, macs = match_hmac([key.sha256 for key in keys], [presented], b"", body, header)
        return Verified(body, None, msg_id, index, self.name, macs)

    @override
    def sign(
        self,
        key: Any,
        body: bytes,
        *,
        timestamp: int,
        msg_id: str,
        url: str | None,
        method: str,
    ) -> dict[str, str]:
        """Return the headers GitHub sends: signature(s) and ``X-GitHub-Delivery``.

        The SHA-1 header is added only with ``allow_sha1=True`` (GitHub sends both).
        """
        headers = {_SHA256_HEADER.name: _SHA256_PREFIX + key.sha256.digest(body).hex()}
        if key.sha1 is not None:
            headers[_SHA1_HEADER.name] = _SHA1_PREFIX + key.sha1.digest(body).hex()
        headers[_DELIVERY_HEADER.name] = msg_id
        return headers

    @override
    def new_message_id(self) -> str:
        """A random GUID, the form GitHub's delivery ids take."""
        return str(uuid.uuid4())

    def __repr__(self) -> str:
        return f"GitHub(allow_sha1={self.allow_sha1})"
