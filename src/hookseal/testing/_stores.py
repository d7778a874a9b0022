"""A contract check for nonce stores, for the stores hookseal ships and the ones users write."""

from __future__ import annotations

from typing import Any

__all__ = ["check_nonce_store"]


def _expect(actual: object, expected: bool, step: str) -> None:
    if actual is not expected:
        raise AssertionError(f"nonce-store contract: {step}: expected {expected}, got {actual!r}")


def check_nonce_store(store: Any, *, now: float = 1_700_000_000.0, key: bytes = b"k" * 16) -> None:
    """Run the nonce-store protocol's contract against ``store`` (synchronous methods).

    Checks ``reserve`` (new, replay, re-admission after a release), ``release`` (a
    compare-and-set on the token, bounded by ``max_releases``, counted in the store) and, when
    the store has it, ``unreserve`` (undo without counting). Use a fresh store, or a ``key``
    it has never seen. Raises ``AssertionError`` naming the first step that failed.
    """
    _expect(store.reserve(key, now + 60, now, b"t1"), True, "a new key is accepted")
    _expect(store.reserve(key, now + 60, now, b"t2"), False, "a held key is a replay")
    _expect(store.release(key, b"other", 3), False, "another token cannot release it")
    if callable(getattr(store, "unreserve", None)):
        _expect(store.unreserve(key, b"other"), False, "another token cannot undo it")
        _expect(store.unreserve(key, b"t1"), True, "its own token undoes the reservation")
        _expect(store.unreserve(key, b"t1"), False, "an undone reservation is undone once")
        _expect(store.reserve(key, now + 60, now, b"t1"), True, "an undone key is accepted")
    _expect(store.release(key, b"t1", 2), True, "its own token releases it")
    _expect(store.release(key, b"t1", 2), False, "a released record is released once")
    _expect(store.reserve(key, now + 60, now, b"t2"), True, "a released key is re-admitted")
    _expect(store.reserve(key, now + 60, now, b"t3"), False, "a re-admitted key is held")
    if callable(getattr(store, "unreserve", None)):
        _expect(store.unreserve(key, b"t2"), True, "a re-admission can be undone")
        _expect(store.reserve(key, now + 60, now, b"t2"), True, "and re-admitted again")
    _expect(store.release(key, b"t2", 2), True, "a second release within max_releases=2")
    _expect(store.reserve(key, now + 60, now, b"t3"), True, "a second re-admission")
    _expect(store.release(key, b"t3", 2), False, "no third release: the bound is counted")
    _expect(store.reserve(key, now + 60, now, b"t4"), False, "past the bound, a replay")
