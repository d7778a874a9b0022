"""RFC 9421 keys: each configured key fixes its algorithm; the message can never choose it.

A key is loaded and type-checked once, at construction: bytes (not PEM) are an ``hmac-sha256``
secret, an Ed25519 key is ``ed25519``, a P-256 or P-384 key is ``ecdsa-p256-sha256`` or
``ecdsa-p384-sha384``. An RSA key can serve two algorithms, so it must be given as
``("rsa-pss-sha512", key)`` or ``("rsa-v1_5-sha256", key)``. Any key may be given as such an
``(algorithm, key)`` pair; a pair whose key does not fit the algorithm is refused, which is what
rules out key confusion (an HMAC keyed with a public key's PEM bytes cannot be configured).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from .._errors import ConfigurationError
from .._keys import HMACKey, Secret, secret_bytes

__all__ = ["ALGORITHMS", "RFC9421Key", "load_key"]

ALGORITHMS = (
    "hmac-sha256",
    "ed25519",
    "ecdsa-p256-sha256",
    "ecdsa-p384-sha384",
    "rsa-pss-sha512",
    "rsa-v1_5-sha256",
)
_RSA = ("rsa-pss-sha512", "rsa-v1_5-sha256")
_CURVES = {"secp256r1": ("ecdsa-p256-sha256", 32), "secp384r1": ("ecdsa-p384-sha384", 48)}
_MIN_RSA_BITS = 2048
_MIN_HMAC_BYTES = 16
_compare = hmac.compare_digest


class RFC9421Key:
    """A loaded key with the one algorithm it may be used with. Its repr hides the key."""

    __slots__ = ("_key", "algorithm", "private", "signature_size")

    def __init__(self, algorithm: str, key: Any, *, private: bool, signature_size: int) -> None:
        self.algorithm = algorithm
        self._key = key
        self.private = private
        self.signature_size = signature_size

    def verify(self, signature: bytes, base: bytes) -> bool:
        """Whether ``signature`` is valid for ``base`` (length checked before any crypto)."""
        if len(signature) != self.signature_size:
            return False
        algorithm = self.algorithm
        key = self._key
        if algorithm == "hmac-sha256":
            return _compare(key.digest(base), signature)
        from cryptography.exceptions import InvalidSignature

        try:
            if algorithm == "ed25519":
                key.verify(signature, base)
            elif algorithm.startswith("ecdsa-"):
                from cryptography.hazmat.primitives.asymmetric import ec
                from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

                half = self.signature_size // 2
                r = int.from_bytes(signature[:half], "big")
                s = int.from_bytes(signature[half:], "big")
                key.verify(encode_dss_signature(r, s), base, ec.ECDSA(_hash(algorithm)))
            else:
                key.verify(signature, base, *_rsa_args(algorithm))
        except InvalidSignature:
            return False
        return True

    def fingerprint(self) -> bytes:
        """An identity of the key itself, for the replay identity (never the key's secret).

        A public key's SHA-256 of its SubjectPublicKeyInfo; an HMAC key's MAC of a fixed
        label, which cannot be turned back into the key. Two senders using the same key id
        text with different keys thus never share a replay identity.
        """
        key = self._key
        if self.algorithm == "hmac-sha256":
            return key.digest(b"hookseal rfc9421 replay identity")  # type: ignore[no-any-return]
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = key.public_key() if self.private else key
        spki = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(spki).digest()

    def sign(self, base: bytes) -> bytes:
        """Sign ``base`` (only for keys loaded for signing)."""
        algorithm = self.algorithm
        key = self._key
        if algorithm == "hmac-sha256":
            return key.digest(base)  # type: ignore[no-any-return]
        if algorithm == "ed25519":
            return key.sign(base)  # type: ignore[no-any-return]
        if algorithm.startswith("ecdsa-"):
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

            r, s = decode_dss_signature(key.sign(base, ec.ECDSA(_hash(algorithm))))
            half = self.signature_size // 2
            return r.to_bytes(half, "big") + s.to_bytes(half, "big")
        return key.sign(base, *_rsa_args(algorithm))  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"RFC9421Key({self.algorithm!r}, '**********')"


def _hash(algorithm: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    # Only the ECDSA algorithms hash here: ecdsa-p256-sha256 and ecdsa-p384-sha384.
    if algorithm.endswith("sha384"):
        return hashes.SHA384()
    return hashes.SHA256()


def _rsa_args(algorithm: str) -> tuple[Any, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if algorithm == "rsa-pss-sha512":
        return padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64), hashes.SHA512()
    return padding.PKCS1v15(), hashes.SHA256()


def _is_pem(material: object) -> bool:
    if isinstance(material, str):
        return material.lstrip().startswith("-----BEGIN ")
    if isinstance(material, (bytes, bytearray, memoryview)):
        return bytes(material).lstrip().startswith(b"-----BEGIN ")
    return False


def _load_pem(material: str | bytes | bytearray | memoryview, private: bool, what: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    data = material.encode("ascii", "replace") if isinstance(material, str) else bytes(material)
    data = data.strip()
    loader = serialization.load_pem_private_key if private else serialization.load_pem_public_key
    try:
        return loader(data, password=None) if private else loader(data)  # type: ignore[call-arg]
    except Exception:  # any failure is a bad key; find out which kind below
        other: Any = None
    try:
        other = (
            serialization.load_pem_public_key(data)
            if private
            else serialization.load_pem_private_key(data, password=None)
        )
    except Exception:  # not a key of the other kind either
        other = None
    if other is not None and not private:
        raise ConfigurationError(
            f"{what} is a PRIVATE key. A verifier needs only the sender's public key: configure "
            "the public key (a private key belongs with the sender's Signer only)."
        )
    if other is not None:
        raise ConfigurationError(f"{what} is a public key; signing needs the private key.")
    raise ConfigurationError(
        f"{what} is not a PEM {'private' if private else 'public'} key that this library can load "
        "(unencrypted PEM, SPKI/PKCS#1/PKCS#8/SEC1)."
    )


def _classify(key: Any, private: bool, what: str) -> tuple[str | None, int]:
    """(algorithm implied by the key, or None for RSA; signature size) for a key object."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    public_types: tuple[type, ...] = (
        ed25519.Ed25519PublicKey,
        ec.EllipticCurvePublicKey,
        rsa.RSAPublicKey,
    )
    private_types: tuple[type, ...] = (
        ed25519.Ed25519PrivateKey,
        ec.EllipticCurvePrivateKey,
        rsa.RSAPrivateKey,
    )
    if not private and isinstance(key, private_types):
        raise ConfigurationError(
            f"{what} is a private key object. Configure the verifier with its public_key()."
        )
    if private and isinstance(key, public_types):
        raise ConfigurationError(f"{what} is a public key; signing needs the private key.")
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "ed25519", 64
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        curve = _CURVES.get(key.curve.name)
        if curve is None:
            raise ConfigurationError(
                f"{what} is an EC key on {key.curve.name}; RFC 9421 defines ECDSA only on "
                "P-256 (ecdsa-p256-sha256) and P-384 (ecdsa-p384-sha384)."
            )
        return curve[0], 2 * curve[1]
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        if key.key_size < _MIN_RSA_BITS:
            raise ConfigurationError(
                f"{what} is a {key.key_size}-bit RSA key; at least {_MIN_RSA_BITS} bits are "
                "required."
            )
        return None, (key.key_size + 7) // 8
    raise ConfigurationError(
        f"{what} is a {type(key).__name__}; use bytes (hmac-sha256), a PEM string or bytes, or "
        "a cryptography Ed25519, EC (P-256/P-384) or RSA key object."
    )


def load_key(spec: object, *, private: bool, what: str = "The key") -> RFC9421Key:
    """Load one configured key (``key`` or ``(algorithm, key)``), fixing its algorithm.

    ``private=False`` loads a verification key (public key or HMAC secret), ``private=True`` a
    signing key (private key or HMAC secret). Raises ConfigurationError for anything else.
    """
    wanted: str | None = None
    material = spec
    if isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[0], str):
            raise ConfigurationError(
                f"{what} must be a key or an (algorithm, key) pair such as ('rsa-pss-sha512', pem)."
            )
        wanted, material = spec
        if wanted not in ALGORITHMS:
            raise ConfigurationError(
                f"Unknown RFC 9421 algorithm for {what.lower()}: use one of "
                f"{', '.join(ALGORITHMS)}."
            )
    if material is None:
        raise ConfigurationError(f"{what} is None.")
    if isinstance(material, (bytes, bytearray, memoryview, Secret)) and not _is_pem(material):
        if wanted not in (None, "hmac-sha256"):
            raise ConfigurationError(
                f"{what} is raw bytes, which can only be an hmac-sha256 secret, but it is "
                f"configured for {wanted}. Give a PEM or a cryptography key object."
            )
        raw = secret_bytes(material, what.lower())
        if len(raw) < _MIN_HMAC_BYTES:
            raise ConfigurationError(
                f"{what} is an hmac-sha256 secret of {len(raw)} bytes; use at least "
                f"{_MIN_HMAC_BYTES} random bytes (32 recommended)."
            )
        return RFC9421Key("hmac-sha256", HMACKey(raw), private=private, signature_size=32)
    if wanted == "hmac-sha256":
        raise ConfigurationError(
            f"{what} is configured for hmac-sha256 but is a PEM or key object. An HMAC secret "
            "must be raw bytes; never key an HMAC with a public key."
        )
    if isinstance(material, str) and not _is_pem(material):
        raise ConfigurationError(
            f"{what} is text but not PEM. Give an HMAC secret as bytes (decode base64 first) "
            "and an asymmetric key as PEM or a cryptography key object."
        )
    if _is_pem(material):
        key = _load_pem(material, private, what)  # type: ignore[arg-type]
    else:
        key = material
    implied, size = _classify(key, private, what)
    if implied is None:
        if wanted not in _RSA:
            raise ConfigurationError(
                f"{what} is an RSA key, which serves two RFC 9421 algorithms: give it as "
                "('rsa-pss-sha512', key) or ('rsa-v1_5-sha256', key)."
            )
        implied = wanted
    elif wanted is not None and wanted != implied:
        raise ConfigurationError(f"{what} is a key for {implied}, not for {wanted}.")
    assert implied is not None
    return RFC9421Key(implied, key, private=private, signature_size=size)


#: The shape of a user-supplied resolver: key id -> key (or None when unknown).
KeyResolver = Callable[[str], object]
