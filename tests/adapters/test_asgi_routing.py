"""WebhookMiddleware protects what the router routes to, in every deployment shape.

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
from adapter_support import BODY, OTHER_SECRET, make_verifier, signed
from fastapi import APIRouter, FastAPI
from fastapi import Request as FastAPIRequest
from fastapi.exceptions import FastAPIDeprecationWarning
from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from hookseal import ConfigurationError
from hookseal.contrib.starlette import WebhookMiddleware

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
    sub.add_middleware(WebhookMiddleware, routes={"/hooks/a": make_verifier()})
    return sub


def _protected_sub_fastapi(calls: Calls) -> FastAPI:
    sub = FastAPI()
    sub.post("/hooks/a")(calls.fastapi)
    sub.add_middleware(WebhookMiddleware, routes={"/hooks/a": make_verifier()})
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
        app.add_middleware(WebhookMiddleware, routes={"/hooks/a": make_verifier()})
        return app

    def server_root_path(calls: Calls) -> Any:
        return _protected_sub_starlette(calls)  # TestClient(root_path=...) acts as the server

    def api_router_prefix(calls: Calls) -> Any:
        app = old_fastapi(root_path="/api")
        router = APIRouter(prefix="/v1")
        router.post("/hooks/a")(calls.fastapi)
        app.include_router(router)
        app.add_middleware(WebhookMiddleware, routes={"/v1/hooks/a": make_verifier()})
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
    app.add_middleware(WebhookMiddleware, routes={"/hooks/a": make_verifier()})
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

    middleware = WebhookMiddleware(app, routes={"/hooks/a": make_verifier()})
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
    sub.add_middleware(WebhookMiddleware, routes={"/api/hooks/a": make_verifier()})
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
        WebhookMiddleware(app, routes={"/h": make_verifier(), "/h/": make_verifier()})
    verifier = make_verifier()
    WebhookMiddleware(app, routes={"/h": verifier, "/h/": verifier})


def test_routes_are_read_only() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        pass

    middleware = WebhookMiddleware(app, routes={"/h": make_verifier()})
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

    from hookseal.contrib._asgi import route_path

    scope = {"type": "http", "path": path, "root_path": root_path}
    assert route_path(scope) == expected == get_route_path(scope)


# -- path convertors: every spelling of a protected parameter value is verified --------------

TENANT_2_SECRET = OTHER_SECRET  # tenant 2's secret: a valid signature, but not tenant 1's


def _tenant_verifiers() -> dict[str, Any]:
    return {"one": make_verifier(), "two": make_verifier(nonce_store=None)}


class HexConvertor(Convertor[int]):
    """A custom convertor: hexadecimal, any case, leading zeros allowed."""

    regex = "[0-9a-fA-F]+"

    def convert(self, value: str) -> int:
        return int(value, 16)

    def to_string(self, value: int) -> str:
        return f"{value:x}"


register_url_convertor("hookseal_test_hex", HexConvertor())

UUID_1 = "abcdef01-2345-6789-abcd-ef0123456789"

# name -> (routes of the app, protected key of tenant 1, key of tenant 2, other spellings of
# tenant 1's key that Starlette routes to the same endpoint with the same parameter values)
CONVERTOR_CASES: dict[str, tuple[Any, str, str, list[str]]] = {
    "int": (
        lambda h: [Route("/hooks/{tenant:int}", h, methods=["POST"])],
        "/hooks/1",
        "/hooks/2",
        ["/hooks/01", "/hooks/001", "/hooks/%30%31", "/hooks/1%0A", "/hooks/01/"],
    ),
    "float": (
        lambda h: [Route("/hooks/{tenant:float}", h, methods=["POST"])],
        "/hooks/1.5",
        "/hooks/2",
        ["/hooks/01.5", "/hooks/1.50", "/hooks/1.500000000000000001"],
    ),
    "uuid": (
        lambda h: [Route("/hooks/{tenant:uuid}", h, methods=["POST"])],
        f"/hooks/{UUID_1}",
        "/hooks/00000000-0000-0000-0000-000000000002",
        [f"/hooks/{UUID_1.upper()}", f"/hooks/{UUID_1.replace('-', '')}"],
    ),
    "custom": (
        lambda h: [Route("/hooks/{tenant:hookseal_test_hex}", h, methods=["POST"])],
        "/hooks/ff",
        "/hooks/2",
        ["/hooks/FF", "/hooks/0ff", "/hooks/00Ff"],
    ),
    "mount-param": (
        lambda h: [Mount("/t/{tenant:int}", routes=[Route("/hooks", h, methods=["POST"])])],
        "/t/1/hooks",
        "/t/2/hooks",
        ["/t/01/hooks", "/t/%30%31/hooks", "/t/1/hooks/"],
    ),
    "mounted-app": (
        lambda h: [
            Mount("/api", app=Starlette(routes=[Route("/hooks/{tenant:int}", h, methods=["POST"])]))
        ],
        "/api/hooks/1",
        "/api/hooks/2",
        ["/api/hooks/01", "/api//hooks/001"],
    ),
}


@pytest.mark.parametrize("case", sorted(CONVERTOR_CASES))
def test_literal_keys_cover_every_convertor_spelling(case: str) -> None:
    """``/hooks/01`` is tenant 1 for ``{tenant:int}``: it is verified with tenant 1's verifier.

    Before, the middleware matched the literal ``/hooks/1`` only, and the other spellings
    reached the handler unverified (200, no ``request.state.webhook``).
    """
    routes, key_one, key_two, spellings = CONVERTOR_CASES[case]
    calls = Calls()
    verifiers = _tenant_verifiers()
    app = Starlette(routes=routes(calls.starlette))
    app.add_middleware(
        WebhookMiddleware, routes={key_one: verifiers["one"], key_two: verifiers["two"]}
    )
    client = TestClient(app, client=PEER, follow_redirects=False)
    for spelling in spellings:
        forged = signed(secret=TENANT_2_SECRET)  # genuine for tenant 2, forged for tenant 1
        response = client.post(spelling, content=forged.body, headers=forged.headers)
        assert response.status_code == 401, (spelling, response.status_code, response.text)
    assert calls.seen == []
    genuine = signed()
    response = client.post(spellings[0], content=genuine.body, headers=genuine.headers)
    assert (response.status_code, response.content) == (200, BODY)
    assert calls.seen == [genuine.header_dict()["webhook-id"]]


def test_literal_route_with_a_trailing_newline_is_verified() -> None:
    """Starlette's patterns end in ``$``, which also matches before one final newline."""
    calls = Calls()
    app = Starlette(routes=[Route("/hooks/a", calls.starlette, methods=["POST"])])
    app.add_middleware(WebhookMiddleware, routes={"/hooks/a": make_verifier()})
    client = TestClient(app, client=PEER, follow_redirects=False)
    forged = signed(secret=OTHER_SECRET)
    for spelling in ("/hooks/a%0A", "/hooks/a%0a/", "/hooks/%61%0A"):
        response = client.post(spelling, content=forged.body, headers=forged.headers)
        assert response.status_code == 401, spelling
    assert calls.seen == []


@pytest.mark.parametrize(
    "template",
    ["/hooks/{tenant:int}", "/hooks/{tenant:int}/", "/hooks/{tenant}"],
)
def test_template_key_protects_every_path_the_route_matches(template: str) -> None:
    """A key that is the route's own template is matched exactly as Starlette matches it."""
    calls = Calls()
    app = Starlette(routes=[Route("/hooks/{tenant:int}", calls.starlette, methods=["POST"])])
    app.add_middleware(WebhookMiddleware, routes={template: make_verifier()})
    client = TestClient(app, client=PEER, follow_redirects=False)
    forged = signed(secret=OTHER_SECRET)
    for spelling in ("/hooks/7", "/hooks/007", "/hooks/%37", "/hooks/7/", "/hooks/7%0A"):
        response = client.post(spelling, content=forged.body, headers=forged.headers)
        assert response.status_code == 401, spelling
    assert calls.seen == []
    genuine = signed()
    response = client.post("/hooks/0042", content=genuine.body, headers=genuine.headers)
    assert response.status_code == 200
    assert calls.seen == [genuine.header_dict()["webhook-id"]]
    # Paths the template does not match pass through.
    assert client.post("/other", content=b"x").status_code == 404


@pytest.mark.parametrize("template", ["/hooks/{tenant:nope}", "/hooks/{a}/{a}"])
def test_template_key_starlette_refuses_is_a_configuration_error(template: str) -> None:
    with pytest.raises(ConfigurationError, match="template"):
        WebhookMiddleware(Starlette(), routes={template: make_verifier()})


def test_literal_key_to_a_typed_fastapi_parameter_is_a_configuration_error() -> None:
    """FastAPI validates ``tenant: int`` with pydantic (``01``, ``+1``, ``1.0``, `` 1``): the
    literal ``/hooks/1`` cannot cover them, so the middleware refuses to run; the template
    key protects every spelling."""
    calls = Calls()

    def build(key: str) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{tenant}")
        async def hook(tenant: int, request: FastAPIRequest) -> Response:
            return await calls.fastapi(request)

        app.add_middleware(WebhookMiddleware, routes={key: make_verifier()})
        return app

    literal = TestClient(build("/hooks/1"), client=PEER, raise_server_exceptions=True)
    forged = signed(secret=OTHER_SECRET)
    with pytest.raises(ConfigurationError, match=r"Key the template '/hooks/\{tenant\}'"):
        literal.post("/hooks/01", content=forged.body, headers=forged.headers)
    with pytest.raises(ConfigurationError):  # every request, until the key is fixed
        literal.post("/hooks/1", content=forged.body, headers=forged.headers)
    templated = TestClient(build("/hooks/{tenant}"), client=PEER)
    for spelling in ("/hooks/1", "/hooks/01", "/hooks/+1", "/hooks/1.0", "/hooks/%201"):
        response = templated.post(spelling, content=forged.body, headers=forged.headers)
        assert response.status_code == 401, spelling
    assert calls.seen == []
