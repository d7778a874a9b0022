"""The public scheme contract: what a scheme implements, and the helpers a scheme author needs.

Write a scheme for a provider hookseal does not ship by subclassing :class:`Scheme` (see
docs/writing-a-scheme.md); every name in ``__all__`` here is public and stable.

A scheme knows one provider's wire format. :meth:`Scheme.check` runs the checks in the fixed
order of the security model: headers (presence, single occurrence, length, count), then the
timestamp window, then the signature; the verifier does the body size and address checks
before it and the nonce reservation after it.
"""

from __future__ import annotations

import abc
import secrets as _secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from .._delivery import Verified, make_replay_key
from .._encoding import decode_base64, decode_hex, encode_base64, parse_timestamp
from .._errors import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    SignatureMismatch,
    VerificationError,
)
from .._handshake import HandshakeReply, HandshakeRequest, echo_challenge
from .._headers import HeaderName, read_header
from .._keys import HMACKey, Secrets, SecretValue, hmac_matches, secret_bytes
from .._limits import Limits

__all__ = [
    "FastCheck",
    "HMACKey",
    "HandshakeReply",
    "HandshakeRequest",
    "HeaderName",
    "Limits",
    "Scheme",
    "SecretValue",
    "Secrets",
    "Verified",
    "check_message_id",
    "decode_base64",
    "decode_hex",
    "echo_challenge",
    "encode_base64",
    "hmac_matches",
    "hmac_mismatch",
    "make_replay_key",
    "match_hmac",
    "parse_timestamp",
    "require_header",
    "split_signatures",
]

#: A check prepared for one configuration (see :meth:`Scheme.prepare_fast_check`): called as
#: ``fast(body, headers, now)``, it returns the :class:`Verified` for the common delivery, raises
#: the error :meth:`Scheme.check` would raise, or returns None to leave the delivery to ``check``.
FastCheck = Callable[[bytes, Mapping[str, str], float], Verified | None]


class Scheme(abc.ABC):
    """A provider's signing format: how to check a delivery and how to sign one.

    Subclasses set ``name`` and implement :meth:`check` and :meth:`sign`; key loading
    defaults to HMAC keys from text or bytes secrets.
    """

    name: ClassVar[str] = "scheme"
    #: Whether the signature covers a timestamp (then replays are bounded by the window).
    signs_timestamp: bool = False
    #: The header holding the sender's message id, if the scheme has one.
    id_header: HeaderName | None = None
    #: Whether the signature covers the request URL (Twilio, RFC 9421). Adapters then need a
    #: trusted origin (``public_url``) to rebuild it: a ``Host`` header is the client's claim.
    signs_url: ClassVar[bool] = False
    #: Whether a delivery carries the secret itself (a shared token): signing output then
    #: shows the secret, so the CLI prints it only when asked explicitly.
    sends_secret: ClassVar[bool] = False
    #: The body limit a :class:`~hookseal.Verifier` applies when it is given no
    #: ``max_body_bytes``: the largest body this provider documents sending, with headroom.
    #: None (the default, and for generic schemes) means the generic limit, 1 MiB. Each
    #: provider's page in the docs cites the source of its value. Adapters read the limit in
    #: force from ``verifier.limits.max_body_bytes``, never from here.
    default_max_body_bytes: ClassVar[int | None] = None
    #: Whether :meth:`handshake_reply` does I/O (Amazon SNS visits the confirmation URL):
    #: ``Verifier.ahandshake_reply`` then runs it in a worker thread, off the event loop.
    handshake_blocks: ClassVar[bool] = False

    def freeze(self) -> None:
        """Make this scheme's options read-only (a :class:`~hookseal.Verifier` does it).

        A verifier prepares its checks from the scheme's options at construction; an option
        changed afterwards would apply to some paths and not others, so assigning one then
        raises ``AttributeError``. Build a new scheme (and verifier) instead.
        """
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name: str, value: object) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(
                f"{type(self).__name__}.{name} cannot be set: the scheme's options are "
                "read-only once a Verifier uses it. Build a new scheme and Verifier instead."
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__setattr__(name, None)

    def load_keys(self, secrets: Secrets) -> Sequence[Any]:
        """Turn the configured secrets into verification keys (at construction time)."""
        items = _as_list(secrets)
        return [self.load_key(secret) for secret in items]

    def load_key(self, secret: object) -> Any:
        """Turn one configured secret into a verification key."""
        return HMACKey(secret_bytes(secret))

    def load_signing_key(self, secret: object) -> Any:
        """Turn the signer's secret into a signing key."""
        return self.load_key(secret)

    def prepare_fast_check(self, keys: Sequence[Any], limits: Limits) -> FastCheck | None:
        """A check specialised for these keys and these limits, or None (the default).

        The :class:`~hookseal.Verifier` prepares it once and calls it first for every delivery
        (when no allowlist is configured); whenever it returns None, :meth:`check` decides. It
        must run the same checks in the same order and reach the same verdict as :meth:`check`
        on every input: the test suite compares both on random and hostile deliveries.
        """
        return None

    async def aprepare(
        self,
        body: bytes,
        headers: Mapping[str, str],
        keys: Sequence[Any],
        limits: Limits,
        now: float,
    ) -> None:
        """Before :meth:`check` in ``averify``: obtain off the event loop what ``check`` needs.

        The default does nothing. A scheme whose check needs a published key (a certificate,
        a key set) downloads it here, so that ``check`` finds it cached instead of refusing the
        delivery for now. It never raises a rejection: ``check`` makes every verdict.
        """
        return

    @abc.abstractmethod
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
        """Check one delivery and return what was verified, or raise a VerificationError."""

    @abc.abstractmethod
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
        """Return the headers that sign ``body`` with ``key``."""

    def handshake_reply(self, verified: Verified, keys: Sequence[Any]) -> HandshakeReply | None:
        """The reply to a verified delivery that is the provider's handshake, else None.

        Called by :meth:`Verifier.handshake_reply <hookseal.Verifier.handshake_reply>` after
        the delivery passed every check (Slack's ``url_verification``, Discord's PING, Zoom's
        ``endpoint.url_validation``...): adapters send the reply instead of calling the
        handler. The default: no handshake.
        """
        return None

    def unsigned_handshake_reply(
        self, request: HandshakeRequest, keys: Sequence[Any], limits: Limits
    ) -> HandshakeReply | None:
        """The reply to an unsigned handshake (``GET ?challenge=...``), else None.

        Answer only what the provider's rules authenticate, or what proves and commits nothing
        (see :func:`~hookseal.schemes.base.echo_challenge`). Everything else returns None and
        goes through verification like any delivery. The default: no unsigned handshake.
        """
        return None

    def message_id_for_log(self, headers: Mapping[str, str], limits: Limits) -> str | None:
        """The message id as sent, for logs and audit events only (unverified, may be None)."""
        if self.id_header is None:
            return None
        try:
            return read_header(headers, self.id_header, limits.max_header_bytes)
        except VerificationError:
            return None

    def new_message_id(self) -> str:
        """A fresh random message id for signing when the caller gives none."""
        return "msg_" + _secrets.token_hex(12)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _as_list(secrets: object) -> list[object]:
    if isinstance(secrets, (str, bytes, bytearray, memoryview)):
        items: list[object] = [secrets]
    elif isinstance(secrets, Mapping):
        raise ConfigurationError(
            "This scheme takes a list of secrets, not a mapping (only HTTPMessageSignatures "
            "maps key ids to keys)."
        )
    else:
        try:
            items = list(secrets)  # type: ignore[call-overload]
        except TypeError:
            items = [secrets]
    if not items:
        raise ConfigurationError("No secrets configured: give at least one secret.")
    return items


def require_header(
    headers: Mapping[str, str], name: HeaderName, limits: Limits, what: str = "signature"
) -> str:
    """Read a header the scheme cannot do without, raising MissingHeader when absent."""
    value = read_header(headers, name, limits.max_header_bytes)
    if value is None:
        raise MissingHeader(
            f"The {name.name!r} header ({what}) is missing or empty. Check that the sender "
            "signs deliveries to this endpoint and that no proxy strips the header.",
            header=name.name,
        )
    return value


def split_signatures(value: str, header: str, limits: Limits, separator: str = " ") -> list[str]:
    """Split a header holding several signatures, bounding their number before any crypto."""
    limits.check_signatures(value.count(separator) + 1, header)
    parts = value.split(separator)
    if "" in parts:
        raise MalformedHeader(
            f"The {header!r} header has an empty entry or stray separator.", header=header
        )
    return parts


def check_message_id(value: str, header: str, limits: Limits, forbidden: str = "") -> str:
    """Check a message id: bounded length, printable ASCII, no space or ``forbidden`` character.

    ``forbidden`` holds the separators of the signed template, so an id can never shift the
    boundary between the fields that are signed together.
    """
    if len(value) > limits.max_id_length:
        raise MalformedHeader(
            f"The {header!r} message id is {len(value)} characters long; the limit is "
            f"{limits.max_id_length} (max_id_length).",
            header=header,
        )
    if " " in value or any(char in value for char in forbidden):
        raise MalformedHeader(
            f"The {header!r} message id contains a space or a separator of the signed content.",
            header=header,
        )
    return value


def match_hmac(
    keys: Sequence[HMACKey],
    presented: Sequence[bytes],
    prefix: bytes,
    body: bytes,
    header: str,
) -> tuple[int, tuple[bytes, ...]]:
    """:func:`hmac_matches`, raising SignatureMismatch for ``header`` when no key matches."""
    found = hmac_matches(keys, presented, prefix, body)
    if found is None:
        raise hmac_mismatch(header)
    return found


def hmac_mismatch(header: str) -> SignatureMismatch:
    """The SignatureMismatch :func:`match_hmac` raises when no key matches."""
    return SignatureMismatch(
        f"No signature in the {header!r} header matches the body with any configured secret. "
        "Check that the secret is the one for this endpoint and that the body reaches the "
        "verifier exactly as sent (not re-serialised JSON, no added newline).",
        header=header,
    )
