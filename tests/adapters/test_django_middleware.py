"""WebhookMiddleware protects views, not path strings; verified deliveries pass CSRF checks.

Every URL that routes to a protected view is verified: ``i18n_patterns`` language prefixes,
an optional-slash ``re_path``, two ``include()`` prefixes of one view, percent-encoded paths.
Each shape runs through Django's test Client and through real servers on 127.0.0.1 (Django's
runserver WSGI server, and uvicorn in front of Django's ASGI handler).
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import hookseal_django_routing_urls as urls
import pytest
from adapter_support import Request, signed
from django.test import AsyncClient, Client, override_settings

from hookseal import ConfigurationError
from hookseal.contrib.django import WebhookMiddleware

pytestmark = pytest.mark.extras

MIDDLEWARE = [
    "hookseal.contrib.django.WebhookMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
#: Path keys only (the settings API before URL names existed): each is resolved to its view.
PATH_KEYS = {
    "/hooks/github/": urls.GITHUB,
    "/api/hooks/stripe": urls.STRIPE,
    "/v1/hooks/shop/": urls.SHOP,
    "/hooks/billing/": urls.BILLING,
    "/cbv/hook/": urls.CBV,
}
ROUTING: dict[str, Any] = {
    "ROOT_URLCONF": "hookseal_django_routing_urls",
    "MIDDLEWARE": MIDDLEWARE,
    "HOOKSEAL": PATH_KEYS,
    "HOOKSEAL_RELEASE_ON_ERROR": False,
    "APPEND_SLASH": True,
    "USE_I18N": True,
    "LANGUAGE_CODE": "en",
    "LANGUAGES": [("en", "English"), ("fr", "French"), ("de", "German")],
}

#: (how the sender spells the URL, the view it routes to)
SPELLINGS = [
    ("/hooks/github/", "github"),
    ("/fr/hooks/github/", "github"),
    ("/de/hooks/github/", "github"),
    ("/hooks/%67ithub/", "github"),
    ("/fr/hooks/git%68ub/", "github"),
    ("/api/hooks/stripe", "stripe"),
    ("/api/hooks/stripe/", "stripe"),
    ("/api/hooks/%73tripe/", "stripe"),
    ("/v1/hooks/shop/", "shop"),
    ("/v2/hooks/shop/", "shop"),
    ("/v2/hooks/sh%6Fp/", "shop"),
    # Other routes to the same view: another as_view() function, another decorator layer.
    ("/legacy/cbv/", "cbv"),
    ("/cbv/hook/", "cbv"),
    ("/legacy/github/", "github"),
]
SPELLING_IDS = [spelling for spelling, _ in SPELLINGS]
#: APPEND_SLASH answers these with a redirect; the view is never reached by them.
WITHOUT_SLASH = ["/hooks/github", "/fr/hooks/github", "/v1/hooks/shop", "/v2/hooks/shop"]


@pytest.fixture
def routing() -> Iterator[None]:
    urls.CALLS.clear()
    with override_settings(**ROUTING):
        yield
    urls.CALLS.clear()


def post(path: str, req: Request, client: Any = None, **extra: Any) -> Any:
    headers = {name: value for name, value in req.headers if name != "Content-Type"}
    client = client or Client(enforce_csrf_checks=True)
    return client.post(
        path, data=req.body, content_type="application/json", headers=headers, **extra
    )


def msg_id(req: Request) -> str:
    return req.header_dict()["webhook-id"]


# -- every spelling that routes to a protected view is verified (test Client) --------------


@pytest.mark.usefixtures("routing")
@pytest.mark.parametrize(("spelling", "view"), SPELLINGS, ids=SPELLING_IDS)
def test_every_url_of_a_protected_view_is_verified(spelling: str, view: str) -> None:
    response = post(spelling, signed(timestamp=0))
    assert response.status_code == 401, response.content
    assert urls.CALLS == []
    genuine = signed()
    response = post(spelling, genuine)
    assert (response.status_code, response.content) == (200, f"reached {view}".encode())
    assert [(view, msg_id(genuine))] == urls.CALLS


@pytest.mark.asyncio
@pytest.mark.usefixtures("routing")
@pytest.mark.parametrize(("spelling", "view"), SPELLINGS[::2], ids=SPELLING_IDS[::2])
async def test_every_url_of_a_protected_view_is_verified_async(spelling: str, view: str) -> None:
    client = AsyncClient(enforce_csrf_checks=True)
    forged = signed(timestamp=0)
    headers = {name: value for name, value in forged.headers if name != "Content-Type"}
    response = await client.post(
        spelling, data=forged.body, content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    genuine = signed()
    headers = {name: value for name, value in genuine.headers if name != "Content-Type"}
    response = await client.post(
        spelling, data=genuine.body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200
    assert [(view, msg_id(genuine))] == urls.CALLS


@pytest.mark.usefixtures("routing")
@pytest.mark.parametrize("spelling", WITHOUT_SLASH)
def test_append_slash_redirects_never_reach_the_view(spelling: str) -> None:
    response = post(spelling, signed(timestamp=0))
    assert response.status_code == 301
    assert response["Location"] == spelling + "/"
    assert urls.CALLS == []


@pytest.mark.usefixtures("routing")
def test_url_names_protect_every_pattern_of_that_name() -> None:
    with override_settings(HOOKSEAL={"v2:shop": urls.SHOP, "github": urls.GITHUB}):
        for spelling in ("/v1/hooks/shop/", "/v2/hooks/shop/", "/fr/hooks/github/"):
            assert post(spelling, signed(timestamp=0)).status_code == 401
        assert urls.CALLS == []
        genuine = signed()
        assert post("/v1/hooks/shop/", genuine).status_code == 200
        assert [("shop", msg_id(genuine))] == urls.CALLS


@pytest.mark.usefixtures("routing")
def test_unprotected_views_are_untouched_and_keep_csrf() -> None:
    response = post("/unprotected/", signed(timestamp=0))
    assert response.status_code == 403  # Django's CSRF refusal, not hookseal's
    assert urls.CALLS == []
    response = post("/unprotected/", signed(timestamp=0), client=Client())
    assert response.status_code == 200  # the test client's CSRF opt-out, nothing of ours
    assert urls.CALLS == [("unprotected", None)]


# -- CSRF: a verified delivery is never refused (and then lost) by CSRF checks -------------


@pytest.mark.usefixtures("routing")
def test_verified_delivery_to_a_view_without_csrf_exempt_is_accepted_once() -> None:
    """Before: hookseal recorded the delivery, CSRF answered 403, the retry got 409."""
    genuine = signed()
    first = post("/hooks/billing/", genuine)
    assert (first.status_code, first.content) == (200, b"reached billing")
    assert post("/hooks/billing/", genuine).status_code == 409
    assert [("billing", msg_id(genuine))] == urls.CALLS
    assert post("/hooks/billing/", signed(timestamp=0)).status_code == 401


@pytest.mark.usefixtures("routing")
def test_verify_webhook_above_csrf_protect_accepts_a_verified_delivery() -> None:
    genuine = signed()
    response = post("/decorated/", genuine)
    assert (response.status_code, response.content) == (200, b"reached decorated")
    assert [("decorated", msg_id(genuine))] == urls.CALLS
    assert post("/decorated/", signed(timestamp=0)).status_code == 401


def test_csrf_middleware_listed_first_is_refused_at_startup() -> None:
    wrong = ["django.middleware.csrf.CsrfViewMiddleware", MIDDLEWARE[0]]
    with (
        override_settings(**{**ROUTING, "MIDDLEWARE": wrong}),
        pytest.raises(ConfigurationError, match="before CsrfViewMiddleware"),
    ):
        Client().post("/hooks/github/", data=b"{}", content_type="application/json")


# -- configuration: keys must name views, unambiguously, fail loudly otherwise -------------


@pytest.mark.parametrize(
    ("hookseal", "message"),
    [
        ({"/hooks/nowhere/": urls.GITHUB}, "does not resolve"),
        ({"/hooks/github": urls.GITHUB}, "does not resolve"),  # the slash is part of the path
        ({"no-such-name": urls.GITHUB}, "no URL pattern"),
        ({"shop": urls.SHOP}, "no URL pattern"),  # the name needs its namespace
        ({"/decorated/": urls.DECORATED}, "already decorated"),
        ({"/v1/hooks/shop/": urls.SHOP, "/v2/hooks/shop/": urls.GITHUB}, "same view"),
        ({" /hooks/github/": urls.GITHUB}, "URL names or paths"),
    ],
)
def test_keys_that_do_not_name_one_view_are_refused(hookseal: Any, message: str) -> None:
    with (
        override_settings(**{**ROUTING, "HOOKSEAL": hookseal}),
        pytest.raises(ConfigurationError, match=message),
    ):
        WebhookMiddleware(lambda request: None)


def test_several_keys_for_one_view_with_one_verifier_are_fine() -> None:
    both = {"/v1/hooks/shop/": urls.SHOP, "v2:shop": urls.SHOP, "/fr/hooks/github/": urls.GITHUB}
    with override_settings(**{**ROUTING, "HOOKSEAL": both}):
        middleware = WebhookMiddleware(lambda request: None)
    assert dict(middleware.routes) == both


# -- the same shapes through real servers on 127.0.0.1 --------------------------------------


def _raw_post(base: tuple[str, int], target: str, req: Request) -> tuple[int, bytes]:
    """POST with the request target sent byte for byte (no client-side normalisation)."""
    connection = http.client.HTTPConnection(*base, timeout=10)
    try:
        connection.request("POST", target, body=req.body, headers=dict(req.headers))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _serve_runserver() -> Iterator[tuple[str, int]]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = WSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ("127.0.0.1", server.server_port)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def _serve_uvicorn() -> Iterator[tuple[str, int]]:
    import uvicorn
    from django.core.handlers.asgi import ASGIHandler

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(ASGIHandler(), lifespan="off", proxy_headers=False, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield ("127.0.0.1", sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


SERVERS = {"runserver-wsgi": _serve_runserver, "uvicorn-asgi": _serve_uvicorn}


@pytest.mark.server
@pytest.mark.usefixtures("routing")
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_every_url_of_a_protected_view_is_verified_by_real_servers(server: str) -> None:
    for base in SERVERS[server]():
        for spelling, view in SPELLINGS:
            status, content = _raw_post(base, spelling, signed(timestamp=0))
            assert status == 401, (spelling, status, content)
            assert urls.CALLS == []
            genuine = signed()
            status, content = _raw_post(base, spelling, genuine)
            assert (status, content) == (200, f"reached {view}".encode()), spelling
            assert [(view, msg_id(genuine))] == urls.CALLS
            urls.CALLS.clear()
        for spelling in WITHOUT_SLASH:
            status, _ = _raw_post(base, spelling, signed(timestamp=0))
            assert status == 301, spelling
        for spelling, view in (("/decorated/", "decorated"), ("/hooks/billing/", "billing")):
            genuine = signed()  # CSRF-protected views: verified deliveries are exempt
            status, content = _raw_post(base, spelling, genuine)
            assert (status, content) == (200, f"reached {view}".encode())
            assert urls.CALLS[-1] == (view, msg_id(genuine))


def test_loaded_routes_are_read_only() -> None:
    with override_settings(**ROUTING):
        middleware = WebhookMiddleware(lambda request: None)
    with pytest.raises(AttributeError):
        middleware.routes = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        middleware.routes["/x/"] = urls.GITHUB  # type: ignore[index]
