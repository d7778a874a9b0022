"""hookseal.contrib.django through Django's own test Client and AsyncClient."""

from __future__ import annotations

import logging
from typing import Any

import hookseal_django_urls as urls
import pytest
from adapter_support import (
    BODY,
    CASE_IDS,
    REJECTIONS,
    Case,
    Request,
    assert_generic,
    make_verifier,
    rejection_logs,
    signed,
)
from django.core.cache import caches
from django.test import AsyncClient, Client, override_settings

from hookseal import ConfigurationError, NonceStoreUnavailable, ReplayedDelivery
from hookseal.contrib.django import DjangoCacheNonceStore, WebhookMiddleware, verify_webhook

pytestmark = pytest.mark.extras


@pytest.fixture(autouse=True)
def _reset() -> None:
    urls.CALLS.clear()
    urls.REJECTED.clear()


def _split(req: Request) -> tuple[str, dict[str, str]]:
    names = [name for name, _ in req.headers]
    headers = {name: value for name, value in req.headers if names.count(name) == 1}
    content_type = headers.pop("Content-Type", "application/octet-stream")
    return content_type, headers


def post(path: str, req: Request, **extra: Any) -> Any:
    content_type, headers = _split(req)
    meta = _duplicates_as_wsgi(req)
    return Client(enforce_csrf_checks=True).post(
        path, data=req.body, content_type=content_type, headers=headers, **meta, **extra
    )


async def apost(path: str, req: Request) -> Any:
    content_type, headers = _split(req)
    # AsyncClient takes one value per name; real repeated lines are covered end to end.
    meta = {
        key[5:].lower().replace("_", "-"): value for key, value in _duplicates_as_wsgi(req).items()
    }
    return await AsyncClient(enforce_csrf_checks=True).post(
        path, data=req.body, content_type=content_type, headers=headers, **meta
    )


def _duplicates_as_wsgi(req: Request) -> dict[str, str]:
    """A repeated header line reaches Django (WSGI) joined with ', ', as servers join it."""
    seen: dict[str, list[str]] = {}
    for name, value in req.headers:
        seen.setdefault(name, []).append(value)
    return {
        "HTTP_" + name.upper().replace("-", "_"): ", ".join(values)
        for name, values in seen.items()
        if len(values) > 1
    }


SYNC_PATHS = ["/sync", "/mw/sync"]
ASYNC_PATHS = ["/async", "/mw/async"]


@pytest.mark.parametrize("path", SYNC_PATHS)
def test_valid_sync(path: str) -> None:
    req = signed()
    response = post(path, req)
    assert response.status_code == 200
    assert response.content == BODY
    assert [req.header_dict()["webhook-id"]] == urls.CALLS


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ASYNC_PATHS + SYNC_PATHS)
async def test_valid_async_client(path: str) -> None:
    req = signed()
    response = await apost(path, req)
    assert response.status_code == 200
    assert response.content == BODY
    assert [req.header_dict()["webhook-id"]] == urls.CALLS


@pytest.mark.parametrize("path", SYNC_PATHS + ASYNC_PATHS)
@pytest.mark.parametrize("case", REJECTIONS, ids=CASE_IDS)
def test_rejections_sync_client(caplog: pytest.LogCaptureFixture, case: Case, path: str) -> None:
    caplog.set_level(logging.INFO, "hookseal")
    response = post(path, case.build())
    assert response.status_code == case.status
    assert_generic(case.status, response.content.decode())
    assert response["Content-Type"].startswith("text/plain")
    assert urls.CALLS == []
    assert len(rejection_logs(caplog)) == 1
    assert [p for p, _ in urls.REJECTED] == [path]


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ASYNC_PATHS)
@pytest.mark.parametrize("case", REJECTIONS, ids=CASE_IDS)
async def test_rejections_async_client(
    caplog: pytest.LogCaptureFixture, case: Case, path: str
) -> None:
    caplog.set_level(logging.INFO, "hookseal")
    response = await apost(path, case.build())
    assert response.status_code == case.status
    assert_generic(case.status, response.content.decode())
    assert urls.CALLS == []
    assert len(rejection_logs(caplog)) == 1


@pytest.mark.parametrize(("first", "second"), [("/sync", "/async"), ("/mw/sync", "/mw/async")])
def test_replay_is_refused(first: str, second: str) -> None:
    req = signed()
    assert post(first, req).status_code == 200
    response = post(second, req)
    assert response.status_code == 409
    assert_generic(409, response.content.decode())
    assert len(urls.CALLS) == 1
    assert [(second, "replayed")] == urls.REJECTED


def test_replay_status_is_configurable() -> None:
    req = signed()
    assert post("/replay-200", req).status_code == 200
    response = post("/replay-200", req)
    assert response.status_code == 200
    assert_generic(409, response.content.decode())
    assert len(urls.CALLS) == 1


@pytest.mark.asyncio
async def test_forbidden_address_async() -> None:
    response = await apost("/forbidden", signed())
    assert response.status_code == 403
    assert urls.CALLS == []
    assert urls.REJECTED == [("/forbidden", "forbidden_address")]


def test_forbidden_address_ignores_forwarded_for() -> None:
    response = post("/forbidden", signed(), HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert response.status_code == 403
    assert urls.CALLS == []


def test_multipart_post_read_before_verification_is_never_accepted() -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--\r\n'
    req = signed(body)
    headers = [h for h in req.headers if h[0] != "Content-Type"]
    headers.append(("Content-Type", "multipart/form-data; boundary=b"))
    response = post("/post-first", Request(body, headers))
    assert response.status_code == 401
    assert urls.CALLS == []


def test_view_without_webhook_is_untouched_by_middleware() -> None:
    assert Client().post("/plain", data=b"x", content_type="text/plain").content == b"plain"


def test_csrf_exemption_is_for_the_decorated_view_only() -> None:
    assert getattr(urls.sync_view, "csrf_exempt", False) is True
    response = Client(enforce_csrf_checks=True).post("/plain", data=b"x", content_type="text/plain")
    assert response.status_code == 403  # CSRF still applies elsewhere


@pytest.mark.asyncio
async def test_decorator_keeps_sync_and_async_views_apart() -> None:
    from asgiref.sync import iscoroutinefunction

    assert iscoroutinefunction(urls.async_view)
    assert not iscoroutinefunction(urls.sync_view)


@pytest.mark.parametrize("path", ["/cache-sync", "/cache-async"])
def test_django_cache_nonce_store_refuses_replays(path: str) -> None:
    caches["default"].clear()
    req = signed()
    assert post(path, req).status_code == 200
    assert post(path, req).status_code == 409
    assert len(urls.CALLS) == 1


@pytest.mark.asyncio
async def test_django_cache_nonce_store_async() -> None:
    caches["default"].clear()
    req = signed()
    assert (await apost("/cache-async", req)).status_code == 200
    assert (await apost("/cache-sync", req)).status_code == 409
    assert len(urls.CALLS) == 1


@pytest.mark.asyncio
async def test_django_cache_nonce_store_release() -> None:
    caches["default"].clear()
    store = DjangoCacheNonceStore(key_prefix="rel:", allow_eviction=True)
    verifier = make_verifier(nonce_store=store, max_releases=2)
    req = signed()
    verified = verifier.verify(req.body, req.headers)
    name = "rel:" + verified.replay_key.hex()
    assert caches["default"].get(name) is not None
    assert store.release(verified.replay_key, b"another acceptance", 2) is False  # not its token
    assert verifier.release(verified) is True
    assert caches["default"].get(name) is None
    assert verifier.release(verified) is False  # each acceptance releases once
    again = await verifier.averify(req.body, req.headers)  # the retry is accepted
    assert await verifier.arelease(again) is True
    third = verifier.verify(req.body, req.headers)
    assert verifier.release(third) is False  # the bound (max_releases=2), counted in the cache
    with pytest.raises(ReplayedDelivery):
        verifier.verify(req.body, req.headers)
    assert await store.arelease(third.replay_key, b"another acceptance", 2) is False
    assert store.release(b"never recorded", b"token", 2) is False


class _BrokenCache:
    def add(self, *args: Any) -> bool:
        raise ConnectionError("down")

    def get(self, *args: Any) -> bool:
        raise ConnectionError("down")

    async def aget(self, *args: Any) -> bool:
        raise ConnectionError("down")

    async def aadd(self, *args: Any) -> bool:
        raise ConnectionError("down")

    def delete(self, *args: Any) -> bool:
        raise ConnectionError("down")

    async def adelete(self, *args: Any) -> bool:
        raise ConnectionError("down")


@pytest.mark.asyncio
async def test_django_cache_nonce_store_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    store = DjangoCacheNonceStore(allow_eviction=True)
    monkeypatch.setattr(store, "_cache", _BrokenCache)
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(b"k", 10.0, 0.0)
    with pytest.raises(NonceStoreUnavailable):
        await store.areserve(b"k", 10.0, 0.0)
    with pytest.raises(NonceStoreUnavailable):
        store.reserve(b"k", float("inf"), 0.0)
    with pytest.raises(NonceStoreUnavailable):
        store.release(b"k", b"token", 3)
    with pytest.raises(NonceStoreUnavailable):
        await store.arelease(b"k", b"token", 3)


def test_django_cache_nonce_store_expires_entries_at_expiry() -> None:
    store = DjangoCacheNonceStore(key_prefix="t:", allow_eviction=True)
    caches["default"].clear()
    assert store.reserve(b"\x01", 1000.5, 1000.0) is True  # timeout rounds up to 1 s
    assert store.reserve(b"\x01", 1000.5, 1000.0) is False
    assert caches["default"].get("t:01") == ":1"  # no token: a store used without release
    with pytest.raises(ConfigurationError):
        DjangoCacheNonceStore("")
    with pytest.raises(ConfigurationError):
        DjangoCacheNonceStore(key_prefix="has space")


def test_middleware_configuration_is_validated() -> None:
    for bad in (
        {"HOOKSEAL": {}},
        {"HOOKSEAL": {"no-slash": urls.VERIFIER}},
        {"HOOKSEAL": {"/x": "hookseal_django_urls.does_not_exist"}},
        {"HOOKSEAL": {"/x": object()}},
        {"HOOKSEAL_REPLAY_STATUS": 600},
        {"HOOKSEAL_ON_REJECT": 42},
    ):
        with override_settings(**bad), pytest.raises(ConfigurationError):
            WebhookMiddleware(lambda request: None)
    with pytest.raises(ConfigurationError):
        verify_webhook(urls.VERIFIER, replay_status="409")  # type: ignore[arg-type]


# -- get_webhook and the deprecated names --------------------------------------------------


def test_get_webhook_in_an_unprotected_view_raises_lookup_error() -> None:
    response = post("/unprotected", signed())
    assert response.status_code == 418
    text = response.content.decode()
    assert "not protected" in text
    assert "@verify_webhook(verifier)" in text


@pytest.mark.asyncio
async def test_get_webhook_in_an_unprotected_view_raises_lookup_error_async() -> None:
    response = await apost("/unprotected", signed())
    assert response.status_code == 418


@pytest.mark.parametrize("path", ["/sync", "/async", "/mw/sync", "/mw/async"])
def test_get_webhook_in_protected_views(path: str) -> None:
    # The views answer through get_webhook(request) and assert it is request.webhook.
    req = signed()
    assert post(path, req).status_code == 200
    assert [req.header_dict()["webhook-id"]] == urls.CALLS


def test_get_webhook_on_a_request_nobody_verified() -> None:
    from django.test import RequestFactory

    from hookseal.contrib.django import get_webhook

    request = RequestFactory().post("/anything", data=b"{}", content_type="application/json")
    with pytest.raises(LookupError, match="not protected"):
        get_webhook(request)
    request.webhook = "not a Verified"  # type: ignore[attr-defined]
    with pytest.raises(LookupError):
        get_webhook(request)


@pytest.mark.parametrize(
    ("old", "new"),
    [("webhook_view", "verify_webhook"), ("HookSealMiddleware", "WebhookMiddleware")],
)
def test_old_names_warn_and_still_work(old: str, new: str) -> None:
    import hookseal.contrib.django as module

    with pytest.warns(DeprecationWarning, match=rf"django\.{old} is deprecated.*{new}"):
        value = getattr(module, old)
    assert value is getattr(module, new)
    assert old not in module.__all__
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_old_middleware_path_in_settings_still_loads() -> None:
    from django.utils.module_loading import import_string

    with pytest.warns(DeprecationWarning, match="'hookseal.contrib.django.WebhookMiddleware'"):
        loaded = import_string("hookseal.contrib.django.HookSealMiddleware")
    assert loaded is WebhookMiddleware


def test_old_decorator_name_still_protects() -> None:
    with pytest.warns(DeprecationWarning, match="use @verify_webhook"):
        from hookseal.contrib.django import webhook_view
    view = webhook_view(make_verifier())(urls.sync_view.__wrapped__)  # type: ignore[attr-defined]
    from django.test import RequestFactory

    content_type, headers = _split(signed())
    genuine = RequestFactory().post("/x", data=BODY, content_type=content_type, headers=headers)
    assert view(genuine).status_code == 200
    forged = RequestFactory().post(
        "/x", data=BODY + b" ", content_type=content_type, headers=headers
    )
    assert view(forged).status_code == 401
