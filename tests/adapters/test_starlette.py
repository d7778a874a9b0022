"""hookseal.contrib.starlette (pure ASGI middleware) through Starlette's TestClient."""

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
    Request,
    assert_generic,
    forbidding_verifier,
    make_verifier,
    rejection_logs,
    signed,
)
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from hookseal import ConfigurationError, VerificationError, Verified
from hookseal.contrib._asgi import request_url
from hookseal.contrib.starlette import WebhookMiddleware

pytestmark = pytest.mark.extras

PEER = ("127.0.0.1", 50000)


def build_app() -> tuple[Starlette, list[Any], list[Any]]:
    calls: list[Any] = []
    rejected: list[Any] = []

    async def hook(request: StarletteRequest) -> Response:
        webhook = request.state.webhook
        assert isinstance(webhook, Verified)
        again = await request.body()
        assert again == webhook.body  # the handler re-reads the exact verified bytes
        calls.append(webhook.msg_id)
        return Response(again, media_type="application/octet-stream")

    def sync_hook(request: StarletteRequest) -> Response:
        calls.append(request.state.webhook.msg_id)
        return Response(b"sync")

    async def plain(request: StarletteRequest) -> Response:
        return Response(await request.body())

    def on_reject(scope: Any, error: VerificationError) -> None:
        rejected.append((scope["path"], error.reason))

    app = Starlette(
        routes=[
            Route("/hooks/a", hook, methods=["POST"]),
            Route("/hooks/sync", sync_hook, methods=["POST"]),
            Route("/hooks/forbidden", hook, methods=["POST"]),
            Route("/plain", plain, methods=["POST"]),
        ]
    )
    verifier = make_verifier()
    app.add_middleware(
        WebhookMiddleware,
        routes={
            "/hooks/a": verifier,
            "/hooks/sync": verifier,
            "/hooks/forbidden": forbidding_verifier(),
        },
        on_reject=on_reject,
    )
    return app, calls, rejected


@pytest.fixture
def setup() -> tuple[TestClient, list[Any], list[Any]]:
    app, calls, rejected = build_app()
    return TestClient(app, client=PEER), calls, rejected


def post(client: TestClient, path: str, req: Request) -> Any:
    return client.post(path, content=req.body, headers=req.headers)


@pytest.mark.parametrize("path", ["/hooks/a", "/hooks/sync"])
def test_valid_delivery(setup: Any, path: str) -> None:
    client, calls, _ = setup
    req = signed()
    response = post(client, path, req)
    assert response.status_code == 200
    assert response.content == (BODY if path == "/hooks/a" else b"sync")
    assert calls == [req.header_dict()["webhook-id"]]


@pytest.mark.parametrize("case", REJECTIONS, ids=CASE_IDS)
def test_rejections(setup: Any, caplog: pytest.LogCaptureFixture, case: Case) -> None:
    client, calls, rejected = setup
    caplog.set_level(logging.INFO, "hookseal")
    response = post(client, "/hooks/a", case.build())
    assert response.status_code == case.status
    assert_generic(case.status, response.text)
    assert response.headers["content-type"].startswith("text/plain")
    assert calls == []
    assert len(rejection_logs(caplog)) == 1
    assert len(rejected) == 1


def test_duplicate_header_lines_are_refused_as_duplicates(setup: Any) -> None:
    client, calls, rejected = setup
    req = REJECTIONS[CASE_IDS.index("duplicate-header")].build()
    assert post(client, "/hooks/a", req).status_code == 400
    assert rejected == [("/hooks/a", "duplicate_header")]  # ASGI keeps every header line
    assert calls == []


def test_replay(setup: Any) -> None:
    client, calls, rejected = setup
    req = signed()
    assert post(client, "/hooks/a", req).status_code == 200
    response = post(client, "/hooks/sync", req)
    assert response.status_code == 409
    assert_generic(409, response.text)
    assert len(calls) == 1
    assert rejected == [("/hooks/sync", "replayed")]


def test_replay_status_is_configurable() -> None:
    calls: list[bytes] = []

    async def endpoint(request: StarletteRequest) -> Response:
        calls.append(await request.body())
        return Response(b"ok")

    app = Starlette(routes=[Route("/h", endpoint, methods=["POST"])])
    app.add_middleware(WebhookMiddleware, routes={"/h": make_verifier()}, replay_status=200)
    client = TestClient(app, client=PEER)
    req = signed()
    assert post(client, "/h", req).text == "ok"
    again = post(client, "/h", req)
    assert again.status_code == 200
    assert_generic(409, again.text)
    assert len(calls) == 1


def test_forbidden_address_ignores_forwarded_for(setup: Any) -> None:
    client, calls, rejected = setup
    req = signed()
    response = client.post(
        "/hooks/forbidden",
        content=req.body,
        headers=[*req.headers, ("X-Forwarded-For", "10.1.2.3")],
    )
    assert response.status_code == 403
    assert_generic(403, response.text)
    assert calls == []
    assert rejected == [("/hooks/forbidden", "forbidden_address")]


def chunks(body: bytes, size: int = 500) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_chunked_bodies(setup: Any) -> None:
    client, calls, _ = setup
    ok = signed(b"z" * LIMIT)
    response = client.post("/hooks/a", content=chunks(ok.body), headers=ok.headers)
    assert (response.status_code, response.content) == (200, ok.body)
    big = signed(b"z" * (LIMIT * 3))
    response = client.post("/hooks/a", content=chunks(big.body), headers=big.headers)
    assert response.status_code == 413
    assert_generic(413, response.text)
    assert len(calls) == 1


def test_stops_reading_as_soon_as_the_limit_is_passed() -> None:
    """Row 26: no more than limit + one chunk is read; the rest is never pulled."""
    reached: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - not reached
        raise AssertionError("the app must not run")

    middleware = WebhookMiddleware(app, routes={"/h": make_verifier()})
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        reached.append(1)
        return {"type": "http.request", "body": b"q" * 1000, "more_body": True}  # endless

    async def send(message: Any) -> None:
        sent.append(message)

    import asyncio

    scope = {"type": "http", "path": "/h", "method": "POST", "headers": [], "client": PEER}
    asyncio.run(middleware(scope, receive, send))
    assert len(reached) == LIMIT // 1000 + 1
    assert sent[0]["status"] == 413


def test_disconnect_while_reading_answers_nothing() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - not reached
        raise AssertionError("the app must not run")

    middleware = WebhookMiddleware(app, routes={"/h": make_verifier()})
    messages = [
        {"type": "http.request", "body": b"x", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> Any:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    import asyncio

    asyncio.run(middleware({"type": "http", "path": "/h", "headers": []}, receive, send))
    assert sent == []


def test_body_drained_before_verification_is_never_accepted() -> None:
    calls: list[Any] = []

    async def endpoint(request: StarletteRequest) -> Response:  # pragma: no cover - not reached
        calls.append(1)
        return Response(b"ok")

    inner = Starlette(routes=[Route("/h", endpoint, methods=["POST"])])
    protected = WebhookMiddleware(inner, routes={"/h": make_verifier()})

    async def draining(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass

        async def empty() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        await protected(scope, empty, send)

    response = post(TestClient(draining, client=PEER), "/h", signed())
    assert response.status_code == 401
    assert calls == []


def test_other_paths_and_lifespan_pass_through(setup: Any) -> None:
    client, _, _ = setup
    assert client.post("/plain", content=b"hello").content == b"hello"
    with client:  # lifespan scope goes through untouched
        assert client.post("/plain", content=b"again").content == b"again"


def test_state_from_lifespan_is_kept() -> None:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        yield {"db": "conn"}

    async def endpoint(request: StarletteRequest) -> Response:
        return Response(f"{request.state.db} {request.state.webhook.scheme}")

    app = Starlette(routes=[Route("/h", endpoint, methods=["POST"])], lifespan=lifespan)
    app.add_middleware(WebhookMiddleware, routes={"/h": make_verifier()})
    with TestClient(app, client=PEER) as client:
        assert post(client, "/h", signed()).text == "conn standard-webhooks"


def test_configuration_is_validated() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        pass

    for kwargs in (
        {"routes": {}},
        {"routes": {"nope": make_verifier()}},
        {"routes": {"/h": object()}},
        {"routes": {"/h": make_verifier()}, "replay_status": 700},
        {"routes": {"/h": make_verifier()}, "on_reject": "x"},
        {"routes": {"/h": make_verifier()}, "public_url": "ftp://x"},
        {"routes": {"/h": make_verifier()}, "public_url": "https://x/?q=1"},
    ):
        with pytest.raises(ConfigurationError):
            WebhookMiddleware(app, **kwargs)  # type: ignore[arg-type]
    assert "'/h'" in repr(WebhookMiddleware(app, routes={"/h": make_verifier()}))


@pytest.mark.parametrize(
    ("scope", "public_url", "expected"),
    [
        (
            {
                "scheme": "https",
                "raw_path": b"/hooks/a%20b",
                "path": "/hooks/a b",
                "query_string": b"x=1",
                "headers": [(b"host", b"example.com")],
            },
            None,
            "https://example.com/hooks/a%20b?x=1",
        ),
        (
            {
                "scheme": "http",
                "path": "/a b",
                "root_path": "/api",
                "headers": [],
                "server": ("::1", 8080),
            },
            None,
            "http://[::1]:8080/api/a%20b",
        ),
        ({"scheme": "http", "path": "/p", "headers": [], "server": ("h", 80)}, None, "http://h/p"),
        (
            {"scheme": "http", "raw_path": b"/hooks", "headers": [(b"host", b"internal:8000")]},
            "https://hooks.example.com/prefix",
            "https://hooks.example.com/prefix/hooks",
        ),
    ],
)
def test_request_url(scope: dict[str, Any], public_url: str | None, expected: str) -> None:
    assert request_url(scope, public_url) == expected


# -- memory per request ----------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 2])
def test_memory_per_request_stays_about_the_limit_whatever_the_chunking(chunk_size: int) -> None:
    """A body sent in 1-2 byte messages is held once (one buffer), not as one object per chunk."""
    import asyncio
    import tracemalloc

    limit = 64 * 1024
    genuine = signed(b"m" * (limit - 256))
    body = genuine.body
    pieces = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]
    held: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        held.append(tracemalloc.get_traced_memory()[0])
        message = await receive()
        assert message["body"] == body  # replayed as one message
        assert not message["more_body"]
        await Response(b"ok")(scope, receive, send)

    middleware = WebhookMiddleware(app, routes={"/h": make_verifier(max_body_bytes=limit)})
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/h",
        "headers": [(k.lower().encode(), v.encode()) for k, v in genuine.headers],
        "client": PEER,
    }
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def run() -> None:
        index = 0

        async def receive() -> dict[str, Any]:
            nonlocal index
            index += 1
            more = index < len(pieces)
            return {"type": "http.request", "body": pieces[index - 1], "more_body": more}

        tracemalloc.start()
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        try:
            await middleware(scope, receive, send)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        held[0] -= baseline
        held.append(peak - baseline)

    asyncio.run(run())
    assert sent[0]["status"] == 200
    in_app, peak = held
    assert in_app < 1.5 * limit, in_app  # the verified body, once
    assert peak < 3 * limit, peak  # the buffer and the bytes made from it, briefly


# -- every early rejection emits exactly one event -----------------------------------------


def _lines(req: Request, *extra: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in [*req.headers, *extra]]


@pytest.mark.parametrize(
    ("name", "headers", "chunks", "status", "reason"),
    [
        (
            "duplicate-content-length",
            [("content-length", "10"), ("content-length", "10")],
            None,
            400,
            "duplicate_header",
        ),
        ("invalid-content-length", [("content-length", "1e3")], None, 400, "malformed_header"),
        (
            "declared-too-large",
            [("content-length", str(LIMIT + 1))],
            None,
            413,
            "payload_too_large",
        ),
        ("chunked-too-large", [], [b"x" * 1000] * 5, 413, "payload_too_large"),
    ],
)
def test_every_early_rejection_emits_exactly_one_event(
    name: str,
    headers: list[tuple[str, str]],
    chunks: list[bytes] | None,
    status: int,
    reason: str,
) -> None:
    import asyncio

    events: list[Any] = []
    verifier = make_verifier(on_event=events.append)
    rejected: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        raise AssertionError("the app must not run")

    middleware = WebhookMiddleware(
        app, routes={"/h": verifier}, on_reject=lambda scope, error: rejected.append(error.reason)
    )
    genuine = signed()
    messages = [
        {"type": "http.request", "body": c, "more_body": True} for c in (chunks or [genuine.body])
    ]
    messages[-1]["more_body"] = False
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/h",
        "headers": _lines(genuine, *headers),
        "client": PEER,
    }
    asyncio.run(middleware(scope, receive, send))
    assert sent[0]["status"] == status
    assert [(e.outcome, e.reason) for e in events] == [("rejected", reason)]
    assert events[0].remote_addr == PEER[0]
    assert rejected == [reason]


def test_unusable_header_lines_are_recorded_once() -> None:
    import asyncio

    events: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        raise AssertionError("the app must not run")

    middleware = WebhookMiddleware(app, routes={"/h": make_verifier(on_event=events.append)})
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/h", "headers": [(b"x-a", 5)], "client": PEER}
    asyncio.run(middleware(scope, receive, send))
    assert sent[0]["status"] == 400
    assert [(e.outcome, e.reason) for e in events] == [("rejected", "malformed_header")]


# -- schemes that sign the URL need a trusted origin -----------------------------------------

TWILIO_TOKEN = "twilio-auth-token-for-adapter-tests"
FORM = b"Body=hello&From=%2B15551234567&MessageSid=SM0123"


def _twilio_verifier(**options: Any) -> Any:
    from hookseal import Verifier
    from hookseal.schemes import Twilio
    from hookseal.stores.memory import MemoryNonceStore

    settings: dict[str, Any] = {"nonce_store": MemoryNonceStore()}
    settings.update(options)
    return Verifier(Twilio(), TWILIO_TOKEN, **settings)


def _twilio_signed(url: str, body: bytes = FORM) -> Request:
    from hookseal import Signer
    from hookseal.schemes import Twilio

    headers = Signer(Twilio(), TWILIO_TOKEN).sign(body, url=url)
    return Request(body, list(headers.items()))


def test_url_signing_scheme_needs_public_url() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        pass

    with pytest.raises(ConfigurationError, match=r"public_url='https://your\.public\.host'"):
        WebhookMiddleware(app, routes={"/sms": _twilio_verifier()})
    WebhookMiddleware(
        app, routes={"/sms": _twilio_verifier()}, public_url="https://hooks.example.com"
    )


def test_delivery_captured_from_another_deployment_is_refused() -> None:
    calls: list[Any] = []

    async def sms(request: StarletteRequest) -> Response:
        calls.append(dict(await request.form()))
        return Response(b"<Response/>", media_type="text/xml")

    app = Starlette(routes=[Route("/sms", sms, methods=["POST"])])
    app.add_middleware(
        WebhookMiddleware,
        routes={"/sms": _twilio_verifier()},
        public_url="https://ours.example.com",
    )
    client = TestClient(app, client=PEER, base_url="https://theirs.example.com")
    # Signed by Twilio for the other deployment, replayed here with its own Host header.
    captured = _twilio_signed("https://theirs.example.com/sms")
    response = client.post("/sms", content=captured.body, headers=captured.headers)
    assert response.status_code == 401
    assert calls == []
    genuine = _twilio_signed("https://ours.example.com/sms")
    response = client.post("/sms", content=genuine.body, headers=genuine.headers)
    assert response.status_code == 200
    assert calls == [{"Body": "hello", "From": "+15551234567", "MessageSid": "SM0123"}]


def test_request_url_without_host_or_server_is_a_hookseal_error() -> None:
    from hookseal import MalformedHeader

    with pytest.raises(MalformedHeader):
        request_url({"type": "http", "path": "/sms", "headers": []})
    # With public_url the origin never comes from the request.
    assert request_url({"path": "/sms", "headers": []}, "https://h.example") == (
        "https://h.example/sms"
    )


# -- get_webhook, the deprecated names, and no special case for any store ------------------


def test_get_webhook_returns_the_verified_delivery_or_raises_lookup_error() -> None:
    from hookseal.contrib.starlette import get_webhook

    seen: list[Any] = []

    async def protected(request: StarletteRequest) -> Response:
        webhook = get_webhook(request)
        seen.append(webhook)
        assert webhook is request.state.webhook
        assert get_webhook(request.scope) is webhook  # the scope itself works too
        return Response(webhook.body)

    async def unprotected(request: StarletteRequest) -> Response:
        try:
            get_webhook(request)
        except LookupError as exc:
            return Response(str(exc), status_code=418)
        return Response(b"verified?")  # pragma: no cover - the assertion below fails

    app = Starlette(
        routes=[
            Route("/hooks/a", protected, methods=["POST"]),
            Route("/open", unprotected, methods=["POST"]),
        ]
    )
    app.add_middleware(WebhookMiddleware, routes={"/hooks/a": make_verifier()})
    client = TestClient(app, client=PEER)
    req = signed()
    response = post(client, "/hooks/a", req)
    assert response.status_code == 200
    assert response.content == BODY
    assert isinstance(seen[0], Verified)
    assert seen[0].msg_id == req.header_dict()["webhook-id"]
    refused = post(client, "/open", req)
    assert refused.status_code == 418
    assert "not protected" in refused.text
    assert "WebhookMiddleware(routes=" in refused.text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("HookSealMiddleware", "hookseal.contrib.starlette.WebhookMiddleware"),
        ("scope_headers", "hookseal.Headers.from_asgi"),
        ("request_url", "hookseal.contrib._asgi.request_url"),
        ("route_path", "hookseal.contrib._asgi.route_path"),
        ("read_body", "hookseal.contrib._asgi.read_body"),
        ("VERIFIED_BY", "hookseal.contrib._asgi.VERIFIED_BY"),
    ],
)
def test_old_names_warn_and_still_work(old: str, new: str) -> None:
    import importlib

    import hookseal.contrib.starlette as module

    owner, _, attribute = new.rpartition(".")
    if owner == "hookseal.Headers":
        from hookseal import Headers

        expected = getattr(Headers, attribute)
    else:
        expected = getattr(importlib.import_module(owner), attribute)
    with pytest.warns(DeprecationWarning, match=rf"starlette\.{old} is deprecated"):
        value = getattr(module, old)
    assert value == expected
    assert old not in module.__all__
    with pytest.raises(AttributeError):
        module.NoSuchName  # noqa: B018


def test_old_middleware_name_still_protects() -> None:
    with pytest.warns(DeprecationWarning, match="use WebhookMiddleware"):
        from hookseal.contrib.starlette import HookSealMiddleware
    app, calls, _ = build_app()
    old = Starlette(routes=app.routes)
    old.add_middleware(HookSealMiddleware, routes={"/hooks/a": make_verifier()})
    client = TestClient(old, client=PEER)
    assert post(client, "/hooks/a", signed()).status_code == 200
    assert post(client, "/hooks/a", signed(secret=OTHER_SECRET)).status_code == 401
    assert len(calls) == 1


def test_an_async_only_store_is_awaited() -> None:
    # The middleware knows no store class: it always calls averify, which awaits a store
    # that only has areserve (verify() would refuse it: it has no reserve to call).
    from hookseal.stores.memory import MemoryNonceStore

    inner_store = MemoryNonceStore()
    awaited: list[bytes] = []

    class AsyncOnlyStore:
        async def areserve(self, key: bytes, *args: Any) -> bool:
            awaited.append(key)
            return await inner_store.areserve(key, *args)

    app, calls, _ = build_app()
    inner = Starlette(routes=app.routes)
    verifier = make_verifier(nonce_store=AsyncOnlyStore())
    inner.add_middleware(WebhookMiddleware, routes={"/hooks/a": verifier})
    client = TestClient(inner, client=PEER)
    req = signed()
    assert post(client, "/hooks/a", req).status_code == 200
    assert post(client, "/hooks/a", req).status_code == 409
    assert len(awaited) == 2
    assert len(calls) == 1
