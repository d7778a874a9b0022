"""hookseal.contrib.aws_lambda against the HTTP events AWS publishes (lambda_events/).

Each sample event (API Gateway REST and HTTP APIs, a function URL, ALB targets with and
without multi-value headers) is loaded as AWS ships it and given a signed delivery in the
fields its integration uses. The handler is called as the Lambda runtime calls it,
``handler(event, context)``; with Powertools' event classes and resolvers in the interop
tests. ``test_real_server_end_to_end`` serves the handler over real sockets the way API
Gateway does (an HTTP server on 127.0.0.1 turning each request into a 2.0 event).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import http.server
import importlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
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
    make_verifier,
    rejection_logs,
    signed,
)

from hookseal import ConfigurationError, IPAllowlist, Signer, Verified, Verifier
from hookseal.contrib.aws_lambda import (
    event_kind,
    get_webhook,
    rejection_response,
    request_url,
    verify_webhook,
)
from hookseal.stores.memory import MemoryNonceStore

EVENTS = Path(__file__).parent / "lambda_events"
#: sample file -> the integration it comes from.
SAMPLES = {
    "apiGatewayProxyEvent": "rest",
    "apiGatewayProxyV2Event": "http",
    "lambdaFunctionUrlEvent": "http",
    "albEvent": "alb",
    "albMultiValueHeadersEvent": "alb",
}


def powertools() -> None:
    """aws-lambda-powertools: skipped locally when absent, a failure under CI=true."""
    if os.environ.get("CI") == "true":
        importlib.import_module("aws_lambda_powertools")
    else:
        pytest.importorskip("aws_lambda_powertools")


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def make_event(
    name: str,
    request: Request,
    *,
    base64_body: bool = False,
    source_ip: str | None = "203.0.113.7",
) -> dict[str, Any]:
    """The sample ``name`` carrying ``request`` as its integration would deliver it."""
    event = load(name)
    kind = SAMPLES[name]
    if base64_body:
        event["body"] = base64.b64encode(request.body).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = request.body.decode("utf-8")
        event["isBase64Encoded"] = False
    if kind == "http":
        # API Gateway 2.0 lower-cases names and joins repeated lines with commas.
        headers: dict[str, str] = dict(event.get("headers") or {})
        for key, value in request.headers:
            low = key.lower()
            headers[low] = f"{headers[low]},{value}" if low in headers else value
        event["headers"] = headers
        event["requestContext"]["http"]["method"] = "POST"
        if source_ip is not None:
            event["requestContext"]["http"]["sourceIp"] = source_ip
        return event
    event["httpMethod"] = "POST"
    multi: dict[str, list[str]] = {}
    for key, value in request.headers:
        multi.setdefault(key if kind == "rest" else key.lower(), []).append(value)
    if kind == "rest":
        event["headers"] = {**(event.get("headers") or {}), **{k: v[-1] for k, v in multi.items()}}
        event["multiValueHeaders"] = {**(event.get("multiValueHeaders") or {}), **multi}
        if source_ip is not None:
            event["requestContext"]["identity"]["sourceIp"] = source_ip
    elif "multiValueHeaders" in event:
        event["multiValueHeaders"] = {**event["multiValueHeaders"], **multi}
    else:
        event["headers"] = {**event["headers"], **{k: v[-1] for k, v in multi.items()}}
    return event


class Handler:
    """A protected handler that records what it saw; returns a 200 proxy response."""

    def __init__(self, verifier: Verifier | None = None, **options: Any) -> None:
        self.verifier = verifier or make_verifier()
        self.calls: list[tuple[Any, Verified]] = []
        self.rejected: list[tuple[Any, str]] = []
        self.result: Callable[[], Any] = lambda: {"statusCode": 200, "body": "ok"}
        options.setdefault(
            "on_reject", lambda event, error: self.rejected.append((event, error.reason))
        )

        @verify_webhook(self.verifier, **options)
        def handler(event: Any, context: Any) -> Any:
            webhook = get_webhook(event)
            self.calls.append((event, webhook))
            return self.result()

        self.handler = handler

    def __call__(self, event: Any, context: Any = None) -> Any:
        return self.handler(event, context)


# -- the published sample events --------------------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_event_kinds(name: str) -> None:
    assert event_kind(load(name)) == SAMPLES[name]


@pytest.mark.parametrize("base64_body", [False, True], ids=["text", "base64"])
@pytest.mark.parametrize("name", list(SAMPLES))
def test_genuine_then_replay(name: str, base64_body: bool) -> None:
    handler = Handler()
    genuine = signed()
    event = make_event(name, genuine, base64_body=base64_body)
    assert handler(event) == {"statusCode": 200, "body": "ok"}
    seen, webhook = handler.calls[0]
    assert seen is event  # the handler gets the event object it was given
    assert webhook.body == BODY
    assert webhook.msg_id == genuine.header_dict()["webhook-id"]
    replay = handler(copy.deepcopy(event))
    assert replay["statusCode"] == 409
    assert_generic(409, replay["body"])
    assert len(handler.calls) == 1


@pytest.mark.parametrize("name", list(SAMPLES))
@pytest.mark.parametrize("case", REJECTIONS, ids=CASE_IDS)
def test_rejections(name: str, case: Case, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hookseal")
    request = case.build()
    expected = {case.status}
    if case.name == "duplicate-header" and SAMPLES[name] == "http":
        expected = {400, 401}  # 2.0 events join the lines with a comma: one bad value
    elif case.name == "duplicate-header" and name == "albEvent":
        expected = {401}  # ALB without multi-value headers keeps the last line only
    handler = Handler()
    response = handler(make_event(name, request))
    assert response["statusCode"] in expected, response
    status = response["statusCode"]
    assert_generic(status, response["body"])
    assert handler.calls == []
    assert len(handler.verifier.nonce_store) == 0
    assert len(rejection_logs(caplog)) == 1
    assert len(handler.rejected) == 1


@pytest.mark.parametrize("name", list(SAMPLES))
def test_rejection_is_a_proxy_response_for_the_integration(name: str) -> None:
    event = make_event(name, signed(secret=OTHER_SECRET))
    response = Handler()(event)
    assert response["statusCode"] == 401
    assert response["isBase64Encoded"] is False
    assert response["body"] == "invalid webhook signature\n"
    if name == "albMultiValueHeadersEvent":
        assert response["multiValueHeaders"] == {"Content-Type": ["text/plain; charset=utf-8"]}
        assert "headers" not in response
    else:
        assert response["headers"] == {"Content-Type": "text/plain; charset=utf-8"}
    if SAMPLES[name] == "alb":
        assert response["statusDescription"] == "401 Unauthorized"
    else:
        assert "statusDescription" not in response
    assert rejection_response(event, 401, "x")["statusCode"] == 401


def test_rest_api_multi_value_headers_keep_repeated_lines() -> None:
    """``headers`` holds the last line only (here the genuine signature): the adapter reads
    ``multiValueHeaders`` and refuses the repeated header."""
    genuine = signed()
    forged = signed(secret=OTHER_SECRET).header_dict()["webhook-signature"]
    lines = [(k, v) for k, v in genuine.headers if k != "webhook-signature"]
    lines += [
        ("webhook-signature", forged),
        ("webhook-signature", genuine.header_dict()["webhook-signature"]),
    ]
    event = make_event("apiGatewayProxyEvent", Request(BODY, lines))
    assert event["headers"]["webhook-signature"] == genuine.header_dict()["webhook-signature"]
    handler = Handler()
    response = handler(event)
    assert response["statusCode"] == 400
    assert handler.calls == []


# -- bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["apiGatewayProxyEvent", "apiGatewayProxyV2Event", "albEvent"])
def test_binary_body_is_decoded_byte_for_byte(name: str) -> None:
    raw = b"\xff\xfe\x00binary\x80\r\n" + bytes(range(256))
    handler = Handler()
    assert handler(make_event(name, signed(raw), base64_body=True))["statusCode"] == 200
    assert handler.calls[0][1].body == raw


@pytest.mark.parametrize("body", ["!!!!", "aGVsbG8=\n", "aGVsbG8", " aGVsbG8="])
def test_body_marked_base64_that_is_not_strict_base64_is_refused(body: str) -> None:
    event = make_event("apiGatewayProxyV2Event", signed(), base64_body=True)
    event["body"] = body
    handler = Handler()
    response = handler(event)
    assert response["statusCode"] == 400
    assert handler.calls == []
    assert [reason for _, reason in handler.rejected] == ["malformed_body"]


def test_text_body_that_is_not_unicode_is_a_mismatch_not_a_crash() -> None:
    event = make_event("apiGatewayProxyV2Event", signed())
    event["body"] = '{"note": "\ud800"}'  # a lone surrogate: no bytes were ever this
    response = Handler()(event)
    assert response["statusCode"] == 401


@pytest.mark.parametrize("base64_body", [False, True])
def test_body_over_the_limit(base64_body: bool) -> None:
    big = signed(b"k" * (LIMIT + 1))
    event = make_event("apiGatewayProxyV2Event", big, base64_body=base64_body)
    event["headers"].pop("content-length", None)
    response = Handler()(event)
    assert response["statusCode"] == 413
    assert_generic(413, response["body"])


def test_base64_body_far_over_the_limit_is_refused_before_decoding() -> None:
    from unittest import mock

    event = make_event("apiGatewayProxyV2Event", signed(), base64_body=True)
    event["body"] = "A" * (LIMIT * 10)
    with mock.patch("base64.b64decode", side_effect=AssertionError("decoded")):
        response = Handler()(event)
    assert response["statusCode"] == 413


def test_content_length_over_the_limit() -> None:
    event = make_event("apiGatewayProxyEvent", signed())
    event["multiValueHeaders"]["Content-Length"] = [str(LIMIT + 1)]
    assert Handler()(event)["statusCode"] == 413


# -- the source address -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["apiGatewayProxyEvent", "apiGatewayProxyV2Event", "lambdaFunctionUrlEvent"]
)
def test_allowlist_reads_the_source_ip_of_the_request_context(name: str) -> None:
    allow = IPAllowlist(["10.0.0.0/8"])
    inside = Handler(make_verifier(allowlist=allow))
    assert inside(make_event(name, signed(), source_ip="10.1.2.3"))["statusCode"] == 200
    outside = Handler(make_verifier(allowlist=allow))
    event = make_event(name, signed(), source_ip="203.0.113.9")
    event.setdefault("headers", {})["X-Forwarded-For"] = "10.1.2.3"  # the client's claim
    response = outside(event)
    assert response["statusCode"] == 403
    assert_generic(403, response["body"])
    assert outside.calls == []


@pytest.mark.parametrize("name", ["albEvent", "albMultiValueHeadersEvent"])
def test_alb_has_no_peer_address_the_forwarded_count_finds_the_client(name: str) -> None:
    refused = Handler(make_verifier(allowlist=IPAllowlist(["10.0.0.0/8"])))
    assert refused(make_event(name, signed()))["statusCode"] == 403  # no peer: fail closed
    # The ALB appends the client it saw to X-Forwarded-For: trusted_proxies=1 reads it.
    for client, status in (("10.1.2.3", 200), ("203.0.113.9", 403)):
        handler = Handler(make_verifier(allowlist=IPAllowlist(["10.0.0.0/8"], trusted_proxies=1)))
        request = signed()
        request.headers.append(("X-Forwarded-For", f"10.9.9.9, {client}"))
        assert handler(make_event(name, request))["statusCode"] == status


# -- URL-signing schemes ----------------------------------------------------------------------

TWILIO_TOKEN = "twilio-auth-token-for-adapter-tests"
FORM = b"Body=hello&From=%2B15551234567&MessageSid=SM0123"


def _twilio(public_url: str | None = None) -> Handler:
    from hookseal.schemes import Twilio

    verifier = Verifier(Twilio(), TWILIO_TOKEN, nonce_store=MemoryNonceStore())
    return Handler(verifier, public_url=public_url)


def _twilio_signed(url: str) -> Request:
    from hookseal.schemes import Twilio

    headers = dict(Signer(Twilio(), TWILIO_TOKEN).sign(FORM, url=url))
    headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return Request(FORM, list(headers.items()))


def test_url_signing_scheme_needs_public_url() -> None:
    with pytest.raises(ConfigurationError, match=r"public_url='https://your\.public\.host'"):
        _twilio()
    _twilio("https://hooks.example.com")


@pytest.mark.parametrize(
    ("name", "path_fields", "signed_url"),
    [
        (
            "apiGatewayProxyV2Event",
            {"rawPath": "/prod/sms", "rawQueryString": "tenant=a%20b&x=1"},
            "https://hooks.example.com/prod/sms?tenant=a%20b&x=1",
        ),
        (
            "lambdaFunctionUrlEvent",
            {"rawPath": "/sms", "rawQueryString": ""},
            "https://hooks.example.com/sms",
        ),
        (
            "apiGatewayProxyEvent",
            {
                "path": "/sms",
                "requestContext.path": "/prod/sms",
                "multiValueQueryStringParameters": {"tenant": ["a b"], "x": ["1"]},
            },
            "https://hooks.example.com/prod/sms?tenant=a%20b&x=1",
        ),
        (
            "albEvent",
            {"path": "/sms", "queryStringParameters": {"tenant": "a%20b"}},
            "https://hooks.example.com/sms?tenant=a%20b",
        ),
    ],
)
def test_signed_url_is_rebuilt_from_public_url_and_the_event(
    name: str, path_fields: dict[str, Any], signed_url: str
) -> None:
    def place(event: dict[str, Any]) -> dict[str, Any]:
        for field, value in path_fields.items():
            if field == "requestContext.path":
                event["requestContext"]["path"] = value
            else:
                event[field] = value
        return event

    genuine = place(make_event(name, _twilio_signed(signed_url)))
    assert request_url(genuine, "https://hooks.example.com") == signed_url
    handler = _twilio("https://hooks.example.com")
    assert handler(genuine)["statusCode"] == 200
    # Signed for another deployment and replayed here with that deployment's Host header.
    other = _twilio_signed(signed_url.replace("hooks.example.com", "theirs.example.com"))
    captured = place(make_event(name, other))
    for headers in ("headers", "multiValueHeaders"):
        if isinstance(captured.get(headers), dict):
            host = "theirs.example.com"
            captured[headers]["host"] = [host] if headers == "multiValueHeaders" else host
    handler = _twilio("https://hooks.example.com")
    assert handler(captured)["statusCode"] == 401
    assert handler.calls == []


# -- releasing the record when the handler fails ----------------------------------------------


def _boom() -> Any:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("name", "result", "released"),
    [
        ("apiGatewayProxyV2Event", _boom, True),
        ("apiGatewayProxyV2Event", lambda: {"statusCode": 500}, True),
        ("apiGatewayProxyV2Event", lambda: {"statusCode": "503"}, True),
        ("apiGatewayProxyV2Event", lambda: {"statusCode": 400}, False),
        ("apiGatewayProxyV2Event", lambda: {"statusCode": 200}, False),
        ("apiGatewayProxyV2Event", lambda: "plain text answered 200", False),
        ("apiGatewayProxyEvent", lambda: "not a proxy response: API Gateway answers 502", True),
        ("albEvent", lambda: None, True),
        ("apiGatewayProxyEvent", lambda: {"statusCode": 204}, False),
    ],
)
def test_release_on_error(name: str, result: Callable[[], Any], released: bool) -> None:
    handler = Handler()
    handler.result = result
    genuine = signed()
    event = make_event(name, genuine)
    with contextlib.suppress(RuntimeError):
        handler(event)
    retry: Any = None
    with contextlib.suppress(RuntimeError):
        retry = handler(copy.deepcopy(event))
    if released:
        assert len(handler.calls) == 2  # the sender's identical retry ran the handler again
    else:
        assert retry["statusCode"] == 409
        assert len(handler.calls) == 1


def test_release_on_error_off() -> None:
    handler = Handler(release_on_error=False)
    handler.result = _boom
    event = make_event("apiGatewayProxyV2Event", signed())
    with pytest.raises(RuntimeError):
        handler(event)
    assert handler(copy.deepcopy(event))["statusCode"] == 409


# -- Powertools interop -----------------------------------------------------------------------


@pytest.mark.extras
def test_powertools_event_source_above_and_below() -> None:
    powertools()
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, event_source

    verifier = make_verifier()
    seen: list[Any] = []

    @event_source(data_class=APIGatewayProxyEventV2)
    @verify_webhook(verifier)
    def below(event: APIGatewayProxyEventV2, context: Any) -> Any:
        seen.append((get_webhook(event).body, event.decoded_body.encode()))
        return {"statusCode": 200}

    @verify_webhook(verifier)
    @event_source(data_class=APIGatewayProxyEventV2)
    def above(event: APIGatewayProxyEventV2, context: Any) -> Any:
        assert isinstance(event, APIGatewayProxyEventV2)
        seen.append((get_webhook(event).body, event.decoded_body.encode()))
        return {"statusCode": 200}

    for handler in (below, above):
        assert handler(make_event("apiGatewayProxyV2Event", signed()), None)["statusCode"] == 200
        forged = make_event("apiGatewayProxyV2Event", signed(secret=OTHER_SECRET))
        assert handler(forged, None)["statusCode"] == 401
    assert seen == [(BODY, BODY), (BODY, BODY)]


@pytest.mark.extras
@pytest.mark.parametrize("name", ["apiGatewayProxyEvent", "apiGatewayProxyV2Event"])
def test_powertools_resolver_current_event(name: str) -> None:
    powertools()
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver

    app = APIGatewayRestResolver() if SAMPLES[name] == "rest" else APIGatewayHttpResolver()
    seen: list[Any] = []

    @app.post("/my/path")
    def hook() -> dict[str, Any]:
        webhook = get_webhook(app.current_event)
        seen.append(webhook.msg_id)
        return {"received": webhook.json()["type"]}

    @verify_webhook(make_verifier())
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    genuine = signed()
    event = make_event(name, genuine)
    response = lambda_handler(event, None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"received": "invoice.paid"}
    assert seen == [genuine.header_dict()["webhook-id"]]


@pytest.mark.extras
def test_powertools_logger_and_model_parser_order() -> None:
    powertools()
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.parser import event_parser
    from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

    logger = Logger(service="hooks")
    verifier = make_verifier()

    class Context:
        function_name = "hooks"
        memory_limit_in_mb = 128
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:hooks"
        aws_request_id = "req-1"

    @logger.inject_lambda_context
    @verify_webhook(verifier)
    def handler(event: dict[str, Any], context: Any) -> Any:
        return {"statusCode": 200, "body": str(get_webhook(event).msg_id)}

    assert handler(make_event("apiGatewayProxyV2Event", signed()), Context())["statusCode"] == 200

    @verify_webhook(verifier)
    @event_parser(model=APIGatewayProxyEventV2Model)
    def parsed(event: APIGatewayProxyEventV2Model, context: Any) -> Any:
        assert get_webhook(event.model_dump(by_alias=True))  # pragma: no cover
        return {"statusCode": 200}

    # verify_webhook above @event_parser: it sees the dict; get_webhook cannot find a model.
    with pytest.raises(LookupError):
        parsed(make_event("apiGatewayProxyV2Event", signed()), Context())

    @event_parser(model=APIGatewayProxyEventV2Model)
    @verify_webhook(verifier)
    def misplaced(event: Any, context: Any) -> Any:  # pragma: no cover - never runs
        return {"statusCode": 200}

    with pytest.raises(ConfigurationError, match="above @event_parser"):
        misplaced(make_event("apiGatewayProxyV2Event", signed()), Context())


# -- what is not an HTTP delivery, and configuration ------------------------------------------


def test_non_http_event_is_a_configuration_error() -> None:
    handler = Handler()
    with pytest.raises(ConfigurationError, match="HTTP trigger"):
        handler(load("sqsEvent"))
    assert handler.calls == []


def test_get_webhook_outside_a_protected_handler() -> None:
    with pytest.raises(LookupError, match="verify_webhook"):
        get_webhook({"body": ""})
    handler = Handler()
    event = make_event("apiGatewayProxyV2Event", signed())
    handler(event)
    with pytest.raises(LookupError):
        get_webhook(event)  # only while the handler runs


@pytest.mark.parametrize(
    "options",
    [
        {"replay_status": 99},
        {"on_reject": "metrics"},
        {"release_on_error": "yes"},
        {"public_url": "ftp://x"},
    ],
)
def test_configuration_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        verify_webhook(make_verifier(), **options)
    with pytest.raises(ConfigurationError):
        verify_webhook(object())  # type: ignore[arg-type]


# -- over real sockets: an HTTP server that invokes the handler as API Gateway does -----------


def serve_like_api_gateway(handler: Callable[[Any, Any], Any]) -> Iterator[str]:
    """Each request becomes a payload-format-2.0 event (body base64-encoded, repeated header
    lines joined with commas, the socket peer as ``sourceIp``); the handler's proxy response
    becomes the HTTP response."""

    class Gateway(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers: dict[str, str] = {}
            for key, value in self.headers.items():
                low = key.lower()
                headers[low] = f"{headers[low]},{value}" if low in headers else value
            path, _, query = self.path.partition("?")
            event = {
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": path,
                "rawQueryString": query,
                "headers": headers,
                "requestContext": {
                    "http": {"method": "POST", "path": path, "sourceIp": self.client_address[0]},
                    "domainName": "id.execute-api.us-east-1.amazonaws.com",
                },
                "body": base64.b64encode(body).decode(),
                "isBase64Encoded": True,
            }
            result = handler(json.loads(json.dumps(event)), None)
            payload = str(result.get("body", "")).encode()
            self.send_response(int(result["statusCode"]))
            for key, value in (result.get("headers") or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.mark.server
def test_real_server_end_to_end() -> None:
    seen: list[bytes] = []

    @verify_webhook(make_verifier(allowlist=IPAllowlist(["127.0.0.0/8"])))
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(get_webhook(event).body)
        return {"statusCode": 200, "body": "ok"}

    raw = BODY + b"\xff\x00"  # not UTF-8: only a base64 body carries it
    for base in serve_like_api_gateway(handler):
        with httpx.Client(base_url=base, timeout=10) as client:
            ok = signed(raw)
            response = client.post("/hook", content=ok.body, headers=ok.headers)
            assert (response.status_code, response.text) == (200, "ok")
            replay = client.post("/hook", content=ok.body, headers=ok.headers)
            assert replay.status_code == 409
            assert_generic(409, replay.text)
            forged = signed(timestamp=0)
            response = client.post("/hook", content=forged.body, headers=forged.headers)
            assert response.status_code == 401
            assert_generic(401, response.text)
            big = signed(b"k" * (LIMIT + 1))
            response = client.post("/hook", content=big.body, headers=big.headers)
            assert response.status_code == 413
            twice = signed()
            lines = [
                *twice.headers,
                ("webhook-signature", twice.header_dict()["webhook-signature"]),
            ]
            response = client.post("/hook", content=twice.body, headers=lines)
            assert response.status_code in (400, 401)  # joined by the gateway: never accepted
    assert seen == [raw]


def test_the_adapter_imports_no_third_party_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hookseal.contrib.aws_lambda\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'aws_lambda_powertools', 'boto3', 'botocore', 'aiohttp', 'starlette', 'flask', "
        "'django', 'redis', 'psycopg'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
