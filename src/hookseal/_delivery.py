"""What adapters hand to the core (:class:`Delivery`) and what handlers get (:class:`Verified`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._headers import Headers

__all__ = ["Delivery", "Verified"]

_blake2b = hashlib.blake2b
# Per scheme name, a BLAKE2b already personalised for make_replay_key: copying it is cheaper
# than constructing one with ``person=`` for every delivery. Bounded by the scheme names in use.
_replay_hashes: dict[str, Any] = {}
_MAX_PREPARED = 64


def _replay_hash(scheme: str) -> Any:
    prepared = _blake2b(digest_size=16, person=scheme.encode()[:16])
    if len(_replay_hashes) < _MAX_PREPARED:
        _replay_hashes[scheme] = prepared
    return prepared


class Delivery:
    """A framework-neutral webhook request, as an adapter received it.

    Args:
        body: the raw body bytes exactly as they arrived (never a re-serialised payload).
        headers: the header lines (a list of name/value pairs keeps repeated lines, so they
            can be refused) or a mapping.
        method: the HTTP method.
        url: the full URL the sender addressed (scheme, host, port, path, query), needed by
            schemes that sign it (Twilio, RFC 9421).
        remote_addr: the socket peer address, used by an :class:`~hookseal.network.IPAllowlist`.
    """

    __slots__ = ("body", "headers", "method", "remote_addr", "url")

    def __init__(
        self,
        body: bytes,
        headers: Headers | Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]],
        *,
        method: str = "POST",
        url: str | None = None,
        remote_addr: str | None = None,
    ) -> None:
        self.body = body
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.method = method
        self.url = url
        self.remote_addr = remote_addr

    def __repr__(self) -> str:
        return (
            f"Delivery(method={self.method!r}, url={self.url!r}, remote_addr="
            f"{self.remote_addr!r}, body=<{len(self.body)} bytes>, headers={self.headers!r})"
        )


class Verified:
    """A delivery that passed every check. Only this reaches the handler.

    Attributes:
        body: the raw bytes that were verified (use these, never a re-read body).
        timestamp: the signed timestamp in Unix seconds, or None if the scheme signs none.
        msg_id: the message id the sender gave, or None. For GitHub and Shopify it is not
            signed: use it for the handler's own idempotency, never as proof of anything.
        key_index: the position, in the configured secrets, of the key that matched.
        key_id: the key id that matched, for schemes that name keys (RFC 9421), else None.
        scheme: the name of the scheme that verified the delivery.
        replay_key: the digest of the signed material that identifies this delivery in the
            nonce store (no secret; an opaque value). Empty (``b""``) when the scheme has no
            per-delivery material (a shared token): nothing is recorded and replays are not
            detected.
    """

    __slots__ = (
        "_client_addr",
        "_replay_key",
        "_replay_material",
        "_reservation",
        "body",
        "key_id",
        "key_index",
        "msg_id",
        "scheme",
        "timestamp",
    )

    # Set by the verifier when its nonce store records the delivery (verifier, key, expiry);
    # taken back by Verifier.release. Unset on a Verified that was never recorded.
    _reservation: tuple[object, bytes, float] | None
    # Set by the verifier when an allowlist resolved the client; unset otherwise.
    _client_addr: str | None

    @property
    def client_addr(self) -> str | None:
        """The client address the verifier's allowlist resolved, or None without an allowlist.

        Behind trusted proxies it is the forwarded client, not the proxy.
        """
        return getattr(self, "_client_addr", None)

    def __init__(
        self,
        body: bytes,
        *,
        timestamp: int | None,
        msg_id: str | None,
        key_index: int,
        scheme: str,
        replay_key: bytes,
        key_id: str | None = None,
    ) -> None:
        self.body = body
        self.timestamp = timestamp
        self.msg_id = msg_id
        self.key_index = key_index
        self.key_id = key_id
        self.scheme = scheme
        self._replay_key: bytes | None = replay_key
        self._replay_material: bytes | None = None

    @property
    def replay_key(self) -> bytes:
        """The nonce-store key (see the class docstring); derived on first use when deferred."""
        key = self._replay_key
        if key is None:
            # Deferred (see ``_verified_deferred``): the same digest make_replay_key computes.
            material = self._replay_material
            if material is None:
                material = f"{self.msg_id}\n{self.timestamp}".encode("ascii")
            prepared = _replay_hashes.get(self.scheme)
            if prepared is None:
                prepared = _replay_hash(self.scheme)
            digest = prepared.copy()
            digest.update(material)
            key = self._replay_key = digest.digest()
        return key

    @replay_key.setter
    def replay_key(self, value: bytes) -> None:
        self._replay_key = value

    def json(self) -> Any:
        """Parse the verified body as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        return (
            f"Verified(scheme={self.scheme!r}, msg_id={self.msg_id!r}, timestamp="
            f"{self.timestamp!r}, key_index={self.key_index!r}, body=<{len(self.body)} bytes>)"
        )


_new_object = object.__new__


def _verified_deferred(
    body: bytes,
    timestamp: int | None,
    msg_id: str | None,
    key_index: int,
    scheme: str,
    material: bytes | None = None,
) -> Verified:
    r"""A :class:`Verified` built without keyword parsing, its replay key derived on first use.

    ``replay_key`` is then ``make_replay_key(scheme, material)``, the same bytes an eager
    construction holds, computed only when a nonce store (or anyone) reads it. ``material``
    is the signed material (e.g. the matched MAC); ``None`` means ``f"{msg_id}\n{timestamp}"``,
    for schemes signing both, whose ``timestamp`` prints back exactly as it was signed.
    """
    verified: Verified = _new_object(Verified)
    verified.body = body
    verified.timestamp = timestamp
    verified.msg_id = msg_id
    verified.key_index = key_index
    verified.key_id = None
    verified.scheme = scheme
    verified._replay_key = None
    verified._replay_material = material
    return verified
