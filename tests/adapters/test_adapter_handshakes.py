"""Subscription handshakes answered by every adapter, with no handler code (issues 19 and 20).

Each case of ``handshake_support.CASES`` (Slack ``url_verification``, Discord PING, Zoom
``endpoint.url_validation``, Twitch callback verification, Meta's and Dropbox's ``GET``
challenges, Okta's verification; forged handshakes and wrong verify tokens; an ordinary
delivery as the control) goes through each framework's own test client: Flask, Django (sync
and async views), the Starlette middleware, FastAPI with the middleware in front, aiohttp,
AWS Lambda events (REST and HTTP APIs) and Litestar. Then a signed and an unsigned handshake
under real servers (werkzeug and uvicorn), a replayed handshake (refused, record kept) and an
Amazon SNS confirmation that fails (503, record released so SNS's retry is confirmed).
"""

from __future__ import annotations

import asyncio
import datetime
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from handshake_support import (
    CALLS,
    CASE_NAMES,
    CASES,
    PROVIDERS,
    SNS_CONFIRM_URL,
    SNS_CONFIRMED,
    VERIFIERS,
    Expect,
    Req,
    make_verifiers,
)

from hookseal import Verified, Verifier

pytestmark = pytest.mark.extras


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None
    body: bytes
    nosniff: bool


@pytest.fixture(autouse=True)
def _fresh() -> None:
    CALLS.clear()
    SNS_CONFIRMED.clear()
    VERIFIERS.clear()
    VERIFIERS.update(make_verifiers())


# -- the adapters, each driven through its own test client -------------------------------------


def flask_app(verifiers: dict[str, Verifier]) -> Any:
    from flask import Flask

    from hookseal.contrib.flask import verify_webhook

    app = Flask(__name__)

    def add(provider: str) -> None:
        @verify_webhook(verifiers[provider])
        def view() -> str:
            CALLS.append(provider)
            return "handled"

        app.add_url_rule(f"/hooks/{provider}", f"hook_{provider}", view, methods=["GET", "POST"])

    for provider in PROVIDERS:
        add(provider)
    return app


def via_flask(req: Req) -> Answer:
    client = flask_app(VERIFIERS).test_client()
    response = client.open(
        req.path, method=req.method, query_string=req.query, headers=req.headers, data=req.body
    )
    return Answer(
        response.status_code,
        response.headers.get("Content-Type"),
        response.get_data(),
        response.headers.get("X-Content-Type-Options") == "nosniff",
    )


_CSRF = "django.middleware.csrf.CsrfViewMiddleware"


def _django(req: Req, prefix: str) -> Answer:
    from django.test import AsyncClient, Client, override_settings

    headers = dict(req.headers)
    content_type = headers.pop("Content-Type", "application/octet-stream")
    target = f"{prefix}{req.path}" + (f"?{req.query}" if req.query else "")
    # CSRF stays on: the verified views are exempt, the handshakes answered before it matters.
    urls: dict[str, Any] = {"ROOT_URLCONF": "hookseal_django_handshake_urls", "MIDDLEWARE": [_CSRF]}
    if prefix == "/mw":
        urls["MIDDLEWARE"] = ["hookseal.contrib.django.WebhookMiddleware", _CSRF]
        urls["HOOKSEAL"] = {f"/mw/hooks/{p}": verifier for p, verifier in VERIFIERS.items()}
    with override_settings(**urls):
        if prefix == "/async":
            response = asyncio.run(
                AsyncClient(enforce_csrf_checks=True).generic(
                    req.method, target, req.body, content_type=content_type, headers=headers
                )
            )
        else:
            response = Client(enforce_csrf_checks=True).generic(
                req.method, target, req.body, content_type=content_type, headers=headers
            )
    return Answer(
        response.status_code,
        response.get("Content-Type"),
        response.content,
        response.get("X-Content-Type-Options") == "nosniff",
    )


def via_django(req: Req) -> Answer:
    return _django(req, "")


def via_django_async(req: Req) -> Answer:
    return _django(req, "/async")


def via_django_middleware(req: Req) -> Answer:
    return _django(req, "/mw")


async def _endpoint(request: Any) -> Any:
    from starlette.responses import PlainTextResponse

    CALLS.append(request.url.path.rsplit("/", 1)[-1])
    return PlainTextResponse("handled")


def starlette_app(verifiers: dict[str, Verifier]) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Route

    from hookseal.contrib.starlette import WebhookMiddleware

    routes = [Route(f"/hooks/{p}", _endpoint, methods=["GET", "POST"]) for p in PROVIDERS]
    app = Starlette(routes=routes)
    table = {f"/hooks/{p}": verifier for p, verifier in verifiers.items()}
    app.add_middleware(WebhookMiddleware, routes=table)
    return app


def fastapi_app(verifiers: dict[str, Verifier]) -> Any:
    from fastapi import Depends, FastAPI
    from fastapi.responses import PlainTextResponse

    from hookseal.contrib.fastapi import verify_webhook
    from hookseal.contrib.starlette import WebhookMiddleware

    app = FastAPI()

    def add(provider: str) -> None:
        webhook_dependency = Depends(verify_webhook(verifiers[provider]))

        @app.api_route(
            f"/hooks/{provider}", methods=["GET", "POST"], response_class=PlainTextResponse
        )
        async def hook(webhook: Verified = webhook_dependency) -> str:
            CALLS.append(provider)
            return "handled"

    for provider in PROVIDERS:
        add(provider)
    table = {f"/hooks/{p}": verifier for p, verifier in verifiers.items()}
    app.add_middleware(WebhookMiddleware, routes=table)
    return app


def _asgi(app: Any, req: Req) -> Answer:
    from starlette.testclient import TestClient

    with TestClient(app) as client:
        response = client.request(
            req.method, req.target, headers=dict(req.headers), content=req.body
        )
    return Answer(
        response.status_code,
        response.headers.get("content-type"),
        response.content,
        response.headers.get("x-content-type-options") == "nosniff",
    )


def via_starlette(req: Req) -> Answer:
    return _asgi(starlette_app(VERIFIERS), req)


def via_fastapi(req: Req) -> Answer:
    return _asgi(fastapi_app(VERIFIERS), req)


def via_litestar(req: Req) -> Answer:
    from litestar import Litestar, route
    from litestar.testing import TestClient

    from hookseal.contrib.litestar import webhook_middleware

    def add(provider: str) -> Any:
        @route(
            f"/hooks/{provider}",
            http_method=["GET", "POST"],
            status_code=200,
            middleware=[webhook_middleware(VERIFIERS[provider])],
        )
        async def hook() -> str:
            CALLS.append(provider)
            return "handled"

        return hook

    app = Litestar(route_handlers=[add(provider) for provider in PROVIDERS])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.request(
            req.method, req.target, headers=dict(req.headers), content=req.body
        )
    return Answer(
        response.status_code,
        response.headers.get("content-type"),
        response.content,
        response.headers.get("x-content-type-options") == "nosniff",
    )


def _via_aiohttp(req: Req, middleware: bool) -> Answer:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from hookseal.contrib.aiohttp import WebhookMiddleware, verify_webhook

    def add(app: web.Application, provider: str) -> None:
        async def hook(request: web.Request) -> web.Response:
            CALLS.append(provider)
            return web.Response(text="handled")

        handler = hook if middleware else verify_webhook(VERIFIERS[provider])(hook)
        app.router.add_route("*", f"/hooks/{provider}", handler)

    async def scenario() -> Answer:
        table = {f"/hooks/{p}": verifier for p, verifier in VERIFIERS.items()}
        app = web.Application(middlewares=[WebhookMiddleware(table)] if middleware else [])
        for provider in PROVIDERS:
            add(app, provider)
        client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        try:
            response = await client.request(
                req.method, req.target, headers=req.headers, data=req.body
            )
            return Answer(
                response.status,
                response.headers.get("Content-Type"),
                await response.read(),
                response.headers.get("X-Content-Type-Options") == "nosniff",
            )
        finally:
            await client.close()

    return asyncio.run(scenario())


def via_aiohttp(req: Req) -> Answer:
    return _via_aiohttp(req, middleware=False)


def via_aiohttp_middleware(req: Req) -> Answer:
    return _via_aiohttp(req, middleware=True)


def _lambda_event(req: Req, kind: str) -> dict[str, Any]:
    """An API Gateway event (``rest``: payload 1.0, ``http``: 2.0) carrying ``req``."""
    params = urllib.parse.parse_qs(req.query, keep_blank_values=True)
    body = req.body.decode()
    if kind == "http":
        return {
            "version": "2.0",
            "rawPath": req.path,
            "rawQueryString": req.query,
            "headers": {name.lower(): value for name, value in req.headers},
            "queryStringParameters": {name: values[-1] for name, values in params.items()},
            "requestContext": {"http": {"method": req.method, "path": req.path}},
            "body": body,
            "isBase64Encoded": False,
        }
    return {
        "httpMethod": req.method,
        "path": req.path,
        "headers": dict(req.headers),
        "multiValueHeaders": {name: [value] for name, value in req.headers},
        "queryStringParameters": {name: values[-1] for name, values in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "requestContext": {"identity": {"sourceIp": "203.0.113.7"}},
        "body": body,
        "isBase64Encoded": False,
    }


def _via_lambda(req: Req, kind: str) -> Answer:
    from hookseal.contrib.aws_lambda import verify_webhook

    @verify_webhook(VERIFIERS[req.provider])
    def handler(event: Any, context: Any) -> Any:
        CALLS.append(req.provider)
        return {"statusCode": 200, "body": "handled"}

    result = handler(_lambda_event(req, kind), None)
    headers = {name.lower(): value for name, value in (result.get("headers") or {}).items()}
    return Answer(
        result["statusCode"],
        headers.get("content-type"),
        result["body"].encode(),
        headers.get("x-content-type-options") == "nosniff",
    )


def via_lambda_rest(req: Req) -> Answer:
    return _via_lambda(req, "rest")


def via_lambda_http(req: Req) -> Answer:
    return _via_lambda(req, "http")


ADAPTERS: dict[str, Callable[[Req], Answer]] = {
    "flask": via_flask,
    "django": via_django,
    "django-async": via_django_async,
    "django-middleware": via_django_middleware,
    "starlette": via_starlette,
    "fastapi": via_fastapi,
    "litestar": via_litestar,
    "aiohttp": via_aiohttp,
    "aiohttp-middleware": via_aiohttp_middleware,
    "lambda-rest": via_lambda_rest,
    "lambda-http": via_lambda_http,
}


def _check(answer: Answer, expect: Expect, provider: str) -> None:
    assert answer.status == expect.status, answer
    if expect.handled:
        assert answer.body == b"handled"
        assert provider in CALLS
        return
    assert CALLS == []  # a handshake, or its forgery, never reaches the handler
    if expect.body is None:
        assert answer.body.strip() == b"invalid webhook signature"
        return
    assert answer.body == expect.body
    assert answer.content_type is not None
    assert expect.content_type is not None
    # Frameworks spell the same type differently ("text/plain; charset=utf-8" or without it).
    assert answer.content_type.split(";")[0] == expect.content_type.split(";")[0]
    assert answer.nosniff


@pytest.mark.parametrize("case", CASE_NAMES)
@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_handshakes_through_every_adapter(adapter: str, case: str) -> None:
    build, expect = CASES[case]
    req = build()
    _check(ADAPTERS[adapter](req), expect, req.provider)
    # A confirmation is confirmed by visiting its SubscribeURL, once; nothing else visits it.
    confirmed = [SNS_CONFIRM_URL] if case == "sns-subscription_confirmation" else []
    assert confirmed == SNS_CONFIRMED


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_no_unsigned_handshake_is_asked_of_a_scheme_that_has_none(
    adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub has no unsigned handshake: its deliveries skip building one (headers, query)."""
    asked: list[str] = []
    original = Verifier.unsigned_handshake_reply

    def recording(self: Verifier, *args: Any, **kwargs: Any) -> Any:
        asked.append(self.scheme.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Verifier, "unsigned_handshake_reply", recording)
    build, expect = CASES["github-delivery"]
    req = build()
    _check(ADAPTERS[adapter](req), expect, req.provider)
    assert asked == []
    CALLS.clear()
    build, expect = CASES["meta-get"]  # a scheme that has one is still asked
    req = build()
    _check(ADAPTERS[adapter](req), expect, req.provider)
    assert asked == ["meta"]


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_a_replayed_signed_handshake_is_refused(adapter: str) -> None:
    """The handshake keeps its replay record: the same bytes again are a replay (409)."""
    build, expect = CASES["slack-url_verification"]
    req = build()
    _check(ADAPTERS[adapter](req), expect, "slack")
    assert ADAPTERS[adapter](req).status == 409
    assert CALLS == []


# -- Amazon SNS: a confirmation that fails is answered 503 and its record released ----------------


def test_a_failed_sns_confirmation_is_503_and_its_retry_is_answered_again() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from hookseal.published_keys import KeyUnavailable, PublishedKeys
    from hookseal.schemes.aws_sns import AmazonSNS, SNSSigningKey, sign_message

    topic = "arn:aws:sns:us-east-1:123456789012:orders"
    cert_url = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"
    confirm_url = (
        f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}&Token=t"
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    visits: list[str] = []
    failing = [True]

    class LoopbackFreeKeys(PublishedKeys):
        """The certificate from memory; the confirmation fails until ``failing`` is cleared."""

        def get(self, url: str, rule: Any, parse: Any, **options: Any) -> Any:
            return parse(pem)

        def fetch(self, url: str, rule: Any) -> bytes:
            visits.append(url)
            if failing[0]:
                raise KeyUnavailable("SNS is unreachable")
            return b"<ok/>"

    keys = LoopbackFreeKeys()
    verifier = Verifier(AmazonSNS(published_keys=keys, confirm_subscriptions=True), [topic])
    body = sign_message(
        SNSSigningKey(key, cert_url),
        topic_arn=topic,
        message="confirm",
        timestamp=int(now.timestamp()),
        msg_id="m-1",
        message_type="SubscriptionConfirmation",
        token="t",
        subscribe_url=confirm_url,
    )
    app = flask_app({**VERIFIERS, "github": verifier})
    client = app.test_client()
    first = client.post("/hooks/github", data=body)
    assert first.status_code == 503
    failing[0] = False
    second = client.post("/hooks/github", data=body)  # SNS's retry: the record was released
    assert (second.status_code, second.get_data()) == (200, b"")
    assert visits == [confirm_url, confirm_url]
    assert client.post("/hooks/github", data=body).status_code == 409  # now recorded
    assert CALLS == []


# -- real servers ----------------------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.parametrize("server", ["werkzeug-flask", "uvicorn-starlette"])
def test_signed_and_unsigned_handshakes_under_a_real_server(server: str) -> None:
    from test_servers import serve_uvicorn, serve_werkzeug

    if server == "werkzeug-flask":
        serving = serve_werkzeug(flask_app(VERIFIERS))
    else:
        serving = serve_uvicorn(starlette_app(VERIFIERS))
    for base in serving:
        with httpx.Client(base_url=base, timeout=10) as client:
            for case in (
                "slack-url_verification",
                "zoom-url_validation",
                "meta-get",
                "sns-subscription_confirmation",
            ):
                build, expect = CASES[case]
                req = build()
                response = client.request(
                    req.method, req.target, headers=req.headers, content=req.body
                )
                _check(
                    Answer(
                        response.status_code,
                        response.headers.get("content-type"),
                        response.content,
                        response.headers.get("x-content-type-options") == "nosniff",
                    ),
                    expect,
                    req.provider,
                )
            forged = CASES["meta-wrong-token"][0]()
            assert client.get(forged.target).status_code == 401
            assert CALLS == []
            # An SNS notification, verified end to end, reaches the handler.
            notification = CASES["sns-notification"][0]()
            response = client.post(
                notification.target, headers=notification.headers, content=notification.body
            )
            assert (response.status_code, response.content) == (200, b"handled")
            assert CALLS == ["sns"]


def test_cases_cover_every_provider() -> None:
    assert {build().provider for build, _ in CASES.values()} == set(PROVIDERS) == set(VERIFIERS)
