"""Each adapter end to end through a real HTTP server on 127.0.0.1, driven by httpx.

Flask and Django (WSGI) under Werkzeug's and Django's runserver-style (wsgiref) servers;
Starlette, FastAPI and Django (ASGI) under uvicorn. Every server sees real sockets: a chunked
body, a body over the limit (declared and chunked), repeated header lines and a replay.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from adapter_support import BODY, LIMIT, make_verifier, signed
from fastapi import Request as FastAPIRequest  # module level: FastAPI resolves annotations

pytestmark = [pytest.mark.extras, pytest.mark.server]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve_uvicorn(app: Any, root_path: str = "") -> Iterator[str]:
    import uvicorn

    sock = _free_socket()
    config = uvicorn.Config(
        app, lifespan="off", proxy_headers=False, log_level="warning", root_path=root_path
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serve_werkzeug(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def serve_django_runserver(app: Any) -> Iterator[str]:
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = WSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


# -- the applications ---------------------------------------------------------------------


def flask_app() -> Any:
    from flask import Flask, request

    from hookseal.contrib.flask import get_webhook, verify_webhook

    app = Flask("hookseal_e2e")

    @app.post("/hook")
    @verify_webhook(make_verifier())
    def hook() -> bytes:
        body = request.get_data()
        assert body == get_webhook().body
        return body

    return app


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from hookseal.contrib.starlette import WebhookMiddleware, get_webhook

    async def hook(request: Request) -> Response:
        body = await request.body()
        assert body == request.state.webhook.body
        assert get_webhook(request) is request.state.webhook
        return Response(body)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    app.add_middleware(WebhookMiddleware, routes={"/hook": make_verifier()})
    return app


def fastapi_app() -> Any:
    from fastapi import Depends, FastAPI, Response

    from hookseal.contrib.fastapi import get_webhook, verify_webhook

    app = FastAPI()
    dependency = verify_webhook(make_verifier())

    @app.post("/hook")
    async def hook(request: FastAPIRequest, webhook: Any = Depends(dependency)) -> Response:  # noqa: B008
        body = await request.body()
        assert body == webhook.body
        assert get_webhook(request) is webhook
        return Response(body)

    return app


def django_wsgi_app() -> Any:
    from django.core.handlers.wsgi import WSGIHandler

    return WSGIHandler()


def django_asgi_app() -> Any:
    from django.core.handlers.asgi import ASGIHandler

    return ASGIHandler()


Server = Callable[[Any], Iterator[str]]
TARGETS: dict[str, tuple[Server, Callable[[], Any], str]] = {
    "flask-werkzeug": (serve_werkzeug, flask_app, "/hook"),
    "django-wsgi-runserver": (serve_django_runserver, django_wsgi_app, "/sync"),
    "django-wsgi-werkzeug": (serve_werkzeug, django_wsgi_app, "/mw/sync"),
    "django-asgi-uvicorn": (serve_uvicorn, django_asgi_app, "/async"),
    "starlette-uvicorn": (serve_uvicorn, starlette_app, "/hook"),
    "fastapi-uvicorn": (serve_uvicorn, fastapi_app, "/hook"),
}
#: Django under WSGI reads only Content-Length bytes: a chunked body arrives empty and is
#: refused (401), never accepted or truncated. Documented in docs/frameworks/django.md.
NO_CHUNKED = {"django-wsgi-runserver", "django-wsgi-werkzeug"}


@pytest.fixture(scope="module", params=sorted(TARGETS))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str]]:
    serve, build, path = TARGETS[request.param]
    for base in serve(build()):
        yield request.param, base, path


def _chunks(body: bytes, size: int = 512) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _text(name: str, response: httpx.Response) -> str:
    if name.startswith("fastapi"):  # HTTPException: {"detail": "<generic text>"}
        detail: str = response.json()["detail"]
        return detail
    return response.text.strip()


def _refused_early(client: httpx.Client, path: str, content: Any, headers: Any) -> Any:
    """POST a body the receiver refuses before reading it all: the response, or None.

    hookseal reads no more than the limit plus one chunk. A server that then closes the
    connection with request bytes still unread makes the kernel reset it, and the client may
    see the reset instead of the 413 (a race: it happens now and then under load). Either way
    the delivery was refused; it can never be a 200.
    """
    try:
        return client.post(path, content=content, headers=headers)
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        return None


def test_end_to_end(server: tuple[str, str, str]) -> None:
    name, base, path = server
    with httpx.Client(base_url=base, timeout=10) as client:
        ok = signed()
        response = client.post(path, content=ok.body, headers=ok.headers)
        assert (response.status_code, response.content) == (200, BODY)

        replay = client.post(path, content=ok.body, headers=ok.headers)
        assert replay.status_code == 409
        assert _text(name, replay) == "webhook delivery already received"

        chunked = signed(b"k" * LIMIT)
        response = client.post(path, content=_chunks(chunked.body), headers=chunked.headers)
        if name in NO_CHUNKED:
            assert response.status_code == 401
        else:
            assert (response.status_code, response.content) == (200, chunked.body)

        big = signed(b"k" * (LIMIT * 4))
        response = _refused_early(client, path, big.body, big.headers)
        if response is not None:
            assert response.status_code == 413
            assert _text(name, response) == "webhook payload too large"

        response = _refused_early(client, path, _chunks(big.body), big.headers)
        if response is not None:
            assert response.status_code == (401 if name in NO_CHUNKED else 413)

        forged = signed(timestamp=0)
        response = client.post(path, content=forged.body, headers=forged.headers)
        assert response.status_code == 401
        assert _text(name, response) == "invalid webhook signature"
        assert "timestamp" not in response.text

        twice = signed()
        lines = [*twice.headers, ("webhook-signature", twice.header_dict()["webhook-signature"])]
        response = client.post(path, content=twice.body, headers=lines)
        assert response.status_code == 400  # repeated lines: refused even when both are genuine


# -- ASGI deployment shapes under a real uvicorn -------------------------------------------


def _reached_app_shapes(reached: list[Any]) -> dict[str, tuple[Any, str, str]]:
    """name -> (app, uvicorn root_path, path the sender posts to); handlers record arrivals."""
    from fastapi import APIRouter, FastAPI
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    from hookseal.contrib.starlette import WebhookMiddleware

    async def hook(request: Request) -> Response:
        webhook = getattr(request.state, "webhook", None)
        reached.append(webhook.msg_id if webhook else None)
        return Response(await request.body())

    async def fastapi_hook(request: FastAPIRequest) -> Response:  # resolvable annotation
        return await hook(request)

    def protected_starlette() -> Any:
        app = Starlette(routes=[Route("/hooks/a", hook, methods=["POST"])])
        app.add_middleware(WebhookMiddleware, routes={"/hooks/a": make_verifier()})
        return app

    def protected_fastapi(prefix: str = "") -> Any:
        app = FastAPI()
        router = APIRouter(prefix=prefix)
        router.post("/hooks/a")(fastapi_hook)
        app.include_router(router)
        app.add_middleware(WebhookMiddleware, routes={f"{prefix}/hooks/a": make_verifier()})
        return app

    outer_fastapi = FastAPI()
    outer_fastapi.mount("/api", protected_fastapi())
    return {
        "starlette-root-path": (protected_starlette(), "/api", "/hooks/a"),
        "fastapi-root-path-router-prefix": (protected_fastapi("/v1"), "/api", "/v1/hooks/a"),
        "starlette-mount": (
            Starlette(routes=[Mount("/api", app=protected_starlette())]),
            "",
            "/api/hooks/a",
        ),
        "fastapi-mount": (outer_fastapi, "", "/api/hooks/a"),
    }


@pytest.mark.parametrize(
    "shape",
    [
        "starlette-root-path",
        "fastapi-root-path-router-prefix",
        "starlette-mount",
        "fastapi-mount",
    ],
)
def test_uvicorn_deployment_shapes_verify_every_spelling(shape: str) -> None:
    """Mounted sub-apps and uvicorn --root-path: forged deliveries never reach the handler."""
    reached: list[Any] = []
    app, root_path, path = _reached_app_shapes(reached)[shape]
    for base in serve_uvicorn(app, root_path=root_path):
        with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as client:
            forged = signed(timestamp=0)
            for spelling in (path, path + "/", path.replace("/a", "/%61"), root_path + path):
                response = client.post(spelling, content=forged.body, headers=forged.headers)
                assert response.status_code in (401, 404), (spelling, response.status_code)
            # The request the proxy forwards (prefix stripped) and the full one both verify.
            response = client.post(path, content=forged.body, headers=forged.headers)
            assert response.status_code == 401
            assert reached == []
            genuine = signed()
            response = client.post(path, content=genuine.body, headers=genuine.headers)
            assert (response.status_code, response.content) == (200, BODY)
            assert reached == [genuine.header_dict()["webhook-id"]]


def test_uvicorn_convertor_spellings_and_template_keys_are_verified() -> None:
    """``{tenant:int}`` under uvicorn: ``/hooks/01``, ``/hooks/%30%31`` and ``/hooks/1%0A``
    are tenant 1 (literal keys) and every spelling matches a template key."""
    from adapter_support import OTHER_SECRET
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from hookseal.contrib.starlette import WebhookMiddleware

    reached: list[Any] = []

    async def hook(request: Request) -> Response:
        webhook = getattr(request.state, "webhook", None)
        reached.append((request.path_params, webhook.msg_id if webhook else None))
        return Response(await request.body())

    app = Starlette(
        routes=[
            Route("/hooks/{tenant:int}", hook, methods=["POST"]),
            Route("/tpl/{tenant:int}", hook, methods=["POST"]),
        ]
    )
    app.add_middleware(
        WebhookMiddleware,
        routes={
            "/hooks/1": make_verifier(),
            "/hooks/2": make_verifier(nonce_store=None),
            "/tpl/{tenant:int}": make_verifier(),
        },
    )
    for base in serve_uvicorn(app):
        with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as client:
            forged = signed(secret=OTHER_SECRET)
            for spelling in (
                "/hooks/01",
                "/hooks/001",
                "/hooks/%30%31",
                "/hooks/1%0A",
                "/tpl/5",
                "/tpl/005",
                "/tpl/%35%0A",
            ):
                response = client.post(spelling, content=forged.body, headers=forged.headers)
                assert response.status_code == 401, (spelling, response.status_code)
            assert reached == []
            genuine = signed()
            response = client.post("/hooks/%30%31", content=genuine.body, headers=genuine.headers)
            assert (response.status_code, response.content) == (200, BODY)
            assert reached == [({"tenant": 1}, genuine.header_dict()["webhook-id"])]


def test_uvicorn_middleware_and_equal_dependency_verifier_accept_genuine_deliveries() -> None:
    """Two distinct, equal verifiers on one store: a genuine delivery is answered 200 (it was
    409), a replay 409."""
    from fastapi import Depends, FastAPI

    from hookseal import Verified
    from hookseal.contrib.fastapi import verify_webhook
    from hookseal.contrib.starlette import WebhookMiddleware
    from hookseal.stores.memory import MemoryNonceStore

    store = MemoryNonceStore()
    app = FastAPI()
    dependency = Depends(verify_webhook(make_verifier(nonce_store=store)))

    async def endpoint(request: FastAPIRequest, hook: Any = dependency) -> Any:
        assert isinstance(hook, Verified)
        return {"same": hook is request.state.webhook, "id": hook.msg_id}

    app.post("/hooks/a")(endpoint)
    app.add_middleware(WebhookMiddleware, routes={"/hooks/a": make_verifier(nonce_store=store)})
    for base in serve_uvicorn(app):
        with httpx.Client(base_url=base, timeout=10) as client:
            genuine = signed()
            response = client.post("/hooks/a", content=genuine.body, headers=genuine.headers)
            assert response.status_code == 200, response.text
            assert response.json() == {"same": True, "id": genuine.header_dict()["webhook-id"]}
            response = client.post("/hooks/a", content=genuine.body, headers=genuine.headers)
            assert response.status_code == 409
