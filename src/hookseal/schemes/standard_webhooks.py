"""Standard Webhooks (and Svix): ``v1`` HMAC-SHA256 and ``v1a`` Ed25519 over ``id.timestamp.body``.

Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md

The sender sends ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (Svix sends the
same values as ``svix-id``, ``svix-timestamp`` and ``svix-signature``). The signature header is a
space-separated list of ``<version>,<base64>`` entries; ``v1`` is HMAC-SHA256 keyed with the
base64-decoded ``whsec_`` secret, ``v1a`` is Ed25519 checked with a ``whpk_`` public key.
"""

from __future__ import annotations

import binascii
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from typing_extensions import override

from .._delivery import Verified
from .._encoding import decode_base64, encode_base64
from .._errors import (
    ConfigurationError,
    MalformedHeader,
    MissingHeader,
    SignatureMismatch,
    VerificationError,
)
from .._headers import HeaderName, read_header, single_lines_reader
from .._keys import HMACKey, secret_bytes
from .._limits import Limits
from ._timestamp import checked_timestamp
from .base import (
    FastCheck,
    Scheme,
    Secrets,
    check_message_id,
    hmac_matches,
    split_signatures,
)

__all__ = ["StandardWebhooks"]

_HMAC_PREFIX = "whsec_"
_SECRET_KEY_PREFIX = "whsk_"  # noqa: S105 - a key-format prefix, not a secret
_PUBLIC_KEY_PREFIX = "whpk_"
_PREFIXES = (_HMAC_PREFIX, _SECRET_KEY_PREFIX, _PUBLIC_KEY_PREFIX)
_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_ED25519_SIGNATURE_SIZE = 64
_ED25519_KEY_SIZE = 32
_NAME = "standard-webhooks"
_MAX_TIMESTAMP_DIGITS = 12
# 'v1,' and the 44 characters of canonical base64 for a 32-byte HMAC-SHA256.
_FAST_SIGNATURE_LENGTH = 47


def _decode_key_text(secret: str, prefix: str) -> bytes:
    """Strictly decode the standard base64 after ``prefix`` (padding may be omitted)."""
    encoded = secret[len(prefix) :]
    body = encoded.rstrip("=")
    padding = len(encoded) - len(body)
    if (
        not body
        or padding > 2
        or not set(body) <= _B64_ALPHABET
        or len(body) % 4 == 1
        or (padding and (len(body) + padding) % 4)
    ):
        raise ConfigurationError(
            f"The {prefix}... secret is not valid base64 after its prefix. Paste the value "
            "exactly as your provider shows it."
        )
    try:
        return binascii.a2b_base64(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - ruled out by the checks above
        raise ConfigurationError(f"The {prefix}... secret is not valid base64.") from None


def _ed25519_bytes(secret: str, prefix: str) -> bytes:
    raw = _decode_key_text(secret, prefix)
    if len(raw) != _ED25519_KEY_SIZE:
        raise ConfigurationError(
            f"A {prefix}... key must hold {_ED25519_KEY_SIZE} bytes of Ed25519 key material "
            f"(it holds {len(raw)})."
        )
    return raw


def _prefix_of(secret: str) -> str | None:
    for prefix in _PREFIXES:
        if secret.startswith(prefix):
            return prefix
    return None


class _KeyRing(tuple[Any, ...]):
    """The configured keys in order, plus their split by kind (computed once, at construction).

    Each split lists ``(index, key)`` pairs newest first, the order keys are tried in.
    """

    hmac_keys: tuple[tuple[int, HMACKey], ...]
    ed25519_keys: tuple[tuple[int, Any], ...]

    def __new__(cls, keys: Sequence[Any]) -> _KeyRing:
        ring = super().__new__(cls, keys)
        pairs = list(enumerate(ring))[::-1]
        ring.hmac_keys = tuple((i, k) for i, k in pairs if isinstance(k, HMACKey))
        ring.ed25519_keys = tuple((i, k) for i, k in pairs if not isinstance(k, HMACKey))
        return ring


class StandardWebhooks(Scheme):
    """The Standard Webhooks scheme, as sent by Svix and every sender following the spec.

    Secrets:
        * ``"whsec_<base64>"``: a ``v1`` HMAC-SHA256 secret, exactly as the dashboard shows it
          (the part after ``whsec_`` is base64-decoded to get the key);
        * ``bytes``: a raw ``v1`` HMAC key, used as given;
        * ``"whpk_<base64>"``: a ``v1a`` Ed25519 public key, for verifying;
        * ``"whsk_<base64>"``: a ``v1a`` Ed25519 secret key, for signing (a ``Signer`` only).

    ``webhook-*`` headers are read, or the ``svix-*`` ones when no ``webhook-signature`` header
    was sent. Signature versions other than ``v1`` and ``v1a`` are ignored, as the spec says.
    """

    name = _NAME
    #: Svix, the reference sender, accepts message payloads of up to 1 MiB (Svix API, Create
    #: Message), and the body it delivers is that payload.
    default_max_body_bytes = 1024 * 1024
    signs_timestamp = True

    def __init__(self) -> None:
        self.id_header: HeaderName | None = HeaderName("webhook-id")
        self._signature = HeaderName("webhook-signature")
        self._timestamp = HeaderName("webhook-timestamp")
        self._svix_id = HeaderName("svix-id")
        self._svix_signature = HeaderName("svix-signature")
        self._svix_timestamp = HeaderName("svix-timestamp")

    # -- keys --------------------------------------------------------------------------

    @override
    def load_keys(self, secrets: Secrets) -> Sequence[Any]:
        """Load every configured secret and split them into HMAC and Ed25519 keys once."""
        return _KeyRing(super().load_keys(secrets))

    @override
    def load_key(self, secret: object) -> Any:
        """A verification key: HMACKey for ``whsec_``/bytes, Ed25519 public key for ``whpk_``."""
        if isinstance(secret, str):
            secret_bytes(secret)
            prefix = _prefix_of(secret)
            if prefix == _PUBLIC_KEY_PREFIX:
                from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

                raw = _ed25519_bytes(secret, prefix)
                try:
                    return Ed25519PublicKey.from_public_bytes(raw)
                except ValueError:  # pragma: no cover - 32 bytes are always accepted
                    raise ConfigurationError("The whpk_... key is not an Ed25519 key.") from None
            if prefix == _SECRET_KEY_PREFIX:
                raise ConfigurationError(
                    "A whsk_... key is the sender's private signing key: a receiver must never "
                    "hold it. Configure the matching whpk_... public key to verify v1a "
                    "signatures (use whsk_ only with a Signer)."
                )
        return self._hmac_key(secret)

    @override
    def load_signing_key(self, secret: object) -> Any:
        """A signing key: HMACKey for ``whsec_``/bytes, Ed25519 private key for ``whsk_``."""
        if isinstance(secret, str):
            secret_bytes(secret)
            prefix = _prefix_of(secret)
            if prefix == _SECRET_KEY_PREFIX:
                from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

                return Ed25519PrivateKey.from_private_bytes(_ed25519_bytes(secret, prefix))
            if prefix == _PUBLIC_KEY_PREFIX:
                raise ConfigurationError(
                    "A whpk_... key is a public key: it cannot sign, and it must never be used "
                    "as an HMAC secret. Sign v1a with the whsk_... secret key, or v1 with a "
                    "whsec_... secret."
                )
        return self._hmac_key(secret)

    @staticmethod
    def _hmac_key(secret: object) -> HMACKey:
        if isinstance(secret, str):
            if secret.startswith(_HMAC_PREFIX):
                secret_bytes(secret)
                return HMACKey(_decode_key_text(secret, _HMAC_PREFIX))
            if secret.startswith(_PUBLIC_KEY_PREFIX):  # pragma: no cover - handled by callers
                raise ConfigurationError("A whpk_... public key cannot be an HMAC secret.")
            raise ConfigurationError(
                "A Standard Webhooks secret given as text must start with 'whsec_' (v1, "
                "followed by base64) or 'whpk_' (v1a public key). If you hold only the base64 "
                "part, prefix it with 'whsec_'; pass bytes to use a raw HMAC key."
            )
        raw = secret_bytes(secret)
        if raw.startswith((b"whsec_", b"whsk_", b"whpk_")):
            raise ConfigurationError(
                "This bytes secret starts with a Standard Webhooks prefix, so it would be used "
                "as a raw HMAC key including the prefix. Pass it as text (str) instead."
            )
        return HMACKey(raw)

    # -- verification ------------------------------------------------------------------

    @override
    def prepare_fast_check(self, keys: Sequence[Any], limits: Limits) -> FastCheck | None:
        """The common delivery's check: ``webhook-*`` headers, one well-formed ``v1`` signature.

        It runs the checks of :meth:`check` with fewer Python operations, on the keyed HMAC
        states prepared once per secret; anything unusual is left to :meth:`check`, which
        produces the precise error.
        """
        ring = keys if type(keys) is _KeyRing else _KeyRing(keys)
        # One HMAC secret (outside a rotation); anything else is left to the general check.
        if (
            len(ring) != 1
            or len(ring.hmac_keys) != 1
            or limits.max_header_bytes < _FAST_SIGNATURE_LENGTH
        ):
            return None
        index, key = ring.hmac_keys[0]
        new_inner, new_outer = key.keyed_states()
        # The instance's headers (a subclass may rename them), exactly as check reads them.
        assert self.id_header is not None
        read = single_lines_reader(self._signature, self.id_header, self._timestamp)
        in_window = limits.in_window
        max_id = min(limits.max_id_length, limits.max_header_bytes)
        name = self.name  # the instance's, exactly as check reports it

        def fast_check(body: bytes, headers: Mapping[str, str], now: float) -> Verified | None:
            value, raw_id, raw_ts = read(headers)
            # Before any crypto, and before anything is copied: one 'v1,' entry (no space) of
            # the length of a canonical base64 MAC; an id check_message_id accepts (printable
            # ASCII without space or '.', as the signed prefix needs); a timestamp of 1 to 12
            # ASCII digits without a leading zero (0 is left to the general path), inside the
            # window as Limits.check_window compares it (a NaN clock fails). Anything else is
            # left to the general path. The entry's characters are checked by the
            # constant-time comparison with the canonical text of the MAC; when it fails, the
            # general path's strict decode tells a malformed header from a wrong signature
            # (step 6 of the security model's check order). A malformed entry thus costs one
            # MAC, as a well-formed forgery does, never more.
            if not (
                type(value) is str
                and type(raw_id) is str
                and type(raw_ts) is str
                and len(value) == _FAST_SIGNATURE_LENGTH
                and value.startswith("v1,")
                and " " not in value
                and 0 < len(raw_id) <= max_id
                and 0 < len(raw_ts) <= _MAX_TIMESTAMP_DIGITS
                and raw_id.isascii()
                and raw_id.isprintable()
                and " " not in raw_id
                and "." not in raw_id
                and raw_ts.isascii()
                and raw_ts.isdigit()
                and raw_ts[0] != "0"
                and in_window(timestamp := int(raw_ts), now)
            ):
                return None
            try:
                presented = value.encode()
            except UnicodeEncodeError:  # a lone surrogate: the general path refuses it
                return None
            inner = new_inner()
            inner.update(f"{raw_id}.{raw_ts}.".encode())
            inner.update(body)
            outer = new_outer()
            outer.update(inner.digest())
            mac = outer.digest()
            if hmac.compare_digest(b"v1," + binascii.b2a_base64(mac, newline=False), presented):
                return Verified(body, timestamp, raw_id, index, name, mac)
            return None  # the general check decides (and says why)

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
        """Check headers, the timestamp window and then the signatures, in that order."""
        max_length = limits.max_header_bytes
        sig_name = self._signature
        value = read_header(headers, sig_name, max_length)
        if value is not None:
            id_name = self.id_header
            ts_name = self._timestamp
        else:
            sig_name = self._svix_signature
            value = read_header(headers, sig_name, max_length)
            if value is None:
                raise MissingHeader(
                    "The 'webhook-signature' header (or Svix's 'svix-signature') is missing or "
                    "empty. Check that the sender signs deliveries to this endpoint and that "
                    "no proxy strips the header.",
                    header=self._signature.name,
                )
            id_name = self._svix_id
            ts_name = self._svix_timestamp
        assert id_name is not None
        header = sig_name.name
        entries = split_signatures(value, header, limits) if " " in value else (value,)
        v1: list[bytes] = []
        v1a: list[bytes] = []
        for entry in entries:
            version, _sep, signature = entry.partition(",")
            if not signature:
                raise MalformedHeader(
                    f"Each entry of the {header!r} header must be '<version>,<base64>'.",
                    header=header,
                )
            if version == "v1":
                v1.append(decode_base64(signature, header))
            elif version == "v1a":
                v1a.append(decode_base64(signature, header))
        if not v1 and not v1a:
            raise SignatureMismatch(
                f"The {header!r} header holds no v1 or v1a signature, the only versions this "
                "verifier accepts.",
                reason="no_supported_signature",
                header=header,
            )
        raw_id = read_header(headers, id_name, max_length)
        if raw_id is None:
            raise _missing(id_name, "message id")
        check_message_id(raw_id, id_name.name, limits, ".")
        raw_ts = read_header(headers, ts_name, max_length)
        if raw_ts is None:
            raise _missing(ts_name, "timestamp")
        timestamp = checked_timestamp(raw_ts, ts_name.name, limits, now)

        ring = keys if type(keys) is _KeyRing else _KeyRing(keys)
        if v1a and ring.ed25519_keys and len(v1a) > len(ring.ed25519_keys) + 1:
            # Each v1a entry costs one Ed25519 verification over the whole body per public key:
            # a sender signs once per key it holds, so more entries than keys + 1 (a sender one
            # rotation step ahead) are refused before any of that work.
            raise MalformedHeader(
                f"The {header!r} header carries {len(v1a)} v1a signatures for "
                f"{len(ring.ed25519_keys)} configured public key(s); at most one more than the "
                "keys is accepted.",
                reason="too_many_signatures",
                header=header,
            )
        prefix = f"{raw_id}.{raw_ts}.".encode("ascii")
        index, material = _matches(ring, v1, v1a, prefix, body, f"{raw_id}\n{raw_ts}")
        if index < 0:
            raise _mismatch(header)
        return Verified(
            body,
            timestamp=timestamp,
            msg_id=raw_id,
            key_index=index,
            scheme=self.name,
            replay_material=material,
        )

    @override
    def message_id_for_log(self, headers: Mapping[str, str], limits: Limits) -> str | None:
        """The ``webhook-id`` (or ``svix-id``) as sent, for logs only."""
        for name in (self._signature, self._svix_signature):
            try:
                if read_header(headers, name, limits.max_header_bytes) is None:
                    continue
                return read_header(
                    headers,
                    self.id_header if name is self._signature else self._svix_id,  # type: ignore[arg-type]
                    limits.max_header_bytes,
                )
            except VerificationError:
                return None
        return None

    # -- signing -----------------------------------------------------------------------

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
        """The ``webhook-*`` headers with a ``v1`` (HMAC) or ``v1a`` (Ed25519) signature."""
        if not msg_id or not msg_id.isascii() or not msg_id.isprintable() or " " in msg_id:
            raise ConfigurationError("msg_id must be printable ASCII text without spaces.")
        if "." in msg_id:
            raise ConfigurationError("A Standard Webhooks msg_id must not contain '.'.")
        prefix = f"{msg_id}.{timestamp}.".encode("ascii")
        if isinstance(key, HMACKey):
            signature = "v1," + encode_base64(key.digest_parts(prefix, body))
        else:
            signature = "v1a," + encode_base64(key.sign(prefix + body))
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        }


def _matches(
    ring: _KeyRing,
    v1: list[bytes],
    v1a: list[bytes],
    prefix: bytes,
    body: bytes,
    signed_id: str,
) -> tuple[int, list[bytes]]:
    """The newest matching key's index (-1: none) and the delivery's replay material.

    The material has one item per configured key, whichever matched: each HMAC key's MAC of
    the signed bytes, and each public key with the signed id and timestamp. It never depends
    on which of several signatures were sent, so stripping one from a captured delivery
    changes nothing. Returning instead of raising keeps expected MACs out of a rejection's
    traceback.
    """
    found = hmac_matches([key for _, key in ring.hmac_keys][::-1], v1, prefix, body) if v1 else None
    index = -1
    material: list[bytes] = []
    if found is not None:
        index = ring.hmac_keys[len(ring.hmac_keys) - 1 - found[0]][0]
    if ring.ed25519_keys:
        message = prefix + body
        tail = b"\n" + signed_id.encode("ascii")
        for position, key in ring.ed25519_keys:
            material.append(key.public_bytes_raw() + tail)
            if index >= 0:
                continue
            for candidate in v1a:
                if len(candidate) == _ED25519_SIGNATURE_SIZE and _ed25519_verifies(
                    key, candidate, message
                ):
                    index = position
                    break
    if index < 0:
        return -1, []
    if found is not None:
        material.extend(found[1])
    elif ring.hmac_keys:
        material.extend(key.digest_parts(prefix, body) for _, key in ring.hmac_keys)
    return index, material


def _ed25519_verifies(key: Any, signature: bytes, message: bytes) -> bool:
    """One Ed25519 verification (the unit of cost the v1a bound counts)."""
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _mismatch(header: str) -> SignatureMismatch:
    return SignatureMismatch(
        f"No signature in the {header!r} header matches the body with any configured key. "
        "Check that the secret is the one for this endpoint and that the body reaches the "
        "verifier exactly as sent (not re-serialised JSON, no added newline).",
        header=header,
    )


def _missing(name: HeaderName, what: str) -> MissingHeader:
    return MissingHeader(
        f"The {name.name!r} header ({what}) is missing or empty; Standard Webhooks signs it "
        "together with the body.",
        header=name.name,
    )
