"""hookseal.contrib.fastapi: ``Depends(verify_webhook(...))`` through FastAPI's TestClient."""

# No "from __future__ import annotations": FastAPI resolves the Depends() in Annotated at runtime.

import logging
from typing import Annotated, Any

import pytest
from adapter_support import (
    BODY,
    CASE_IDS,
    LIMIT,
    OTHER_SECRET,
    REJECTIONS,
    Case,
    Request,
    forbidding_verifier,
    make_verifier,
    rejection_logs,
    signed,
)
from fastapi import Depends, FastAPI
from fastapi import Request as FastAPIRequest
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

from hookseal import ConfigurationError, VerificationError, Verified, Verifier
from hookseal.contrib.fastapi import WebhookRejected, verify_webhook
from hookseal.contrib.starlette import WebhookMiddleware
from hookseal.schemes import StandardWebhooks
from hookseal.stores.memory import MemoryNonceStore

pytestmark = pytest.mark.extras

PEER = ("127.0.0.1", 50000)


def build() -> tuple[TestClient, list[Any], list[Any]]:
    calls: list[Any] = []
    rejected: list[Any] = []

    def on_reject(request: Any, error: VerificationError) -> None:
        rejected.append((request.url.path, error.reason))

    verifier = make_verifier()
    webhook = Depends(verify_webhook(verifier, on_reject=on_reject))
    app = FastAPI()

    @app.post("/async")
    async def async_endpoint(
        request: FastAPIRequest, hook: Annotated[Verified, webhook]
    ) -> Response:
        again = await request.body()
        assert again == hook.body  # the handler re-reads the exact verified bytes
        calls.append(hook.msg_id)
        return Response(again)

    @app.post("/sync")
    def sync_endpoint(hook: Annotated[Verified, webhook]) -> Response:
        calls.append(hook.msg_id)
        return Response(hook.body)

    @app.post("/forbidden")
    def forbidden(
        hook: Annotated[Verified, Depends(verify_webhook(forbidding_verifier()))],
    ) -> str:
        calls.append(hook)  # pragma: no cover - never reached
        return "never"  # pragma: no cover

    @app.post("/model")
    async def with_body_model(payload: dict[str, Any], hook: Annotated[Verified, webhook]) -> Any:
        calls.append(hook.msg_id)
        return {"same": payload == hook.json()}

    return TestClient(app, client=PEER), calls, rejected


@pytest.fixture
def setup() -> tuple[TestClient, list[Any], list[Any]]:
    return build()


def post(client: TestClient, path: str, req: Request) -> Any:
    return client.post(path, content=req.body, headers=req.headers)


@pytest.mark.parametrize("path", ["/async", "/sync"])
def test_valid(setup: Any, path: str) -> None:
    client, calls, _ = setup
    req = signed()
    response = post(client, path, req)
    assert response.status_code == 200
    assert response.content == BODY
    assert calls == [req.header_dict()["webhook-id"]]


@pytest.mark.parametrize("path", ["/async", "/sync"])
@pytest.mark.parametrize("case", REJECTIONS, ids=CASE_IDS)
def test_rejections(setup: Any, caplog: pytest.LogCaptureFixture, case: Case, path: str) -> None:
    client, calls, rejected = setup
    caplog.set_level(logging.INFO, "hookseal")
    response = post(client, path, case.build())
    assert response.status_code == case.status
    assert response.json() == {"detail": GENERIC_TEXT[case.status]}
    assert calls == []
    assert len(rejection_logs(caplog)) == 1
    assert [p for p, _ in rejected] == [path]


GENERIC_TEXT = {
    400: "malformed webhook request",
    401: "invalid webhook signature",
    403: "webhook sender not allowed",
    409: "webhook delivery already received",
    413: "webhook payload too large",
}


def test_replay(setup: Any) -> None:
    client, calls, rejected = setup
    req = signed()
    assert post(client, "/async", req).status_code == 200
    response = post(client, "/sync", req)
    assert response.status_code == 409
    assert len(calls) == 1
    assert rejected == [("/sync", "replayed")]


def test_forbidden(setup: Any) -> None:
    client, calls, _ = setup
    response = post(client, "/forbidden", signed())
    assert response.status_code == 403
    assert response.json() == {"detail": GENERIC_TEXT[403]}
    assert calls == []


def test_chunked(setup: Any) -> None:
    client, calls, _ = setup
    ok = signed(b"c" * LIMIT)
    body_chunks = (ok.body[i : i + 300] for i in range(0, LIMIT, 300))
    response = client.post("/async", content=body_chunks, headers=ok.headers)
    assert (response.status_code, response.content) == (200, ok.body)
    big = signed(b"c" * (LIMIT * 2))
    big_chunks = (big.body[i : i + 300] for i in range(0, len(big.body), 300))
    assert client.post("/async", content=big_chunks, headers=big.headers).status_code == 413
    assert len(calls) == 1


def test_declared_body_model_still_verifies_the_raw_bytes(setup: Any) -> None:
    client, calls, _ = setup
    response = post(client, "/model", signed())
    assert response.json() == {"same": True}
    original = signed(b'{"a": 1}')
    reserialised = Request(b'{"a":1}', original.headers)  # row 8: json.dumps(json.loads(body))
    assert post(client, "/model", reserialised).status_code == 401
    assert len(calls) == 1


def test_exception_handler_can_customise_rejections() -> None:
    app = FastAPI()

    @app.exception_handler(WebhookRejected)
    async def custom(request: FastAPIRequest, exc: WebhookRejected) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.post("/h")
    def endpoint(hook: Annotated[Verified, Depends(verify_webhook(make_verifier()))]) -> str:
        return "ok"  # pragma: no cover - never reached

    response = post(TestClient(app, client=PEER), "/h", signed(timestamp=0))
    assert response.status_code == 401
    assert response.json() == {"error": GENERIC_TEXT[401]}


def test_middleware_and_dependency_verify_once() -> None:
    app = FastAPI()
    verifier = make_verifier()
    seen: list[Any] = []

    @app.post("/h")
    async def endpoint(
        request: FastAPIRequest, hook: Annotated[Verified, Depends(verify_webhook(verifier))]
    ) -> Response:
        seen.append(hook is request.state.webhook)
        return Response(await request.body())

    app.add_middleware(WebhookMiddleware, routes={"/h": verifier})
    client = TestClient(app, client=PEER)
    response = post(client, "/h", signed())
    assert (response.status_code, response.content, seen) == (200, BODY, [True])
    assert (
        post(client, "/h", signed(b"x" * (LIMIT + 1))).text.strip() == "webhook payload too large"
    )


def test_dependency_does_not_trust_another_verifiers_verdict() -> None:
    # The middleware verifies /h with one secret; the route's dependency is built with
    # another. The dependency must verify for itself, not reuse the middleware's verdict.
    app = FastAPI()
    other = Verifier(StandardWebhooks(), OTHER_SECRET, nonce_store=None)
    seen: list[Any] = []

    @app.post("/h")
    async def endpoint(hook: Annotated[Verified, Depends(verify_webhook(other))]) -> Response:
        seen.append(hook)  # pragma: no cover - never reached
        return Response(b"")  # pragma: no cover - never reached

    app.add_middleware(WebhookMiddleware, routes={"/h": make_verifier()})
    response = post(TestClient(app, client=PEER), "/h", signed())
    assert response.status_code == 401
    assert seen == []


def test_configuration_is_validated() -> None:
    with pytest.raises(ConfigurationError):
        verify_webhook(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        verify_webhook(make_verifier(), replay_status=100)
    with pytest.raises(ConfigurationError):
        verify_webhook(make_verifier(), public_url="example.com")


# -- Twilio: a URL-signing scheme, a Form(...) endpoint --------------------------------------

TWILIO_TOKEN = "twilio-auth-token-for-adapter-tests"
FORM = b"Body=hello&From=%2B15551234567&MessageSid=SM0123"
PUBLIC = "https://hooks.example.com"


def _twilio_verifier() -> Verifier:
    from hookseal.schemes import Twilio
    from hookseal.stores.memory import MemoryNonceStore

    return Verifier(Twilio(), TWILIO_TOKEN, nonce_store=MemoryNonceStore())


def _twilio_signed(url: str) -> Request:
    from hookseal import Signer
    from hookseal.schemes import Twilio

    return Request(FORM, list(Signer(Twilio(), TWILIO_TOKEN).sign(FORM, url=url).items()))


def test_url_signing_scheme_needs_public_url() -> None:
    with pytest.raises(ConfigurationError, match=r"public_url='https://your\.public\.host'"):
        verify_webhook(_twilio_verifier())
    verify_webhook(_twilio_verifier(), public_url=PUBLIC)


def _twilio_app(verifier: Verifier, calls: list[Any]) -> FastAPI:
    from fastapi import Form

    twilio = Depends(verify_webhook(verifier, public_url=PUBLIC))
    app = FastAPI()

    @app.post("/sms")
    async def sms(
        hook: Annotated[Verified, twilio],
        Body: Annotated[str, Form()],  # Twilio's parameter names
        From: Annotated[str, Form()],
    ) -> Response:
        calls.append((hook.body, Body, From))
        return Response(b"<Response/>", media_type="text/xml")

    return app


def test_form_endpoint_without_the_middleware_refuses_with_what_to_do() -> None:
    # FastAPI parses Form(...) before any dependency runs and keeps no raw bytes: the
    # dependency cannot verify, and must say so rather than crash ("Stream consumed").
    calls: list[Any] = []
    client = TestClient(_twilio_app(_twilio_verifier(), calls), base_url=PUBLIC, client=PEER)
    genuine = _twilio_signed(PUBLIC + "/sms")
    with pytest.raises(ConfigurationError, match="WebhookMiddleware"):
        client.post("/sms", content=genuine.body, headers=genuine.headers)
    assert calls == []


def test_form_endpoint_with_the_middleware_accepts_genuine_deliveries() -> None:
    calls: list[Any] = []
    verifier = _twilio_verifier()
    app = _twilio_app(verifier, calls)
    app.add_middleware(WebhookMiddleware, routes={"/sms": verifier}, public_url=PUBLIC)
    client = TestClient(app, base_url="http://internal:8000", client=PEER)
    genuine = _twilio_signed(PUBLIC + "/sms")
    response = client.post("/sms", content=genuine.body, headers=genuine.headers)
    assert response.status_code == 200
    assert calls == [(FORM, "hello", "+15551234567")]
    forged = _twilio_signed("https://elsewhere.example.com/sms")
    response = client.post("/sms", content=forged.body, headers=forged.headers)
    assert response.status_code == 401
    assert len(calls) == 1


def _equal_verifiers_app(
    middleware: Verifier, dependency: Verifier, seen: list[Any], rejected: list[Any]
) -> FastAPI:
    """The middleware and the dependency built from two distinct Verifier objects."""
    app = FastAPI()
    webhook = verify_webhook(dependency, on_reject=lambda _r, e: rejected.append(e.reason))

    @app.post("/h")
    async def endpoint(
        request: FastAPIRequest, hook: Annotated[Verified, Depends(webhook)]
    ) -> Response:
        body = await request.body()
        seen.append((hook is request.state.webhook, hook.msg_id, body == hook.body))
        if body == b"fail":
            raise RuntimeError("the endpoint failed")
        return Response(body)

    app.add_middleware(WebhookMiddleware, routes={"/h": middleware})
    return app


def test_middleware_and_an_equal_dependency_verifier_accept_a_genuine_delivery() -> None:
    """Two equal verifiers on one store (the process-wide default store, or a shared one):
    the dependency finds the middleware's record of this very request and returns its
    verdict. Before, every genuine delivery was refused 409."""
    store = MemoryNonceStore()
    seen: list[Any] = []
    rejected: list[Any] = []
    app = _equal_verifiers_app(
        make_verifier(nonce_store=store), make_verifier(nonce_store=store), seen, rejected
    )
    client = TestClient(app, client=PEER, raise_server_exceptions=False)
    genuine = signed()
    response = post(client, "/h", genuine)
    assert (response.status_code, response.content) == (200, BODY)
    assert seen == [(True, genuine.header_dict()["webhook-id"], True)]
    assert rejected == []
    # A real replay is still refused (by the middleware, before the endpoint).
    assert post(client, "/h", genuine).status_code == 409
    assert len(seen) == 1
    # The endpoint failing releases the record (the middleware's): the retry is accepted.
    failing = signed(b"fail")
    assert post(client, "/h", failing).status_code == 500
    assert post(client, "/h", failing).status_code == 500  # accepted again, failed again
    assert [entry[2] for entry in seen] == [True, True, True]


@pytest.mark.parametrize("middleware_store", ["none", "another"])
def test_dependency_still_refuses_a_replay_the_middleware_did_not_record(
    middleware_store: str,
) -> None:
    """The middleware's verdict is taken over a replay only when its record is the one found."""
    store = MemoryNonceStore()
    earlier = make_verifier(nonce_store=store)
    genuine = signed()
    earlier.verify(genuine.body, genuine.headers)  # the delivery was accepted once already
    seen: list[Any] = []
    rejected: list[Any] = []
    app = _equal_verifiers_app(
        make_verifier(nonce_store=None if middleware_store == "none" else MemoryNonceStore()),
        make_verifier(nonce_store=store),
        seen,
        rejected,
    )
    response = post(TestClient(app, client=PEER), "/h", genuine)
    assert response.status_code == 409
    assert (seen, rejected) == ([], ["replayed"])


# -- get_webhook and the deprecated name ---------------------------------------------------


def test_get_webhook_returns_the_dependency_result_or_raises_lookup_error() -> None:
    from hookseal.contrib.fastapi import get_webhook

    seen: list[Any] = []
    app = FastAPI()

    def from_the_request(request: FastAPIRequest) -> Verified:
        return get_webhook(request)  # code that has the request, not the parameter

    @app.post("/hook")
    def endpoint(
        hook: Annotated[Verified, Depends(verify_webhook(make_verifier()))],
        again: Annotated[Verified, Depends(from_the_request)],
    ) -> Response:
        seen.append((hook, again))
        return Response(hook.body)

    @app.post("/open")
    def open_endpoint(request: FastAPIRequest) -> Response:
        try:
            get_webhook(request)
        except LookupError as exc:
            return Response(str(exc), status_code=418)
        return Response(b"verified?")  # pragma: no cover - the assertion below fails

    client = TestClient(app, client=PEER)
    req = signed()
    response = post(client, "/hook", req)
    assert response.status_code == 200
    assert response.content == BODY
    [(hook, again)] = seen
    assert isinstance(hook, Verified)
    assert again is hook
    refused = post(client, "/open", req)
    assert refused.status_code == 418
    assert "not protected" in refused.text
    assert "Depends(verify_webhook(verifier))" in refused.text


def test_get_webhook_after_the_middleware_alone() -> None:
    from hookseal.contrib.fastapi import get_webhook

    app = FastAPI()

    @app.post("/hook")
    def hook(request: FastAPIRequest) -> Response:
        return Response(get_webhook(request).body)

    app.add_middleware(WebhookMiddleware, routes={"/hook": make_verifier()})
    assert post(TestClient(app, client=PEER), "/hook", signed()).content == BODY


def test_verified_webhook_warns_and_still_works() -> None:
    import hookseal.contrib.fastapi as module

    with pytest.warns(DeprecationWarning, match="use verify_webhook"):
        from hookseal.contrib.fastapi import verified_webhook
    assert verified_webhook is verify_webhook
    assert "verified_webhook" not in module.__all__
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018
    app = FastAPI()

    @app.post("/hook")
    def hook(webhook: Annotated[Verified, Depends(verified_webhook(make_verifier()))]) -> Response:
        return Response(webhook.body)

    client = TestClient(app, client=PEER)
    assert post(client, "/hook", signed()).status_code == 200
    assert post(client, "/hook", signed(secret=OTHER_SECRET)).status_code == 401
