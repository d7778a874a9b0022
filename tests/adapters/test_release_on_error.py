"""release_on_error: when the handler fails, the sender's identical retry is accepted.

Every adapter, through its framework's own test client. The scenario: the handler crashes
(500), then answers 503, then succeeds; the same delivery is sent each time, as a sender that
retries byte-identical deliveries does (Shopify, GitHub's Redeliver). Each failure releases
the record, so each retry reaches the handler; once it succeeded, the same bytes are a
replay (409). A handler that refuses the delivery itself (an HTTP 4xx exception) keeps the
record, and so does ``release_on_error=False``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from adapter_support import Request, make_verifier, signed

from hookseal import ConfigurationError, Verified

pytestmark = pytest.mark.extras

Send = Callable[[Request], int]


def retried_until_success(send: Send, outcome: dict[str, str], calls: list[Any]) -> None:
    """Crash, 503, success, then a replay: the handler runs three times, never four."""
    req = signed()
    outcome["next"] = "crash"
    assert send(req) == 500
    outcome["next"] = "503"
    assert send(req) == 503
    outcome["next"] = "ok"
    assert send(req) == 200
    assert send(req) == 409
    msg_id = req.header_dict()["webhook-id"]
    assert calls == [msg_id] * 3


def refused_by_handler_is_kept(send: Send, outcome: dict[str, str], calls: list[Any]) -> None:
    """The handler's own 4xx is a verdict on the delivery, not a failure: no release."""
    req = signed()
    outcome["next"] = "404"
    assert send(req) == 404
    outcome["next"] = "ok"
    assert send(req) == 409
    assert len(calls) == 1


def kept_when_turned_off(send: Send, outcome: dict[str, str], calls: list[Any]) -> None:
    req = signed()
    outcome["next"] = "crash"
    assert send(req) == 500
    outcome["next"] = "ok"
    assert send(req) == 409
    assert len(calls) == 1


# -- Flask ---------------------------------------------------------------------------------


def flask_app(outcome: dict[str, str], calls: list[Any]) -> Any:
    from flask import Flask, abort, g

    from hookseal.contrib.flask import HookSeal, verify_webhook

    app = Flask("hookseal_release_tests")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500, as in production
    app.config["HOOKSEAL_VERIFIERS"] = {"ext": make_verifier()}
    extension = HookSeal(app)

    def handle() -> Any:
        calls.append(g.webhook.msg_id)
        if outcome["next"] == "crash":
            raise RuntimeError("the handler failed")
        if outcome["next"] == "404":
            abort(404)
        return ("done", 503) if outcome["next"] == "503" else "done"

    @app.post("/sync")
    @verify_webhook(make_verifier())
    def sync_view() -> Any:
        return handle()

    @app.post("/async")
    @verify_webhook(make_verifier())
    async def async_view() -> Any:
        return handle()

    @app.post("/ext")
    @extension.protect("ext")
    def ext_view() -> Any:
        return handle()

    @app.post("/keep")
    @verify_webhook(make_verifier(), release_on_error=False)
    def keep_view() -> Any:
        return handle()

    return app


def flask_sender(path: str) -> tuple[Send, dict[str, str], list[Any]]:
    outcome: dict[str, str] = {"next": "ok"}
    calls: list[Any] = []
    client = flask_app(outcome, calls).test_client()

    def send(req: Request) -> int:
        status: int = client.post(path, data=req.body, headers=req.headers).status_code
        return status

    return send, outcome, calls


@pytest.mark.parametrize("path", ["/sync", "/async", "/ext"])
def test_flask_releases_on_failure(path: str) -> None:
    retried_until_success(*flask_sender(path))


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_flask_keeps_the_record_when_the_view_refuses(path: str) -> None:
    refused_by_handler_is_kept(*flask_sender(path))


def test_flask_release_can_be_turned_off() -> None:
    kept_when_turned_off(*flask_sender("/keep"))


def test_flask_release_setting_is_validated() -> None:
    from flask import Flask

    from hookseal.contrib.flask import HookSeal, verify_webhook

    with pytest.raises(ConfigurationError, match="release_on_error"):
        verify_webhook(make_verifier(), release_on_error="yes")  # type: ignore[arg-type]
    app = Flask("hookseal_release_config")
    app.config["HOOKSEAL_RELEASE_ON_ERROR"] = 1
    with pytest.raises(ConfigurationError, match="release_on_error"):
        HookSeal(app)


# -- Starlette -----------------------------------------------------------------------------


def starlette_sender(**options: Any) -> tuple[Send, dict[str, str], list[Any]]:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import Response
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from hookseal.contrib.starlette import HookSealMiddleware

    outcome: dict[str, str] = {"next": "ok"}
    calls: list[Any] = []

    async def hook(request: StarletteRequest) -> Response:
        calls.append(request.state.webhook.msg_id)
        if outcome["next"] == "crash":
            raise RuntimeError("the handler failed")
        if outcome["next"] == "404":
            raise HTTPException(404)
        return Response(b"done", status_code=503 if outcome["next"] == "503" else 200)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    app.add_middleware(HookSealMiddleware, routes={"/hook": make_verifier()}, **options)
    client = TestClient(app, raise_server_exceptions=False)

    def send(req: Request) -> int:
        return client.post("/hook", content=req.body, headers=req.headers).status_code

    return send, outcome, calls


def test_starlette_releases_on_failure() -> None:
    retried_until_success(*starlette_sender())


def test_starlette_keeps_the_record_when_the_app_refuses() -> None:
    refused_by_handler_is_kept(*starlette_sender())


def test_starlette_release_can_be_turned_off() -> None:
    kept_when_turned_off(*starlette_sender(release_on_error=False))


def test_starlette_releases_when_the_app_answers_nothing() -> None:
    from hookseal.contrib.starlette import HookSealMiddleware

    verifier = make_verifier()
    runs: list[str] = []

    async def silent_app(scope: Any, receive: Any, send: Any) -> None:
        runs.append(scope["state"]["webhook"].msg_id)

    middleware = HookSealMiddleware(silent_app, routes={"/hook": verifier})
    req = signed()

    async def deliver() -> list[int]:
        sent: list[Any] = []
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": req.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/hook",
            "headers": [(k.lower().encode(), v.encode()) for k, v in req.headers],
            "client": ("127.0.0.1", 50000),
        }
        await middleware(scope, receive, send)
        return [m["status"] for m in sent if m["type"] == "http.response.start"]

    assert asyncio.run(deliver()) == []  # the app answered nothing: released
    assert asyncio.run(deliver()) == []  # so the retry reached it again
    assert len(runs) == 2


# -- FastAPI -------------------------------------------------------------------------------


def fastapi_sender(
    *, middleware: bool = False, **options: Any
) -> tuple[Send, dict[str, str], list[Any]]:
    from fastapi import Depends, FastAPI, HTTPException, Response
    from fastapi.testclient import TestClient

    from hookseal.contrib.fastapi import verified_webhook
    from hookseal.contrib.starlette import HookSealMiddleware

    outcome: dict[str, str] = {"next": "ok"}
    calls: list[Any] = []
    verifier = make_verifier()
    app = FastAPI()

    async def hook(webhook: Verified) -> Response:
        calls.append(webhook.msg_id)
        if outcome["next"] == "crash":
            raise RuntimeError("the handler failed")
        if outcome["next"] == "404":
            raise HTTPException(404)
        return Response(b"done", status_code=503 if outcome["next"] == "503" else 200)

    # Real objects, not the strings `from __future__ import annotations` leaves behind.
    dependency = Depends(verified_webhook(verifier, **options))
    hook.__annotations__ = {"webhook": Annotated[Verified, dependency], "return": Response}
    app.post("/hook")(hook)

    if middleware:
        app.add_middleware(HookSealMiddleware, routes={"/hook": verifier})
    client = TestClient(app, raise_server_exceptions=False)

    def send(req: Request) -> int:
        return client.post("/hook", content=req.body, headers=req.headers).status_code

    return send, outcome, calls


def test_fastapi_dependency_releases_when_the_endpoint_raises() -> None:
    send, outcome, calls = fastapi_sender()
    req = signed()
    outcome["next"] = "crash"
    assert send(req) == 500
    outcome["next"] = "ok"
    assert send(req) == 200
    assert send(req) == 409
    assert len(calls) == 2


def test_fastapi_dependency_cannot_see_a_returned_5xx() -> None:
    """Documented: a dependency sees exceptions, not responses; the middleware sees both."""
    send, outcome, calls = fastapi_sender()
    req = signed()
    outcome["next"] = "503"
    assert send(req) == 503
    outcome["next"] = "ok"
    assert send(req) == 409
    assert len(calls) == 1


def test_fastapi_behind_the_middleware_releases_on_any_failure() -> None:
    retried_until_success(*fastapi_sender(middleware=True))


def test_fastapi_keeps_the_record_when_the_endpoint_refuses() -> None:
    refused_by_handler_is_kept(*fastapi_sender())


def test_fastapi_release_can_be_turned_off() -> None:
    kept_when_turned_off(*fastapi_sender(release_on_error=False))


# -- Django --------------------------------------------------------------------------------


def django_sender(
    path: str, *, asynchronous: bool = False
) -> tuple[Send, dict[str, str], list[Any]]:
    import hookseal_django_urls as urls
    from django.test import AsyncClient, Client

    urls.CALLS.clear()
    urls.OUTCOME["next"] = "ok"

    def split(req: Request) -> tuple[str, dict[str, str]]:
        headers = dict(req.headers)
        return headers.pop("Content-Type", "application/octet-stream"), headers

    def send(req: Request) -> int:
        content_type, headers = split(req)
        if asynchronous:
            client = AsyncClient(raise_request_exception=False)
            response = asyncio.run(
                client.post(path, data=req.body, content_type=content_type, headers=headers)
            )
        else:
            response = Client(raise_request_exception=False).post(
                path, data=req.body, content_type=content_type, headers=headers
            )
        status: int = response.status_code
        return status

    return send, urls.OUTCOME, urls.CALLS


DJANGO_RELEASING = [
    ("/release/sync", False),
    ("/release/async", True),
    ("/release/sync", True),
    ("/mw/release-sync", False),
    ("/mw/release-async", True),
]
DJANGO_IDS = ["view-sync", "view-async", "view-sync-asgi", "middleware-wsgi", "middleware-asgi"]


@pytest.mark.parametrize(("path", "asynchronous"), DJANGO_RELEASING, ids=DJANGO_IDS)
def test_django_releases_on_failure(path: str, asynchronous: bool) -> None:
    retried_until_success(*django_sender(path, asynchronous=asynchronous))


@pytest.mark.parametrize(("path", "asynchronous"), DJANGO_RELEASING, ids=DJANGO_IDS)
def test_django_keeps_the_record_when_the_view_refuses(path: str, asynchronous: bool) -> None:
    refused_by_handler_is_kept(*django_sender(path, asynchronous=asynchronous))


def test_django_release_can_be_turned_off() -> None:
    kept_when_turned_off(*django_sender("/release/keep"))


def test_django_release_settings_are_validated() -> None:
    from django.test import override_settings

    from hookseal.contrib.django import HookSealMiddleware, webhook_view

    with pytest.raises(ConfigurationError, match="release_on_error"):
        webhook_view(make_verifier(), release_on_error=None)  # type: ignore[arg-type]
    with (
        override_settings(HOOKSEAL_RELEASE_ON_ERROR="no"),
        pytest.raises(ConfigurationError, match="release_on_error"),
    ):
        HookSealMiddleware(lambda request: None)
