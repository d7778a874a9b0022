"""release_on_error: when the handler fails, the sender's identical retry is accepted.

Every adapter, through its framework's own test client. The scenario: the handler crashes
(500), then answers 503, then succeeds; the same delivery is sent each time, as a sender that
retries byte-identical deliveries does (Shopify, GitHub's Redeliver). Each failure releases
the record, so each retry reaches the handler; once it succeeded, the same bytes are a
replay (409). A handler that refuses the delivery itself (an HTTP 4xx) keeps the record, and
so does an adapter told ``release_on_error=False``; releasing is on by default, bounded by the
verifier's ``max_releases`` (counted in the store).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from adapter_support import Request, make_verifier, signed

from hookseal import ConfigurationError, Verified
from hookseal.stores.memory import MemoryNonceStore

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


def kept_after(
    send: Send, outcome: dict[str, str], calls: list[Any], first: str, status: int
) -> None:
    """The first attempt ends with ``status``; the record stays, so the retry is a replay."""
    req = signed()
    outcome["next"] = first
    assert send(req) == status
    outcome["next"] = "ok"
    assert send(req) == 409
    assert len(calls) == 1


def refused_by_handler_is_kept(send: Send, outcome: dict[str, str], calls: list[Any]) -> None:
    """The handler's own 4xx is a verdict on the delivery, not a failure: no release."""
    kept_after(send, outcome, calls, "404", 404)


def kept_when_opted_out(send: Send, outcome: dict[str, str], calls: list[Any]) -> None:
    kept_after(send, outcome, calls, "crash", 500)


def released_at_most_max_releases(send: Send, outcome: dict[str, str], calls: list[Any]) -> None:
    """A poison delivery (the handler always crashes) runs 1 + max_releases times, no more."""
    req = signed()
    outcome["next"] = "crash"
    statuses = [send(req) for _ in range(6)]
    assert statuses == [500] * 4 + [409] * 2  # make_verifier(): max_releases=3 (the default)
    assert len(calls) == 4


# -- Flask ---------------------------------------------------------------------------------


class Refused(Exception):
    """An application exception that an error handler answers with 422."""


def flask_app(outcome: dict[str, str], calls: list[Any]) -> Any:
    from flask import Flask, abort, g, make_response

    from hookseal.contrib.flask import HookSeal, verify_webhook

    app = Flask("hookseal_release_tests")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500, as in production
    app.config["HOOKSEAL_VERIFIERS"] = {"ext": make_verifier()}
    app.config["HOOKSEAL_RELEASE_ON_ERROR"] = True
    extension = HookSeal(app)

    @app.errorhandler(Refused)
    def refused(error: Refused) -> Any:
        return "unprocessable", 422

    def handle() -> Any:
        calls.append(g.webhook.msg_id)
        if outcome["next"] == "crash":
            raise RuntimeError("the handler failed")
        if outcome["next"] == "404":
            abort(404)
        if outcome["next"] == "400-response":
            abort(make_response("bad order", 400))  # an HTTPException whose code is None
        if outcome["next"] == "422-handler":
            raise Refused
        return ("done", 503) if outcome["next"] == "503" else "done"

    @app.post("/sync")
    @verify_webhook(make_verifier(), release_on_error=True)
    def sync_view() -> Any:
        return handle()

    @app.post("/async")
    @verify_webhook(make_verifier(), release_on_error=True)
    async def async_view() -> Any:
        return handle()

    @app.post("/ext")
    @extension.protect("ext")
    def ext_view() -> Any:
        return handle()

    @app.post("/default")
    @verify_webhook(make_verifier())
    def default_view() -> Any:
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


@pytest.mark.parametrize(("outcome", "status"), [("400-response", 400), ("422-handler", 422)])
def test_flask_judges_the_final_response(outcome: str, status: int) -> None:
    """abort(Response) and an errorhandler's 4xx are verdicts, not failures: kept."""
    kept_after(*flask_sender("/sync"), outcome, status)


def test_flask_releases_by_default_and_bounded() -> None:
    retried_until_success(*flask_sender("/default"))
    released_at_most_max_releases(*flask_sender("/default"))


def test_flask_keeps_the_record_when_opted_out() -> None:
    kept_when_opted_out(*flask_sender("/keep"))


def test_flask_view_result_is_untouched() -> None:
    """The decorator hands back whatever the view returned (no conversion on the way)."""
    from flask import Flask

    from hookseal.contrib.flask import verify_webhook

    app = Flask("hookseal_release_passthrough")
    sentinel = ("body", 201, {"X-Test": "1"})

    @verify_webhook(make_verifier(), release_on_error=True)
    def view() -> Any:
        return sentinel

    req = signed()
    with app.test_request_context("/", method="POST", data=req.body, headers=req.headers):
        assert view() is sentinel


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
    from starlette.background import BackgroundTask
    from starlette.exceptions import HTTPException
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import Response
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from hookseal.contrib.starlette import WebhookMiddleware

    outcome: dict[str, str] = {"next": "ok"}
    calls: list[Any] = []

    def fail_later() -> None:
        raise RuntimeError("the background task failed after the 200 was sent")

    async def hook(request: StarletteRequest) -> Response:
        calls.append(request.state.webhook.msg_id)
        if outcome["next"] == "crash":
            raise RuntimeError("the handler failed")
        if outcome["next"] == "404":
            raise HTTPException(404)
        if outcome["next"] == "200-then-crash":
            return Response(b"done", background=BackgroundTask(fail_later))
        return Response(b"done", status_code=503 if outcome["next"] == "503" else 200)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    app.add_middleware(WebhookMiddleware, routes={"/hook": make_verifier()}, **options)
    client = TestClient(app, raise_server_exceptions=False)

    def send(req: Request) -> int:
        return client.post("/hook", content=req.body, headers=req.headers).status_code

    return send, outcome, calls


def test_starlette_releases_on_failure() -> None:
    retried_until_success(*starlette_sender(release_on_error=True))


def test_starlette_keeps_the_record_when_the_app_refuses() -> None:
    refused_by_handler_is_kept(*starlette_sender(release_on_error=True))


def test_starlette_releases_by_default_and_bounded() -> None:
    retried_until_success(*starlette_sender())
    released_at_most_max_releases(*starlette_sender())


def test_starlette_keeps_the_record_when_opted_out() -> None:
    kept_when_opted_out(*starlette_sender(release_on_error=False))


def test_starlette_keeps_the_record_when_a_failure_follows_a_200() -> None:
    """The sender saw success and will not retry: a later failure must not reopen the bytes."""
    kept_after(*starlette_sender(release_on_error=True), "200-then-crash", 200)


def asgi_delivery(middleware: Any, req: Request) -> list[dict[str, Any]]:
    """Send ``req`` straight through ``middleware`` (no test client); return what it sent."""

    async def deliver() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
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
        return sent

    return asyncio.run(deliver())


def test_starlette_releases_before_the_5xx_reaches_the_sender() -> None:
    """A sender retrying at once, as soon as it reads the 503, must find the record gone."""
    from hookseal.contrib.starlette import WebhookMiddleware

    store = MemoryNonceStore()
    held_when_answered: list[int] = []

    async def failing_app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b"busy"})

    async def recording_send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            held_when_answered.append(len(store))

    middleware = WebhookMiddleware(
        failing_app, routes={"/hook": make_verifier(nonce_store=store)}, release_on_error=True
    )

    async def outer(scope: Any, receive: Any, send: Any) -> None:
        async def both(message: dict[str, Any]) -> None:
            await recording_send(message)
            await send(message)

        await middleware(scope, receive, both)

    req = signed()
    sent = asgi_delivery(outer, req)
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [503]
    assert held_when_answered == [0]


def test_starlette_releases_when_the_app_answers_nothing_or_is_cancelled() -> None:
    from hookseal.contrib.starlette import WebhookMiddleware

    runs: list[str] = []
    mode = {"cancel": False}

    async def silent_app(scope: Any, receive: Any, send: Any) -> None:
        runs.append(scope["state"]["webhook"].msg_id)
        if mode["cancel"]:
            raise asyncio.CancelledError

    verifier = make_verifier()
    middleware = WebhookMiddleware(silent_app, routes={"/hook": verifier}, release_on_error=True)
    req = signed()
    assert asgi_delivery(middleware, req) == []  # nothing answered: released
    mode["cancel"] = True
    with pytest.raises(asyncio.CancelledError):
        asgi_delivery(middleware, req)  # so the retry ran; cancelled before answering
    mode["cancel"] = False
    assert asgi_delivery(middleware, req) == []  # released again: the retry ran again
    assert len(runs) == 3


# -- FastAPI -------------------------------------------------------------------------------


def fastapi_sender(
    *, middleware: bool = False, release_on_error: bool = True
) -> tuple[Send, dict[str, str], list[Any]]:
    from fastapi import Depends, FastAPI, HTTPException, Response
    from fastapi.testclient import TestClient

    from hookseal.contrib.fastapi import verify_webhook
    from hookseal.contrib.starlette import WebhookMiddleware

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
    dependency = Depends(verify_webhook(verifier, release_on_error=release_on_error))
    hook.__annotations__ = {"webhook": Annotated[Verified, dependency], "return": Response}
    app.post("/hook")(hook)
    if middleware:
        app.add_middleware(WebhookMiddleware, routes={"/hook": verifier}, release_on_error=True)
    client = TestClient(app, raise_server_exceptions=False)

    def send(req: Request) -> int:
        return client.post("/hook", content=req.body, headers=req.headers).status_code

    return send, outcome, calls


def test_fastapi_dependency_releases_when_the_endpoint_raises() -> None:
    """The dependency sees exceptions (not a 5xx the endpoint returns: documented)."""
    send, outcome, calls = fastapi_sender()
    req = signed()
    outcome["next"] = "crash"
    assert send(req) == 500
    assert send(req) == 500
    outcome["next"] = "ok"
    assert send(req) == 200
    assert send(req) == 409
    assert len(calls) == 3
    released_at_most_max_releases(*fastapi_sender())


def test_fastapi_dependency_keeps_the_record_when_the_endpoint_refuses() -> None:
    refused_by_handler_is_kept(*fastapi_sender())


def test_fastapi_dependency_keeps_the_record_when_opted_out() -> None:
    kept_when_opted_out(*fastapi_sender(release_on_error=False))


def test_fastapi_behind_the_middleware_releases_on_failure() -> None:
    retried_until_success(*fastapi_sender(middleware=True))


def test_fastapi_behind_the_middleware_keeps_the_record_when_the_endpoint_refuses() -> None:
    refused_by_handler_is_kept(*fastapi_sender(middleware=True))


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


def test_django_releases_by_default_and_bounded() -> None:
    retried_until_success(*django_sender("/release/default"))
    released_at_most_max_releases(*django_sender("/release/default"))


def test_django_keeps_the_record_when_opted_out() -> None:
    kept_when_opted_out(*django_sender("/release/keep"))


@pytest.mark.parametrize(("path", "asynchronous"), DJANGO_RELEASING, ids=DJANGO_IDS)
def test_django_keeps_the_record_on_a_multipart_error(path: str, asynchronous: bool) -> None:
    """Django answers MultiPartParserError with 400: a verdict, not a failure."""
    kept_after(*django_sender(path, asynchronous=asynchronous), "400", 400)


def test_django_release_settings_are_validated() -> None:
    from django.test import override_settings

    from hookseal.contrib.django import WebhookMiddleware, verify_webhook

    with pytest.raises(ConfigurationError, match="release_on_error"):
        verify_webhook(make_verifier(), release_on_error=None)  # type: ignore[arg-type]
    with (
        override_settings(HOOKSEAL_RELEASE_ON_ERROR="no"),
        pytest.raises(ConfigurationError, match="release_on_error"),
    ):
        WebhookMiddleware(lambda request: None)


# -- through real servers on 127.0.0.1 -----------------------------------------------------


@pytest.mark.server
@pytest.mark.parametrize("framework", ["starlette-uvicorn", "flask-werkzeug"])
def test_identical_retry_through_a_real_server(framework: str) -> None:
    """A Shopify-style sender over real sockets: crash 500, identical retry 200, then 409."""
    import contextlib

    import httpx
    from test_servers import serve_uvicorn, serve_werkzeug

    outcome: dict[str, str] = {"next": "crash"}
    calls: list[Any] = []
    if framework == "starlette-uvicorn":
        from starlette.applications import Starlette
        from starlette.requests import Request as StarletteRequest
        from starlette.responses import Response
        from starlette.routing import Route

        from hookseal.contrib.starlette import WebhookMiddleware

        async def hook(request: StarletteRequest) -> Response:
            calls.append(request.state.webhook.msg_id)
            if outcome["next"] == "crash":
                raise RuntimeError("the handler failed")
            return Response(b"done")

        app: Any = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
        app.add_middleware(
            WebhookMiddleware, routes={"/hook": make_verifier()}, release_on_error=True
        )
        serve = contextlib.contextmanager(serve_uvicorn)
    else:
        app = flask_app(outcome, calls)
        serve = contextlib.contextmanager(serve_werkzeug)
    req = signed()
    path = "/hook" if framework == "starlette-uvicorn" else "/sync"
    with serve(app) as base:

        def send() -> int:
            # A new connection per attempt, as a sender's retry makes (uvicorn closes the
            # connection after an application error).
            with httpx.Client(base_url=base) as client:
                return client.post(path, content=req.body, headers=req.headers).status_code

        assert send() == 500
        outcome["next"] = "ok"
        assert send() == 200
        assert send() == 409
    assert calls == [req.header_dict()["webhook-id"]] * 2
