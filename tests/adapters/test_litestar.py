"""hookseal.contrib.litestar through Litestar's own TestClient, and a real uvicorn server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from adapter_support import (
    BODY,
    CASE_IDS,
    LIMIT,
    OTHER_SECRET,
    REJECTIONS,
    Case,
    assert_generic,
    forbidding_verifier,
    make_verifier,
    rejection_logs,
    signed,
)
from litestar import Controller, Litestar, Request, Router, get, post
from litestar.testing import TestClient

from hookseal import ConfigurationError, Verifier
from hookseal.contrib.litestar import (
    Webhook,
    WebhookMiddleware,
    get_webhook,
    provide_webhook,
    webhook_middleware,
)

pytestmark = pytest.mark.extras


def build_app(verifier: Verifier, calls: list[Any], **options: Any) -> Litestar:
    @post(
        "/hook",
        middleware=[webhook_middleware(verifier, **options)],
        dependencies={"webhook": provide_webhook},
        status_code=200,
    )
    async def hook(request: Request[Any, Any, Any], webhook: Webhook) -> bytes:
        again = await request.body()
        assert again == webhook.body  # the handler re-reads the exact verified bytes
        assert get_webhook(request) is webhook
        calls.append(webhook.msg_id)
        return again

    @post("/open", status_code=200)
    async def open_hook(request: Request[Any, Any, Any]) -> bytes:
        return await request.body()

    # logging_config=None: Litestar's default logging replaces the root handlers (caplog's).
    return Litestar(route_handlers=[hook, open_hook], logging_config=None)


def _client(app: Litestar) -> TestClient[Litestar]:
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("case", REJECTIONS, ids=CASE_IDS)
def test_rejections(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hookseal")
    calls: list[Any] = []
    rejected: list[str] = []
    verifier = make_verifier()
    app = build_app(verifier, calls, on_reject=lambda scope, error: rejected.append(error.reason))
    request = case.build()
    with _client(app) as client:
        response = client.post("/hook", content=request.body, headers=request.headers)
    assert response.status_code == case.status
    assert_generic(case.status, response.text)
    assert calls == []
    assert len(verifier.nonce_store) == 0
    assert len(rejection_logs(caplog)) == 1
    assert len(rejected) == 1


def test_genuine_then_replay_and_the_dependency() -> None:
    calls: list[Any] = []
    app = build_app(make_verifier(), calls)
    genuine = signed()
    with _client(app) as client:
        response = client.post("/hook", content=genuine.body, headers=genuine.headers)
        assert (response.status_code, response.content) == (200, BODY)
        replay = client.post("/hook", content=genuine.body, headers=genuine.headers)
        assert replay.status_code == 409
        assert_generic(409, replay.text)
        forged = signed(secret=OTHER_SECRET)
        assert client.post("/open", content=forged.body).status_code == 200  # other layer
    assert calls == [genuine.header_dict()["webhook-id"]]


def test_forbidden_address_and_oversized_chunked_body() -> None:
    calls: list[Any] = []
    with _client(build_app(forbidding_verifier(), calls)) as client:
        genuine = signed()
        assert (
            client.post("/hook", content=genuine.body, headers=genuine.headers).status_code == 403
        )
    big = signed(b"k" * (LIMIT * 4))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big.body), 512):
            yield big.body[start : start + 512]

    with _client(build_app(make_verifier(), calls)) as client:
        response = client.post("/hook", content=chunks(), headers=big.headers)
        assert response.status_code == 413
    assert calls == []


def test_router_and_controller_layers_protect_every_spelling_that_reaches_them() -> None:
    """The middleware is on the layer, after routing: any path Litestar routes to a protected
    handler is verified (here a path parameter and a router prefix)."""
    seen: list[Any] = []

    class Hooks(Controller):
        path = "/tenants"
        middleware = [webhook_middleware(make_verifier())]  # noqa: RUF012 - Litestar reads it
        dependencies = {"webhook": provide_webhook}  # noqa: RUF012

        @post("/{tenant:int}", status_code=200)
        async def tenant_hook(self, request: Request[Any, Any, Any], webhook: Webhook) -> str:
            seen.append((request.path_params["tenant"], webhook.msg_id))
            return "ok"

    @get("/health")
    async def health() -> str:
        return "fine"

    router = Router(path="/api", route_handlers=[Hooks])
    app = Litestar(route_handlers=[router, health])
    forged = signed(secret=OTHER_SECRET)
    with _client(app) as client:
        for path in ("/api/tenants/1", "/api/tenants/01", "/api/tenants/%31", "/api//tenants/1"):
            response = client.post(path, content=forged.body, headers=forged.headers)
            assert response.status_code in (401, 404), (path, response.status_code)
        assert seen == []
        genuine = signed()
        response = client.post("/api/tenants/007", content=genuine.body, headers=genuine.headers)
        assert response.status_code == 200
        assert client.get("/health").text == "fine"
    assert seen == [(7, genuine.header_dict()["webhook-id"])]


def test_release_on_error() -> None:
    verifier = make_verifier()
    attempts: list[int] = []

    @post("/hook", middleware=[webhook_middleware(verifier)], status_code=200)
    async def hook() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("boom")
        return "ok"

    genuine = signed()
    with _client(Litestar(route_handlers=[hook])) as client:
        assert (
            client.post("/hook", content=genuine.body, headers=genuine.headers).status_code == 500
        )
        assert (
            client.post("/hook", content=genuine.body, headers=genuine.headers).status_code == 200
        )
        assert (
            client.post("/hook", content=genuine.body, headers=genuine.headers).status_code == 409
        )
    assert len(attempts) == 2


def test_dependency_without_the_middleware_never_runs_the_handler() -> None:
    calls: list[Any] = []

    @post("/hook", dependencies={"webhook": provide_webhook}, status_code=200)
    async def hook(webhook: Webhook) -> str:  # pragma: no cover - never reached
        calls.append(webhook)
        return "ok"

    genuine = signed()
    with _client(Litestar(route_handlers=[hook])) as client:
        assert (
            client.post("/hook", content=genuine.body, headers=genuine.headers).status_code == 500
        )
    assert calls == []


def test_configuration_errors() -> None:
    from hookseal.schemes import Twilio

    for options in ({"replay_status": 99}, {"on_reject": "x"}, {"public_url": "ftp://x"}):
        with pytest.raises(ConfigurationError):
            webhook_middleware(make_verifier(), **options)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        webhook_middleware(object())  # type: ignore[arg-type]
    twilio = Verifier(Twilio(), "token", nonce_store=None)
    with pytest.raises(ConfigurationError, match="public_url"):
        webhook_middleware(twilio)
    webhook_middleware(twilio, public_url="https://hooks.example.com")
    assert "WebhookMiddleware" in repr(WebhookMiddleware(build_app, make_verifier()))


@pytest.mark.server
def test_real_server_end_to_end() -> None:
    import httpx
    from test_servers import serve_uvicorn

    calls: list[Any] = []
    for base in serve_uvicorn(build_app(make_verifier(), calls)):
        with httpx.Client(base_url=base, timeout=10) as client:
            ok = signed()
            response = client.post("/hook", content=ok.body, headers=ok.headers)
            assert (response.status_code, response.content) == (200, BODY)
            assert client.post("/hook", content=ok.body, headers=ok.headers).status_code == 409
            forged = signed(timestamp=0)
            response = client.post("/hook", content=forged.body, headers=forged.headers)
            assert response.status_code == 401
            assert_generic(401, response.text)
            twice = signed()
            lines = [
                *twice.headers,
                ("webhook-signature", twice.header_dict()["webhook-signature"]),
            ]
            assert client.post("/hook", content=twice.body, headers=lines).status_code == 400
    assert len(calls) == 1
