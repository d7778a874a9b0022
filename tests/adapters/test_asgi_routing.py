"""HookSealMiddleware protects what the router routes to, in every deployment shape.

A forged delivery must never reach a protected endpoint, whatever spelling of its path the
request uses: mounted Starlette and FastAPI sub-apps, ``root_path`` from the server or from
``FastAPI(root_path=...)``, ``APIRouter(prefix=...)``, trailing and repeated slashes
(``redirect_slashes``), percent-escapes. (Real uvicorn with ``--root-path``: test_servers.py.)
"""

# No "from __future__ import annotations": FastAPI resolves endpoint annotations at runtime.

import asyncio
import warnings
from typing import Any

import pytest
from adapter_support import BODY, make_verifier, signed
from fastapi import APIRouter, FastAPI
from fastapi import Request as FastAPIRequest
from fastapi.exceptions import FastAPIDeprecationWarning
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from hookseal import ConfigurationError
from hookseal.contrib.starlette import HookSealMiddleware

pytestmark = pytest.mark.extras

PEER = ("127.0.0.1", 50000)


class Calls:
    """What reached the handler: the verified message id, or None when unverified."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    async def starlette(self, request: Request) -> Response:
        webhook = getattr(request.state, "webhook", None)
        self.seen.append(webhook.msg_id if webhook else None)
        return Response(await request.body())

    async def fastapi(self, request: FastAPIRequest) -> Response:
        return await self.starlette(request)


def _protected_sub_starlette(calls: Calls, route: str = "/hooks/a") -> Starlette:
    sub = Starlette(routes=[Route(route, calls.starlette, methods=["POST"])])
    sub.add_middleware(HookSealMiddleware, routes={"/hooks/a": make_verifier()})
    return sub


def _protected_sub_fastapi(calls: Calls) -> FastAPI:
    sub = FastAPI()
    sub.post("/hooks/a")(calls.fastapi)
    sub.add_middleware(HookSealMiddleware, routes={"/hooks/a": make_verifier()})
    return sub


def shapes() -> dict[str, tuple[Any, str, dict[str, Any]]]:
    """name -> (app builder, path the sender posts to, TestClient options)."""

    def mounted_starlette(calls: Calls) -> Any:
        return Starlette(routes=[Mount("/api", app=_protected_sub_starlette(calls))])

    def mounted_fastapi(calls: Calls) -> Any:
        outer = FastAPI()
        outer.mount("/api", _protected_sub_fastapi(calls))
        return outer

    def nested_mounts(calls: Calls) -> Any:
        inner = Starlette(routes=[Mount("/v1", app=_protected_sub_starlette(calls))])
        return Starlette(routes=[Mount("/api", app=inner)])

    def old_fastapi(**options: Any) -> FastAPI:
        with warnings.catch_warnings():  # deprecated, still deployed
            warnings.simplefilter("ignore", FastAPIDeprecationWarning)
            return FastAPI(**options)

    def fastapi_root_path(calls: Calls) -> Any:
        app = old_fastapi(root_path="/api")
        app.post("/hooks/a")(calls.fastapi)
        app.add_middleware(HookSealMiddleware, routes={"/hooks/a": make_verifier()})
        return app

    def server_root_path(calls: Calls) -> Any:
        return _protected_sub_starlette(calls)  # TestClient(root_path=...) acts as the server

    def api_router_prefix(calls: Calls) -> Any:
        app = old_fastapi(root_path="/api")
        router = APIRouter(prefix="/v1")
        router.post("/hooks/a")(calls.fastapi)
        app.include_router(router)
        app.add_middleware(HookSealMiddleware, routes={"/v1/hooks/a": make_verifier()})
        return app

    def slash_route(calls: Calls) -> Any:
        # The route is declared with a trailing slash; the key without one.
        return _protected_sub_starlette(calls, route="/hooks/a/")

    return {
        "mounted-starlette": (mounted_starlette, "/api/hooks/a", {}),
        "mounted-fastapi": (mounted_fastapi, "/api/hooks/a", {}),
        "nested-mounts": (nested_mounts, "/api/v1/hooks/a", {}),
        "fastapi-root-path": (fastapi_root_path, "/api/hooks/a", {}),
        "server-root-path": (server_root_path, "/hooks/a", {"root_path": "/api"}),
        "api-router-prefix": (api_router_prefix, "/api/v1/hooks/a", {}),
        "route-with-slash": (slash_route, "/hooks/a/", {}),
    }


SHAPES = shapes()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_forged_delivery_never_reaches_the_handler(shape: str) -> None:
    build, path, options = SHAPES[shape]
    calls = Calls()
    client = TestClient(build(calls), client=PEER, **options)
    forged = signed(timestamp=0)
    response = client.post(path, content=forged.body, headers=forged.headers)
    assert response.status_code == 401, (shape, response.status_code)
    assert calls.seen == []


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_genuine_delivery_is_verified_in_every_shape(shape: str) -> None:
    build, path, options = SHAPES[shape]
    calls = Calls()
    client = TestClient(build(calls), client=PEER, **options)
    genuine = signed()
    response = client.post(path, content=genuine.body, headers=genuine.headers)
    assert (response.status_code, response.content) == (200, BODY)
    assert calls.seen == [genuine.header_dict()["webhook-id"]]


def _plain_app(calls: Calls) -> Starlette:
    app = Starlette(
        routes=[
            Route("/hooks/a", calls.starlette, methods=["POST"]),
            Route("/other", calls.starlette, methods=["POST"]),
        ]
    )
    app.add_middleware(HookSealMiddleware, routes={"/hooks/a": make_verifier()})
    return app


@pytest.mark.parametrize(
    "spelling",
    ["/hooks/a/", "/hooks//a", "/hooks/%61", "/hooks/a%2F", "/%68ooks/a//"],
)
def test_other_spellings_of_a_protected_path_are_verified(spelling: str) -> None:
    calls = Calls()
    client = TestClient(_plain_app(calls), client=PEER, follow_redirects=False)
    forged = signed(timestamp=0)
    response = client.post(spelling, content=forged.body, headers=forged.headers)
    assert response.status_code == 401  # not a redirect, not the handler
    assert calls.seen == []


@pytest.mark.parametrize(
    ("path", "root_path"),
    [
        ("//hooks/a", ""),
        ("/hooks/a/", ""),
        ("/hooks/%61", ""),  # a path still holding an escape: an inner app may decode it
        ("/api/hooks/a", "/api"),
        ("/api/hooks/a/", "/api"),
        ("/api//hooks/a", "/api"),
        ("/hooks/a", "/api"),  # older Starlette: mounted child path without the prefix
    ],
)
def test_scope_spellings_are_verified(path: str, root_path: str) -> None:
    """Spellings a test client cannot send, given to the middleware as raw ASGI scopes."""
    reached: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        reached.append(scope["path"])

    middleware = HookSealMiddleware(app, routes={"/hooks/a": make_verifier()})
    forged = signed(timestamp=0)
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": forged.body, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "root_path": root_path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in forged.headers],
        "client": PEER,
    }
    asyncio.run(middleware(scope, receive, send))
    assert reached == []
    assert sent[0]["status"] == 401


def test_unprotected_paths_still_pass_through() -> None:
    calls = Calls()
    client = TestClient(_plain_app(calls), client=PEER)
    assert client.post("/other", content=b"x").content == b"x"
    assert calls.seen == [None]


def test_key_given_as_the_full_external_path_also_protects() -> None:
    # A sub-app whose key spells the path with its mount prefix: still protected.
    calls = Calls()
    sub = Starlette(routes=[Route("/hooks/a", calls.starlette, methods=["POST"])])
    sub.add_middleware(HookSealMiddleware, routes={"/api/hooks/a": make_verifier()})
    client = TestClient(Starlette(routes=[Mount("/api", app=sub)]), client=PEER)
    forged = signed(timestamp=0)
    assert client.post("/api/hooks/a", content=forged.body, headers=forged.headers).status_code == (
        401
    )
    assert calls.seen == []


def test_spellings_of_one_path_must_share_a_verifier() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        pass

    with pytest.raises(ConfigurationError, match="same path"):
        HookSealMiddleware(app, routes={"/h": make_verifier(), "/h/": make_verifier()})
    verifier = make_verifier()
    HookSealMiddleware(app, routes={"/h": verifier, "/h/": verifier})


def test_routes_are_read_only() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        pass

    middleware = HookSealMiddleware(app, routes={"/h": make_verifier()})
    with pytest.raises((AttributeError, TypeError)):
        middleware.routes = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        middleware.routes["/x"] = make_verifier()  # type: ignore[index]
    with pytest.raises(AttributeError):
        middleware.public_url = "https://elsewhere.example"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/api/hooks/a", "/api", "/hooks/a"),
        ("/api", "/api", ""),
        ("/apix/hooks", "/api", "/apix/hooks"),
        ("/hooks/a", "/api", "/hooks/a"),  # older Starlette: a child path without the prefix
        ("/hooks/a", "", "/hooks/a"),
    ],
)
def test_route_path_matches_starlette(path: str, root_path: str, expected: str) -> None:
    from starlette._utils import get_route_path

    from hookseal.contrib.starlette import route_path

    scope = {"type": "http", "path": path, "root_path": root_path}
    assert route_path(scope) == expected == get_route_path(scope)
