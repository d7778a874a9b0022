"""DjangoCacheNonceStore refuses caches that drop live entries, unless explicitly allowed."""

from __future__ import annotations

from typing import Any

import pytest
from adapter_support import make_verifier, signed
from django.core.cache import caches
from django.test import override_settings

import hookseal.stores.django as django_store_module
from hookseal import ConfigurationError, NonceStoreUnavailable, ReplayedDelivery
from hookseal.stores.django import DjangoCacheNonceStore
from hookseal.testing import check_nonce_store

pytestmark = pytest.mark.extras

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _caches(backend: str, **entry: Any) -> dict[str, Any]:
    return {"default": {"BACKEND": backend, **entry}}


@override_settings(CACHES=LOCMEM)
def test_locmem_cache_is_refused_at_construction() -> None:
    """Before: accepted, and a captured delivery was accepted again after 400 others."""
    with pytest.raises(ConfigurationError, match=r"LocMemCache.*MAX_ENTRIES.*allow_eviction"):
        DjangoCacheNonceStore()


@override_settings(CACHES=LOCMEM)
def test_the_opt_in_accepts_locmem_and_its_culling_is_real() -> None:
    """What allow_eviction=True accepts: LocMemCache culls live entries at MAX_ENTRIES."""
    caches["default"].clear()
    store = DjangoCacheNonceStore(allow_eviction=True)
    verifier = make_verifier(nonce_store=store)
    captured = signed()
    verifier.verify(captured.body, captured.headers)
    with pytest.raises(ReplayedDelivery):
        verifier.verify(captured.body, captured.headers)
    for _ in range(400):
        other = signed()
        verifier.verify(other.body, other.headers)
    # The captured delivery's entry was culled: the replay is accepted. This is the risk the
    # opt-in accepts, and the reason the store refuses such caches by default.
    verifier.verify(captured.body, captured.headers)
    assert "allow_eviction=True" in repr(store)


@pytest.mark.parametrize(
    ("backend", "entry", "what"),
    [
        ("django.core.cache.backends.filebased.FileBasedCache", {"LOCATION": "/tmp/x"}, "atomic"),
        ("django.core.cache.backends.db.DatabaseCache", {"LOCATION": "cache"}, "MAX_ENTRIES"),
        (
            "django.core.cache.backends.memcached.PyMemcacheCache",
            {"LOCATION": "127.0.0.1:11211"},
            "memory pressure",
        ),
    ],
)
def test_evicting_backends_are_refused_unless_allowed(
    backend: str, entry: dict[str, Any], what: str
) -> None:
    with override_settings(CACHES=_caches(backend, **entry)):
        with pytest.raises(ConfigurationError, match=what):
            DjangoCacheNonceStore()
        assert DjangoCacheNonceStore(allow_eviction=True).allow_eviction is True


def test_dummy_cache_is_refused_even_with_the_opt_in() -> None:
    with override_settings(CACHES=_caches("django.core.cache.backends.dummy.DummyCache")):
        for allow in (False, True):
            with pytest.raises(ConfigurationError, match="stores nothing"):
                DjangoCacheNonceStore(allow_eviction=allow)


def test_redis_cache_and_unknown_backends_are_accepted() -> None:
    redis = _caches("django.core.cache.backends.redis.RedisCache", LOCATION="redis://127.0.0.1:1")
    with override_settings(CACHES=redis):
        assert repr(DjangoCacheNonceStore()) == "DjangoCacheNonceStore(cache_alias='default')"


def test_configuration_mistakes() -> None:
    with override_settings(CACHES=LOCMEM):
        with pytest.raises(ConfigurationError, match="no 'other' entry"):
            DjangoCacheNonceStore("other", allow_eviction=True)
        with pytest.raises(ConfigurationError, match="allow_eviction"):
            DjangoCacheNonceStore(allow_eviction=1)  # type: ignore[arg-type]
    with (
        override_settings(CACHES=_caches("no.such.Backend")),
        pytest.raises(ConfigurationError, match="cannot import"),
    ):
        DjangoCacheNonceStore()


@override_settings(CACHES=LOCMEM)
def test_without_settings_at_construction_the_check_runs_at_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(django_store_module, "_settings_loaded", lambda: False)
    store = DjangoCacheNonceStore()  # nothing to check yet
    with pytest.raises(ConfigurationError, match="LocMemCache"):
        store.reserve(b"k", 10.0, 0.0)
    verifier = make_verifier(nonce_store=store)
    delivery = signed()
    with pytest.raises(NonceStoreUnavailable) as caught:
        verifier.verify(delivery.body, delivery.headers)  # refused (503), never accepted
    assert isinstance(caught.value.__cause__, ConfigurationError)


def test_configuration_is_read_only_after_the_check() -> None:
    """Re-pointing a checked store at another cache would skip the eviction check."""
    redis = _caches("django.core.cache.backends.redis.RedisCache", LOCATION="redis://127.0.0.1:1")
    with override_settings(CACHES={**redis, "local": LOCMEM["default"]}):
        store = DjangoCacheNonceStore()
        for name, value in (("cache_alias", "local"), ("allow_eviction", True), ("key_prefix", "")):
            with pytest.raises(AttributeError):
                setattr(store, name, value)
        assert (store.cache_alias, store.allow_eviction, store.key_prefix) == (
            "default",
            False,
            "hookseal:",
        )


@override_settings(CACHES=LOCMEM)
def test_django_cache_store_meets_the_store_contract() -> None:
    check_nonce_store(DjangoCacheNonceStore(allow_eviction=True))
