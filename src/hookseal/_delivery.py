"""What adapters hand to the core (:class:`Delivery`) and what handlers get (:class:`Verified`)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._headers import Headers

__all__ = [
    "Delivery",
    "Reservation",
    "Verified",
    "make_replay_key",
    "mark_recorded",
    "set_client_addr",
    "take_record",
]

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


def make_replay_key(scheme: str, material: bytes) -> bytes:
    """The nonce-store key for ``material``: a 16-byte BLAKE2b personalised with ``scheme``.

    The one implementation of the replay digest (:attr:`Verified.replay_keys` uses it).
    """
    prepared = _replay_hashes.get(scheme)
    if prepared is None:
        prepared = _replay_hash(scheme)
    digest = prepared.copy()
    digest.update(material)
    return digest.digest()  # type: ignore[no-any-return]


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
    """A delivery that passed every check. Only this reaches the handler. Read-only.

    Schemes build it with positional arguments (the constructor is on the hot path):
    ``Verified(body, timestamp, msg_id, key_index, scheme, replay_material)``.

    Attributes:
        body: the raw bytes that were verified (use these, never a re-read body).
        timestamp: the signed timestamp in Unix seconds, or None if the scheme signs none.
        msg_id: the message id the sender gave, or None. For GitHub and Shopify it is not
            signed: use it for the handler's own idempotency, never as proof of anything.
        key_index: the position, in the configured secrets, of the key that matched.
        scheme: the name of the scheme that verified the delivery.
        key_id: the key id that matched, for schemes that name keys (RFC 9421), else None.

    Args:
        replay_material: what identifies the delivery per configured key (each key's MAC of
            the signed bytes; one ``bytes`` or a sequence): :attr:`replay_keys` digests it on
            first use. Empty (the default) records nothing: replays are then not detected.
        replay_key: a ready nonce-store key instead of ``replay_material``.
    """

    __slots__ = (
        "_body",
        "_client_addr",
        "_key_id",
        "_key_index",
        "_msg_id",
        "_replay_keys",
        "_replay_material",
        "_reservation",
        "_scheme",
        "_timestamp",
    )
    _body: bytes
    _client_addr: str | None
    _key_id: str | None
    _key_index: int
    _msg_id: str | None
    _replay_keys: tuple[bytes, ...]
    _replay_material: bytes | tuple[bytes, ...] | None
    _reservation: Reservation | None
    _scheme: str
    _timestamp: int | None

    def __init__(
        self,
        body: bytes,
        timestamp: int | None,
        msg_id: str | None,
        key_index: int,
        scheme: str,
        replay_material: bytes | Sequence[bytes] = (),
        *,
        key_id: str | None = None,
        replay_key: bytes | None = None,
    ) -> None:
        self._body = body
        self._timestamp = timestamp
        self._msg_id = msg_id
        self._key_index = key_index
        self._scheme = scheme
        # What most deliveries never set stays unset (read through getattr with a default):
        # the constructor is on every delivery's path. _reservation: the record a verifier
        # made (mark_recorded); _client_addr: the allowlist's client (set_client_addr).
        if key_id is not None:
            self._key_id = key_id
        if replay_key is not None:
            self._replay_keys = (replay_key,) if replay_key else ()
        elif replay_material:
            # Digested into _replay_keys on first use (replay_keys).
            self._replay_material = (
                replay_material if isinstance(replay_material, bytes) else tuple(replay_material)
            )
        else:
            self._replay_keys = ()

    @property
    def body(self) -> bytes:
        """The raw bytes that were verified."""
        return self._body

    @property
    def timestamp(self) -> int | None:
        """The signed timestamp in Unix seconds, or None if the scheme signs none."""
        return self._timestamp

    @property
    def msg_id(self) -> str | None:
        """The message id the sender gave, or None (signed or not: see the scheme's docs)."""
        return self._msg_id

    @property
    def key_index(self) -> int:
        """The position, in the configured secrets, of the key that matched."""
        return self._key_index

    @property
    def key_id(self) -> str | None:
        """The key id that matched, for schemes that name keys (RFC 9421), else None."""
        key_id: str | None = getattr(self, "_key_id", None)
        return key_id

    @property
    def scheme(self) -> str:
        """The name of the scheme that verified the delivery."""
        return self._scheme

    @property
    def recorded(self) -> bool:
        """Whether a nonce store holds this delivery's record, made by the verifier.

        True from the moment the verifier records the delivery until :meth:`Verifier.release
        <hookseal.Verifier.release>` takes the record back; False for a scheme with nothing
        to record, a verifier without replay protection, or after release. Adapters release
        on a handler error only when it is True.
        """
        return getattr(self, "_reservation", None) is not None

    @property
    def client_addr(self) -> str | None:
        """The client address the verifier's allowlist resolved, or None without an allowlist.

        Behind trusted proxies it is the forwarded client, not the proxy.
        """
        client_addr: str | None = getattr(self, "_client_addr", None)
        return client_addr

    @property
    def replay_keys(self) -> tuple[bytes, ...]:
        """The nonce-store keys that identify this delivery, sorted; empty to record nothing.

        One per configured key that verified the delivery: each is a digest of the scheme's
        name and of what that key signed (its MAC of the signed bytes, or the signed id and
        timestamp bound to a public key), never of which keys are configured, their order or
        which of several signatures was checked first. The verifier records every one and
        refuses the delivery if any is already recorded, so a delivery captured during a key
        rotation is refused on workers holding either key set, and stripping one of several
        signatures changes nothing. Keys of different secrets never collide, so endpoints
        sharing one store never refuse each other's deliveries. Empty (``()``) when the
        scheme has no per-delivery material (a shared token): replays are then not detected.
        """
        keys: tuple[bytes, ...] | None = getattr(self, "_replay_keys", None)
        if keys is None:
            material: bytes | tuple[bytes, ...] | None = getattr(self, "_replay_material", None)
            if material is None:  # another thread digested it in the meantime
                return self._replay_keys
            if isinstance(material, bytes):  # one key's MAC: the common case
                keys = (make_replay_key(self._scheme, material),)
            else:
                scheme = self._scheme
                digests = sorted(make_replay_key(scheme, item) for item in material)
                keys = tuple(dict.fromkeys(digests))
            self._replay_keys = keys
            # The material holds every configured key's MAC, which for a key the sender did
            # not use is a valid signature it never sent: keep only the digests from now on,
            # so no later traceback frame holding this Verified carries it.
            self._replay_material = None
        return keys

    @property
    def replay_key(self) -> bytes:
        """The first of :attr:`replay_keys` (``b""`` when there is none)."""
        keys = self.replay_keys
        return keys[0] if keys else b""

    def json(self) -> Any:
        """Parse the verified body as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        return (
            f"Verified(scheme={self.scheme!r}, msg_id={self.msg_id!r}, timestamp="
            f"{self.timestamp!r}, key_index={self.key_index!r}, body=<{len(self.body)} bytes>)"
        )


#: What the verifier keeps for a recorded delivery: (the verifier, the keys, the token).
Reservation = tuple[object, tuple[bytes, ...], "bytes | None"]
_reservation_lock = threading.Lock()


def mark_recorded(verified: Verified, reservation: Reservation) -> None:
    """Note on ``verified`` the record a verifier made for it (see :attr:`Verified.recorded`)."""
    verified._reservation = reservation


def set_client_addr(verified: Verified, client_addr: str | None) -> None:
    """Note on ``verified`` the client address an allowlist resolved."""
    verified._client_addr = client_addr


def take_record(verified: Verified, owner: object) -> Reservation | None:
    """Take back the record ``owner`` made for ``verified``, once (thread-safe), or None."""
    with _reservation_lock:  # taken once, even by two threads releasing at the same time
        reservation: Reservation | None = getattr(verified, "_reservation", None)
        if reservation is None or reservation[0] is not owner:
            return None
        verified._reservation = None
    return reservation
