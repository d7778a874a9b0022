"""BodyHMACPreset: an :class:`HMACScheme` whose arguments a provider fixes.

Many providers sign the raw body alone with a shared secret and put the MAC, hex or base64,
optionally after a prefix, in one header. Each of them is a subclass of
:class:`BodyHMACPreset` that sets the class attributes below and nothing else; the checks are
:class:`HMACScheme`'s (strict decoding, exact length, constant-time comparison with every
configured key), except that the header must hold exactly one signature: these providers
never send several (they rotate a secret by signing with the new one alone, and the verifier
tries every configured secret), so a comma or space in the value is refused as malformed.
"""

from __future__ import annotations

from typing import ClassVar

from typing_extensions import override

from .._errors import MalformedHeader
from .._keys import HMACKey
from .._limits import Limits
from ._base64_secret import decoded_base64_secret
from .generic_hmac import HMACScheme

__all__ = ["BodyHMACPreset"]


class BodyHMACPreset(HMACScheme):
    """A provider's HMAC of the raw body in one header (set the class attributes).

    Such a signature covers no timestamp: replays are bounded by the nonce store's retention
    (``Verifier(replay_retention=...)``), and the replay identity is every configured key's
    MAC of the body.
    """

    #: The header carrying the signature.
    signature_header: ClassVar[str] = ""
    #: Text before the signature, such as ``"sha256="``.
    signature_prefix: ClassVar[str] = ""
    #: ``"hex"`` or ``"base64"``.
    signature_encoding: ClassVar[str] = "hex"
    #: ``"sha256"``, ``"sha512"``, or ``"sha1"`` for the providers that offer nothing else.
    signature_algorithm: ClassVar[str] = "sha256"
    #: The header holding the provider's (unsigned) delivery id, exposed as ``msg_id``.
    delivery_id_header: ClassVar[str | None] = None
    #: How the provider shows the secret: ``"text"``, used as its UTF-8 bytes, or
    #: ``"base64"``, decoded strictly (``bytes`` are then taken as the decoded key itself).
    key_encoding: ClassVar[str] = "text"
    #: What the provider calls the secret, named in configuration errors.
    key_label: ClassVar[str] = "secret"

    def __init__(self) -> None:
        super().__init__(
            self.signature_header,
            algorithm=self.signature_algorithm,
            encoding=self.signature_encoding,
            prefix=self.signature_prefix,
            id_header=self.delivery_id_header,
            # SHA-1 only where a subclass names it: the provider offers nothing stronger.
            allow_sha1=self.signature_algorithm == "sha1",
        )

    @override
    def load_key(self, secret: object) -> HMACKey:
        """An HMAC key from the secret as the provider shows it (see ``key_encoding``)."""
        if self.key_encoding == "base64":
            return HMACKey(
                decoded_base64_secret(secret, self.key_label),
                self.algorithm,
                allow_sha1=self.allow_sha1,
            )
        return super().load_key(secret)

    def _parse(self, value: str, header: str, limits: Limits) -> list[bytes]:
        if "," in value or " " in value:
            raise MalformedHeader(
                f"The {header!r} header must hold exactly one signature, with no comma or "
                f"space: {type(self).__name__} deliveries carry one. Check that no proxy "
                "joined two header lines into one.",
                header=header,
            )
        return super()._parse(value, header, limits)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
