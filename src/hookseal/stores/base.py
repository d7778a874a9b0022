"""The nonce-store protocols: what the verifier asks of a replay store.

A nonce store answers one atomic question: "record this key until time T unless a live record
holds it". The verifier asks it only after the signature and timestamp checked out, so forged
traffic can never fill the store or poison an id. Keys are fixed-size digests of signed
material (see :attr:`hookseal.Verified.replay_keys`), never an unsigned header.

The stores: :mod:`hookseal.stores.memory` (one process), :mod:`hookseal.stores.sqlite` (the
processes of one machine), :mod:`hookseal.stores.redis` and :mod:`hookseal.stores.postgres`
(several machines), :mod:`hookseal.stores.django` (a Django cache).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["AsyncNonceStore", "AsyncReservingStore", "NonceStore", "ReservingStore"]


@runtime_checkable
class NonceStore(Protocol):
    """A synchronous nonce store.

    A record holds the key, its expiry, the token of the acceptance that made it, whether it
    was released, and how many times it was released. A record is live while
    ``now <= expires_at``.
    """

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """Record ``key`` until ``expires_at`` (Unix seconds) unless a live record holds it.

        One atomic operation. Returns True when there is no live record (a new delivery) or
        when the live record was released (a re-admission: the record is held again, with
        this ``token``); False when a live record holds the key (a replay). Raises
        :class:`~hookseal.NonceStoreUnavailable` when it cannot answer; the verifier then
        refuses the delivery. ``now`` is the verifier's clock, for stores that expire
        entries themselves; ``token`` identifies this acceptance for :meth:`release`.
        """

    def release(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """Mark the live record of ``key`` released, if this acceptance (``token``) holds it.

        One atomic compare-and-set: only a held record with exactly this token, released
        fewer than ``max_releases`` times before, is released (True); anything else changes
        nothing (False). The count lives in the store, so every worker sees the same bound.
        """

    def unreserve(self, key: bytes, token: bytes) -> bool:
        """Undo a reservation the verifier could not complete (optional).

        Called when a reservation failed part-way (the store failed, timed out or the call
        was cancelled, perhaps after the write took effect): if a record of ``key`` is held
        with exactly this token, it is made as if this reservation never happened (removed,
        or released again without counting a release when it was a re-admission), so the
        sender's retry is not refused. True if a record was undone. A store without it gets
        :meth:`release` instead, which counts against ``max_releases``.
        """


@runtime_checkable
class AsyncNonceStore(Protocol):
    """An asynchronous nonce store, used by :meth:`hookseal.Verifier.averify`."""

    async def areserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """The asynchronous form of :meth:`NonceStore.reserve`."""

    async def arelease(self, key: bytes, token: bytes, max_releases: int) -> bool:
        """The asynchronous form of :meth:`NonceStore.release`."""

    async def aunreserve(self, key: bytes, token: bytes) -> bool:
        """The asynchronous form of :meth:`NonceStore.unreserve` (optional)."""


@runtime_checkable
class ReservingStore(Protocol):
    """The least a synchronous store offers: :meth:`NonceStore.reserve` (the rest is optional)."""

    def reserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """See :meth:`NonceStore.reserve`."""


@runtime_checkable
class AsyncReservingStore(Protocol):
    """The least an asynchronous store offers: :meth:`AsyncNonceStore.areserve`."""

    async def areserve(
        self, key: bytes, expires_at: float, now: float, token: bytes | None = None
    ) -> bool:
        """See :meth:`AsyncNonceStore.areserve`."""
