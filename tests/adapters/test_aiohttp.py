"""hookseal.contrib.aiohttp through aiohttp's own test server and client, and a real server.

``aiohttp.test_utils.TestClient`` drives a real ``TestServer`` on 127.0.0.1 (aiohttp's test
client always goes through a socket), so repeated header lines, chunked bodies and the
socket peer are exercised as in production. ``test_real_server_end_to_end`` runs the app
under ``web.AppRunner``/``TCPSite``, the way ``web.run_app`` serves it, driven by httpx.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
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
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hookseal import ConfigurationError, IPAllowlist, Signer, Verifier
from hookseal.contrib.aiohttp import (
    WEBHOOK_KEY,
    WebhookMiddleware,
    WebhookRejected,
    get_webhook,
    verify_webhook,
)
from hookseal.stores.memory import MemoryNonceStore

pytestmark = pytest.mark.extras


@asynccontextmanager
async def client_for(app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def decorator_app(verifier: Verifier, calls: list[Any], **options: Any) -> web.Application:
    @verify_webhook(verifier, **options)
    async def hook(request: web.Request) -> web.Response:
        webhook = get_webhook(request)
        assert webhook is request[WEBHOOK_KEY]
        again = await request.read()
        assert again == webhook.body  # the handler re-reads the exact verified bytes
        calls.append(webhook.msg_id)
        return web.Response(body=again)

    app = web.Application()
    app.router.add_post("/hook", hook)
    return app


def middleware_app(verifier: Verifier, calls: list[Any], **options: Any) -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        webhook = get_webhook(request)
        again = await request.read()
        assert again == webhook.body
        calls.append(webhook.msg_id)
        return web.Response(body=again)

    async def plain(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application(middlewares=[WebhookMiddleware({"/hook": verifier}, **options)])
    app.router.add_post("/hook", hook)
    app.router.add_post("/plain", plain)
    return app


BUILDERS = {"decorator": decorator_app, "middleware": middleware_app}


async def post(client: TestClient[Any, Any], path: str, request: Request, **kw: Any) -> Any:
    response = await client.post(path, data=request.body, headers=request.headers, **kw)
    return response.status, await response.read()


# -- the shared rejection table ---------------------------------------------------------------


@pytest.mark.parametrize("form", list(BUILDERS))
@pytest.mark.parametrize("case", REJECTIONS, ids=CASE_IDS)
def test_rejections(form: str, case: Case, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hookseal")
    calls: list[Any] = []
    rejected: list[tuple[Any, str]] = []
    verifier = make_verifier()
    app = BUILDERS[form](
        verifier, calls, on_reject=lambda request, error: rejected.append((request, error.reason))
    )

    async def scenario() -> None:
        async with client_for(app) as client:
            status, text = await post(client, "/hook", case.build())
            assert status == case.status
            assert_generic(status, text.decode())

    run(scenario())
    assert calls == []
    assert len(verifier.nonce_store) == 0
    assert len(rejection_logs(caplog)) == 1  # the verifier's one line; the adapter adds none
    assert len(rejected) == 1
    assert isinstance(rejected[0][0], web.Request)


@pytest.mark.parametrize("form", list(BUILDERS))
def test_genuine_then_replay(form: str) -> None:
    calls: list[Any] = []
    app = BUILDERS[form](make_verifier(), calls)
    genuine = signed()

    async def scenario() -> None:
        async with client_for(app) as client:
            assert await post(client, "/hook", genuine) == (200, BODY)
            status, text = await post(client, "/hook", genuine)
            assert status == 409
            assert_generic(409, text.decode())

    run(scenario())
    assert calls == [genuine.header_dict()["webhook-id"]]


@pytest.mark.parametrize("form", list(BUILDERS))
def test_replay_status_option(form: str) -> None:
    calls: list[Any] = []
    app = BUILDERS[form](make_verifier(), calls, replay_status=200)
    genuine = signed()

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await post(client, "/hook", genuine))[0] == 200
            assert (await post(client, "/hook", genuine))[0] == 200

    run(scenario())
    assert len(calls) == 1  # the handler still ran once


@pytest.mark.parametrize("form", list(BUILDERS))
def test_forbidden_address(form: str) -> None:
    calls: list[Any] = []
    app = BUILDERS[form](forbidding_verifier(), calls)

    async def scenario() -> None:
        async with client_for(app) as client:
            status, text = await post(client, "/hook", signed())
            assert status == 403
            assert_generic(403, text.decode())

    run(scenario())
    assert calls == []


def test_peer_is_the_socket_not_a_cloned_remote() -> None:
    """A middleware that rewrites ``request.remote`` from X-Forwarded-For (aiohttp-remotes'
    relaxed mode does) must not choose the address the allowlist checks."""
    calls: list[Any] = []

    @web.middleware
    async def forwarded(request: web.Request, handler: Any) -> Any:
        claimed = request.headers.get("X-Forwarded-For", "")
        return await handler(request.clone(remote=claimed) if claimed else request)

    verifier = make_verifier(allowlist=IPAllowlist(["10.0.0.0/8"]))

    async def hook(request: web.Request) -> web.Response:
        calls.append(get_webhook(request).msg_id)
        return web.Response(text="ok")

    app = web.Application(middlewares=[forwarded, WebhookMiddleware({"/hook": verifier})])
    app.router.add_post("/hook", hook)
    genuine = signed()
    genuine.headers.append(("X-Forwarded-For", "10.1.2.3"))

    async def scenario() -> None:
        async with client_for(app) as client:
            status, _ = await post(client, "/hook", genuine)
            assert status == 403

    run(scenario())
    assert calls == []


# -- the body ---------------------------------------------------------------------------------


async def _chunks(body: bytes, size: int = 256) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("form", list(BUILDERS))
def test_chunked_bodies(form: str) -> None:
    calls: list[Any] = []
    app = BUILDERS[form](make_verifier(), calls)
    fits = signed(b"k" * LIMIT)
    big = signed(b"k" * (LIMIT * 4))

    async def scenario() -> None:
        async with client_for(app) as client:
            response = await client.post("/hook", data=_chunks(fits.body), headers=fits.headers)
            assert response.status == 200
            assert await response.read() == fits.body
            response = await client.post("/hook", data=_chunks(big.body), headers=big.headers)
            assert response.status == 413
            assert_generic(413, await response.text())

    run(scenario())
    assert calls == [fits.header_dict()["webhook-id"]]


def test_chunked_body_past_the_limit_is_not_read_to_the_end() -> None:
    """Reading stops as soon as the limit is passed: every read but the last stayed within
    the limit, and the 4 MiB upload was not read (aiohttp then discards what is left while
    it closes the connection, outside the request)."""
    from unittest import mock

    import aiohttp
    from aiohttp import streams, web_request

    calls: list[Any] = []
    app = decorator_app(make_verifier(), calls)
    big = signed(b"k" * (4 * 1024 * 1024))
    reads: list[int] = []
    inside: list[bool] = []
    original_readany = streams.StreamReader.readany
    original_read = web_request.BaseRequest.read

    async def counting(self: Any) -> bytes:
        chunk: bytes = await original_readany(self)
        if inside:
            reads.append(len(chunk))
        return chunk

    async def read(self: Any) -> bytes:
        inside.append(True)
        try:
            body: bytes = await original_read(self)
            return body
        finally:
            inside.pop()

    async def scenario() -> None:
        async with client_for(app) as client:
            with (
                mock.patch.object(streams.StreamReader, "readany", counting),
                mock.patch.object(web_request.BaseRequest, "read", read),
            ):
                try:
                    response = await client.post(
                        "/hook", data=_chunks(big.body, 16 * 1024), headers=big.headers
                    )
                except aiohttp.ClientError:  # the server closed with the upload unread
                    return
                assert response.status == 413

    run(scenario())
    assert calls == []
    assert reads
    assert sum(reads[:-1]) <= LIMIT  # stopped at the first read past the limit
    assert sum(reads) < len(big.body)


@pytest.mark.parametrize("form", list(BUILDERS))
def test_content_length_over_the_limit_is_refused_unread(form: str) -> None:
    calls: list[Any] = []
    app = BUILDERS[form](make_verifier(), calls)
    big = signed(b"k" * (LIMIT + 1))

    async def scenario() -> None:
        async with client_for(app) as client:
            status, text = await post(client, "/hook", big)
            assert status == 413
            assert_generic(413, text.decode())

    run(scenario())


def test_body_read_by_an_outer_middleware_is_verified_as_cached() -> None:
    calls: list[Any] = []

    @web.middleware
    async def reads_first(request: web.Request, handler: Any) -> Any:
        await request.read()  # aiohttp caches it; clone() is then refused
        return await handler(request)

    verifier = make_verifier()

    async def hook(request: web.Request) -> web.Response:
        calls.append(await request.read())
        return web.Response(text="ok")

    app = web.Application(middlewares=[reads_first, WebhookMiddleware({"/hook": verifier})])
    app.router.add_post("/hook", hook)

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await post(client, "/hook", signed()))[0] == 200
            assert (await post(client, "/hook", signed(secret=OTHER_SECRET)))[0] == 401

    run(scenario())
    assert calls == [BODY]


def test_body_cached_past_the_limit_by_an_outer_middleware_is_refused() -> None:
    @web.middleware
    async def reads_first(request: web.Request, handler: Any) -> Any:
        await request.read()
        return await handler(request)

    async def hook(request: web.Request) -> web.Response:  # pragma: no cover - never reached
        return web.Response(text="ok")

    app = web.Application(middlewares=[reads_first, WebhookMiddleware({"/hook": make_verifier()})])
    app.router.add_post("/hook", hook)
    big = signed(b"k" * (LIMIT * 2))

    async def scenario() -> None:
        async with client_for(app) as client:
            response = await client.post("/hook", data=_chunks(big.body), headers=big.headers)
            assert response.status == 413

    run(scenario())


def test_form_and_json_read_the_verified_bytes() -> None:
    form_body = b"a=1&b=caf%C3%A9"
    seen: list[Any] = []

    @verify_webhook(make_verifier())
    async def hook(request: web.Request) -> web.Response:
        seen.append(dict(await request.post()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    genuine = signed(form_body)
    headers = [(k, v) for k, v in genuine.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", "application/x-www-form-urlencoded"))

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await post(client, "/hook", Request(form_body, headers)))[0] == 200

    run(scenario())
    assert seen == [{"a": "1", "b": "café"}]


# -- releasing the record when the handler fails ----------------------------------------------


def _failing_app(verifier: Verifier, outcome: Callable[[], Any], form: str) -> web.Application:
    async def hook(request: web.Request) -> web.StreamResponse:
        get_webhook(request)
        result: web.StreamResponse = outcome()
        return result

    if form == "decorator":
        app = web.Application()
        app.router.add_post("/hook", verify_webhook(verifier)(hook))
    else:
        app = web.Application(middlewares=[WebhookMiddleware({"/hook": verifier})])
        app.router.add_post("/hook", hook)
    return app


def _raise(exc: Callable[[], BaseException]) -> Callable[[], Any]:
    def outcome() -> Any:
        raise exc()  # a new one each time: aiohttp answers with the exception object

    return outcome


@pytest.mark.parametrize("form", list(BUILDERS))
@pytest.mark.parametrize(
    ("name", "outcome", "first", "retry"),
    [
        ("crash", _raise(lambda: RuntimeError("boom")), 500, 500),
        ("http-503", _raise(web.HTTPServiceUnavailable), 503, 503),
        ("answer-502", lambda: web.Response(status=502), 502, 502),
        ("http-400-keeps", _raise(web.HTTPBadRequest), 400, 409),
        ("answer-202-keeps", lambda: web.Response(status=202), 202, 409),
    ],
)
def test_release_on_error(
    form: str, name: str, outcome: Callable[[], Any], first: int, retry: int
) -> None:
    verifier = make_verifier()
    app = _failing_app(verifier, outcome, form)
    genuine = signed()

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await post(client, "/hook", genuine))[0] == first
            assert (await post(client, "/hook", genuine))[0] == retry

    run(scenario())


def test_release_on_error_off_keeps_the_record() -> None:
    verifier = make_verifier()
    app = web.Application(
        middlewares=[WebhookMiddleware({"/hook": verifier}, release_on_error=False)]
    )

    async def hook(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    app.router.add_post("/hook", hook)
    genuine = signed()

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await post(client, "/hook", genuine))[0] == 500
            assert (await post(client, "/hook", genuine))[0] == 409

    run(scenario())


# -- the middleware: which requests are protected ---------------------------------------------


def _recording_hook(calls: list[Any]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def hook(request: web.Request) -> web.Response:
        webhook = request.get(WEBHOOK_KEY)
        calls.append((dict(request.match_info), webhook.msg_id if webhook else None))
        return web.Response(body=await request.read())

    return hook


def test_every_spelling_aiohttp_routes_to_a_protected_resource_is_verified() -> None:
    calls: list[Any] = []
    hook = _recording_hook(calls)
    app = web.Application(
        middlewares=[
            WebhookMiddleware(
                {"/hooks/github": make_verifier(), "/tenants/{tenant}": make_verifier()}
            )
        ]
    )
    app.router.add_post("/hooks/github", hook)
    app.router.add_post(r"/tenants/{tenant:\d+}", hook)
    app.router.add_post("/open", hook)
    forged = signed(secret=OTHER_SECRET)

    async def scenario() -> None:
        async with client_for(app) as client:
            for path in ("/hooks/github", "/hooks/%67ithub", "/tenants/1", "/tenants/%30%31"):
                status, _ = await post(client, path, forged)
                assert status == 401, path
            for path in ("/hooks/github/", "/hooks//github"):
                assert (await post(client, path, forged))[0] == 404, path
            assert calls == []
            assert (await post(client, "/open", forged))[0] == 200  # not protected
            assert await post(client, "/tenants/%30%37", genuine) == (200, BODY)

    genuine = signed()
    run(scenario())
    assert calls[-1] == ({"tenant": "07"}, genuine.header_dict()["webhook-id"])


@pytest.mark.parametrize("key", ["/hooks/a", "/api/hooks/a"])
def test_sub_application_keys(key: str) -> None:
    calls: list[Any] = []
    sub = web.Application(middlewares=[WebhookMiddleware({key: make_verifier()})])
    sub.router.add_post("/hooks/a", _recording_hook(calls))
    root = web.Application()
    root.add_subapp("/api", sub)

    async def scenario() -> None:
        async with client_for(root) as client:
            assert (await post(client, "/api/hooks/a", signed(secret=OTHER_SECRET)))[0] == 401
            assert calls == []
            assert (await post(client, "/api/hooks/a", signed()))[0] == 200

    run(scenario())
    assert len(calls) == 1


def test_root_middleware_protects_a_sub_application_route() -> None:
    calls: list[Any] = []
    sub = web.Application()
    sub.router.add_post("/hooks/a", _recording_hook(calls))
    root = web.Application(middlewares=[WebhookMiddleware({"/api/hooks/a": make_verifier()})])
    root.add_subapp("/api", sub)

    async def scenario() -> None:
        async with client_for(root) as client:
            assert (await post(client, "/api/hooks/a", signed(secret=OTHER_SECRET)))[0] == 401

    run(scenario())
    assert calls == []


def test_a_key_naming_no_route_fails_closed() -> None:
    calls: list[Any] = []
    app = web.Application(middlewares=[WebhookMiddleware({"/hooks/githb": make_verifier()})])
    app.router.add_post("/hooks/github", _recording_hook(calls))

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await post(client, "/hooks/github", signed()))[0] == 500

    run(scenario())
    assert calls == []


def test_class_based_view_through_the_middleware() -> None:
    seen: list[Any] = []

    class Hook(web.View):
        async def post(self) -> web.Response:
            seen.append((get_webhook(self.request).msg_id, await self.request.read()))
            return web.Response(text="ok")

    app = web.Application(middlewares=[WebhookMiddleware({"/hook": make_verifier()})])
    app.router.add_view("/hook", Hook)
    genuine = signed()

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await post(client, "/hook", genuine))[0] == 200
            assert (await post(client, "/hook", signed(secret=OTHER_SECRET)))[0] == 401

    run(scenario())
    assert seen == [(genuine.header_dict()["webhook-id"], BODY)]


def test_decorator_on_a_view_method_is_refused() -> None:
    class Hook(web.View):
        @verify_webhook(make_verifier())
        async def post(self) -> web.Response:  # pragma: no cover - never reached
            return web.Response(text="ok")

    app = web.Application()
    app.router.add_view("/hook", Hook)

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await post(client, "/hook", signed()))[0] == 500

    run(scenario())


def test_get_webhook_outside_a_protected_request() -> None:
    from aiohttp.test_utils import make_mocked_request

    with pytest.raises(LookupError, match="verify_webhook"):
        get_webhook(make_mocked_request("POST", "/x"))


def test_webhook_rejected_carries_the_error() -> None:
    from hookseal import SignatureMismatch

    error = SignatureMismatch("no")
    rejected = WebhookRejected(error, 401)
    assert rejected.status == 401
    assert rejected.error is error
    assert rejected.text == "invalid webhook signature\n"


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"replay_status": 99},
        {"replay_status": True},
        {"on_reject": "metrics"},
        {"release_on_error": "yes"},
        {"public_url": "ftp://x"},
        {"public_url": "https://x/?q=1"},
    ],
)
def test_configuration_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        verify_webhook(make_verifier(), **options)
    with pytest.raises(ConfigurationError):
        WebhookMiddleware({"/h": make_verifier()}, **options)


def test_configuration_errors_of_the_middleware_routes() -> None:
    for routes in ({}, {"h": make_verifier()}, {"/h": object()}, [("/h", make_verifier())]):
        with pytest.raises(ConfigurationError):
            WebhookMiddleware(routes)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        verify_webhook(object())  # type: ignore[arg-type]
    middleware = WebhookMiddleware({"/h": make_verifier()})
    assert list(middleware.routes) == ["/h"]
    assert middleware.public_url is None
    with pytest.raises(TypeError):
        middleware.routes["/x"] = make_verifier()  # type: ignore[index]
    assert repr(middleware) == "WebhookMiddleware(routes=['/h'])"


TWILIO_TOKEN = "twilio-auth-token-for-adapter-tests"
FORM = b"Body=hello&From=%2B15551234567&MessageSid=SM0123"


def _twilio_verifier() -> Verifier:
    from hookseal.schemes import Twilio

    return Verifier(Twilio(), TWILIO_TOKEN, nonce_store=MemoryNonceStore())


def _twilio_signed(url: str) -> Request:
    from hookseal.schemes import Twilio

    headers = dict(Signer(Twilio(), TWILIO_TOKEN).sign(FORM, url=url))
    headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return Request(FORM, list(headers.items()))


def test_url_signing_scheme_needs_public_url() -> None:
    with pytest.raises(ConfigurationError, match=r"public_url='https://your\.public\.host'"):
        verify_webhook(_twilio_verifier())
    with pytest.raises(ConfigurationError, match=r"public_url='https://your\.public\.host'"):
        WebhookMiddleware({"/sms": _twilio_verifier()})
    verify_webhook(_twilio_verifier(), public_url="https://hooks.example.com")
    WebhookMiddleware({"/sms": _twilio_verifier()}, public_url="https://hooks.example.com")


@pytest.mark.parametrize("form", list(BUILDERS))
def test_signed_url_comes_from_public_url_never_from_host(form: str) -> None:
    calls: list[Any] = []
    options = {"public_url": "https://ours.example.com/prefix"}

    async def sms(request: web.Request) -> web.Response:
        calls.append(dict(await request.post()))
        return web.Response(text="<Response/>")

    if form == "decorator":
        app = web.Application()
        app.router.add_post("/sms", verify_webhook(_twilio_verifier(), **options)(sms))
    else:
        app = web.Application(
            middlewares=[WebhookMiddleware({"/sms": _twilio_verifier()}, **options)]
        )
        app.router.add_post("/sms", sms)

    async def scenario() -> None:
        async with client_for(app) as client:
            # Signed for another deployment, replayed here with that deployment's Host.
            captured = _twilio_signed("https://theirs.example.com/prefix/sms?x=1")
            headers = {**captured.header_dict(), "Host": "theirs.example.com"}
            response = await client.post("/sms?x=1", data=captured.body, headers=headers)
            assert response.status == 401
            assert calls == []
            genuine = _twilio_signed("https://ours.example.com/prefix/sms?x=1")
            status, _ = await post(client, "/sms?x=1", genuine)
            assert status == 200

    run(scenario())
    assert calls == [{"Body": "hello", "From": "+15551234567", "MessageSid": "SM0123"}]


# -- a real server: web.AppRunner on 127.0.0.1, driven by httpx -------------------------------


def serve_aiohttp(app: web.Application) -> Iterator[str]:
    """Serve ``app`` as ``web.run_app`` does, in a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, handle_signals=False)
    ready = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(runner.addresses[0][1])
        ready.set()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(10), "aiohttp did not start"
    try:
        yield f"http://127.0.0.1:{port[0]}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _sync_chunks(body: bytes, size: int = 512) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _refused_early(client: httpx.Client, content: Any, headers: Any) -> Any:
    """See tests/adapters/test_servers.py: a refusal may reach the client as a reset."""
    try:
        return client.post("/hook", content=content, headers=headers)
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
        return None


@pytest.mark.server
@pytest.mark.parametrize("form", list(BUILDERS))
def test_real_server_end_to_end(form: str) -> None:
    calls: list[Any] = []
    app = BUILDERS[form](make_verifier(), calls)
    for base in serve_aiohttp(app):
        with httpx.Client(base_url=base, timeout=10) as client:
            ok = signed()
            response = client.post("/hook", content=ok.body, headers=ok.headers)
            assert (response.status_code, response.content) == (200, BODY)

            replay = client.post("/hook", content=ok.body, headers=ok.headers)
            assert replay.status_code == 409
            assert_generic(409, replay.text)

            chunked = signed(b"k" * LIMIT)
            response = client.post(
                "/hook", content=_sync_chunks(chunked.body), headers=chunked.headers
            )
            assert (response.status_code, response.content) == (200, chunked.body)

            big = signed(b"k" * (LIMIT * 4))
            response = _refused_early(client, big.body, big.headers)
            if response is not None:
                assert response.status_code == 413
                assert_generic(413, response.text)
            response = _refused_early(client, _sync_chunks(big.body), big.headers)
            if response is not None:
                assert response.status_code == 413

            forged = signed(timestamp=0)
            response = client.post("/hook", content=forged.body, headers=forged.headers)
            assert response.status_code == 401
            assert_generic(401, response.text)

            twice = signed()
            lines = [
                *twice.headers,
                ("webhook-signature", twice.header_dict()["webhook-signature"]),
            ]
            response = client.post("/hook", content=twice.body, headers=lines)
            assert response.status_code == 400  # repeated lines: refused even when genuine
    assert len(calls) == 2


def test_verification_error_never_escapes_as_a_500(caplog: pytest.LogCaptureFixture) -> None:
    """Whatever the header bytes, the answer is a 4xx with the generic text."""
    calls: list[Any] = []
    app = decorator_app(make_verifier(), calls)
    genuine = signed()
    bad = [(k, v) for k, v in genuine.headers if k != "webhook-signature"]

    async def scenario() -> None:
        async with client_for(app) as client:
            for value in ("v1,\xe9\xff", "v1," + "A" * 5000, "   "):
                headers = [*bad, ("webhook-signature", value)]
                status, text = await post(client, "/hook", Request(BODY, headers))
                assert 400 <= status < 500, value
                assert_generic(status, text.decode())

    run(scenario())
    assert calls == []
