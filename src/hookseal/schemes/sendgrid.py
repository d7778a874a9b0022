"""SendGrid Event Webhook: ECDSA P-256 / SHA-256 over ``timestamp + body``, base64 DER.

Docs: https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features

With *Signed Event Webhook* enabled, SendGrid signs the digits of
``X-Twilio-Email-Event-Webhook-Timestamp`` followed directly by the raw body, with an ECDSA
P-256 key; ``X-Twilio-Email-Event-Webhook-Signature`` holds the base64 of the DER-encoded
signature. You configure the *verification key* SendGrid shows (Settings → Mail Settings →
Event Webhook): the base64 of a DER ``SubjectPublicKeyInfo``, as shown, or the same key in PEM.

Nothing separates the timestamp from the body, but the cut is fixed in practice: the
timestamp must be ASCII digits inside the window (so one digit more or less than the genuine
one lands centuries away, or before 2001) and the body is a JSON array.

ECDSA signatures are malleable (``(r, s)`` and ``(r, n - s)`` both verify), so the replay
identity is not the signature: it is the SHA-256 of the signed bytes bound to each configured
public key, the same whichever valid signature is presented.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._encoding import decode_base64, encode_base64
from .._errors import ConfigurationError, MalformedHeader, SignatureMismatch
from .._headers import HeaderName
from .._limits import Limits
from ._timestamp import checked_timestamp
from .base import Scheme, Verified, require_header

__all__ = ["SendGrid"]

_SIGNATURE = HeaderName("X-Twilio-Email-Event-Webhook-Signature")
_TIMESTAMP = HeaderName("X-Twilio-Email-Event-Webhook-Timestamp")
# A DER ECDSA-P256 signature: SEQUENCE of two INTEGERs of at most 33 bytes each.
_MIN_DER, _MAX_DER = 8, 72


class _SendGridKey:
    """One configured verification key: the loaded public key and its DER encoding."""

    __slots__ = ("der", "key")

    def __init__(self, key: Any, der: bytes) -> None:
        self.key = key
        self.der = der

    def __repr__(self) -> str:
        return "_SendGridKey(P-256)"


def _load_public_key(secret: object) -> _SendGridKey:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_der_public_key,
        load_pem_public_key,
    )

    if isinstance(secret, (bytes, bytearray, memoryview)):
        secret = bytes(secret).decode("ascii", "replace")
    if not isinstance(secret, str) or not secret.strip():
        raise ConfigurationError(
            "SendGrid() takes the Event Webhook verification key: the base64 text SendGrid "
            "shows under Mail Settings, or the same key in PEM."
        )
    text = secret.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode("ascii"))
        else:
            key = load_der_public_key(decode_base64(text, "verification key"))
    except (ValueError, TypeError, UnicodeEncodeError, MalformedHeader):
        raise ConfigurationError(
            "The SendGrid verification key is not a public key in base64 DER or PEM form. "
            "Paste the key exactly as SendGrid shows it."
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigurationError("The SendGrid verification key must be an ECDSA P-256 public key.")
    der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return _SendGridKey(key, der)


class SendGrid(Scheme):
    """SendGrid's Signed Event Webhook.

    Secrets are verification keys (public keys: nothing here is secret), in the base64 form
    SendGrid shows or in PEM; list two while SendGrid rotates the key. A :class:`~hookseal.Signer`
    for tests takes an ECDSA P-256 private key in PEM (unencrypted PKCS#8).
    """

    name = "sendgrid"
    signs_timestamp = True
    #: SendGrid posts events in batches; its Event Webhook guide gives 768 KB as the batch
    #: size (docs/providers/sendgrid.md). The generic 1 MiB holds that with headroom.
    default_max_body_bytes = 1024 * 1024

    @override
    def load_key(self, secret: object) -> _SendGridKey:
        """A verification key from base64 DER (as SendGrid shows it) or PEM."""
        return _load_public_key(secret)

    @override
    def load_signing_key(self, secret: object) -> Any:
        """An ECDSA P-256 private key from PEM, for signing test deliveries."""
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            text = secret if isinstance(secret, bytes) else str(secret).encode("ascii")
            key = load_pem_private_key(text, password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise ConfigurationError(
                "A SendGrid Signer takes an ECDSA P-256 private key in PEM."
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise ConfigurationError("A SendGrid Signer takes an ECDSA P-256 private key.")
        return key

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
        """Check both headers, the timestamp window, then the ECDSA signature."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        header = _SIGNATURE.name
        signature = decode_base64(require_header(headers, _SIGNATURE, limits), header)
        raw_ts = require_header(headers, _TIMESTAMP, limits, "timestamp")
        timestamp = checked_timestamp(raw_ts, _TIMESTAMP.name, limits, now)
        if not _MIN_DER <= len(signature) <= _MAX_DER:
            raise SignatureMismatch(
                f"The {header!r} signature is {len(signature)} bytes long; a DER ECDSA P-256 "
                f"signature is {_MIN_DER} to {_MAX_DER}.",
                header=header,
            )
        message = raw_ts.encode("ascii") + body
        algorithm = ec.ECDSA(hashes.SHA256())
        index = -1
        for position in range(len(keys) - 1, -1, -1):
            try:
                keys[position].key.verify(signature, message, algorithm)
            except (InvalidSignature, ValueError):
                continue
            index = position
            break
        if index < 0:
            raise SignatureMismatch(
                f"The {header!r} signature does not verify with any configured verification "
                "key. Check that the key is this account's current Event Webhook verification "
                "key and that the body reaches the verifier exactly as sent.",
                header=header,
            )
        digest = hashlib.sha256(message).digest()
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=None,
            key_index=index,
            scheme=self.name,
            replay_material=[key.der + b"\n" + digest for key in keys],
        )

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
        """The two headers SendGrid sends."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        raw_ts = str(timestamp)
        signature = key.sign(raw_ts.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
        return {_SIGNATURE.name: encode_base64(signature), _TIMESTAMP.name: raw_ts}

    def __repr__(self) -> str:
        return "SendGrid()"
