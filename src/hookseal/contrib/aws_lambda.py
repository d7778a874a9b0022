"""AWS Lambda: ``@verify_webhook(verifier)`` for handlers behind API Gateway, function URLs, ALB.

The decorated handler runs only for a delivery that passed every check; a refused delivery is
answered with a proxy response (the generic text for its status) and the handler never runs.
It understands the four HTTP event shapes Lambda receives:

* API Gateway REST APIs (payload format 1.0, also HTTP APIs configured for 1.0):
  ``multiValueHeaders`` (every repeated line), ``requestContext.identity.sourceIp``;
* API Gateway HTTP APIs (payload format 2.0) and Lambda function URLs: ``headers`` (API
  Gateway has already joined repeated lines with commas) plus ``cookies``,
  ``requestContext.http.sourceIp``, ``rawPath`` and ``rawQueryString``;
* Application Load Balancer targets: ``headers`` or, with multi-value headers on,
  ``multiValueHeaders``; an ALB reports no source address (see the allowlist below).

A body marked ``isBase64Encoded`` is decoded strictly (``validate=True``), byte for byte; a
text body is the UTF-8 encoding of the string API Gateway decoded it into. The handler keeps
its ``(event, context)`` signature and gets the event object it was given (a dict, or a
Powertools event class); the :class:`~hookseal.Verified` is ``get_webhook(event)``.

Needs no third-party package: ``import hookseal.contrib.aws_lambda`` imports only hookseal.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import functools
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar, cast
from urllib.parse import quote

from .._delivery import Delivery, Verified
from .._errors import ConfigurationError, MalformedHeader, VerificationError
from .._handshake import HandshakeReply
from .._headers import Headers
from .._verifier import Verifier
from ._common import (
    RejectHook,
    check_on_reject,
    check_release_on_error,
    check_replay_status,
    check_verifier,
    declared_length,
    generic_body,
    handler_failed,
    payload_too_large,
    record_early_rejection,
    run_on_reject,
    status_for,
)
from ._handshakes import handshake_reply, unsigned_handshake_reply
from ._origin import check_public_url, signs_url

__all__ = [
    "EventKind",
    "event_kind",
    "get_webhook",
    "handshake_response",
    "rejection_response",
    "request_url",
    "verify_webhook",
]

F = TypeVar("F", bound=Callable[..., Any])

#: ``"rest"`` (payload format 1.0), ``"http"`` (2.0, including function URLs) or ``"alb"``.
EventKind = str

# The event being handled and its Verified, for get_webhook (one per invocation; a context
# variable so that threads or nested calls in tests never see each other's).
_current: contextvars.ContextVar[tuple[object, Verified] | None] = contextvars.ContextVar(
    "hookseal_lambda_webhook", default=None
)
_PATH_SAFE = "/%:@!$&'()*+,;=~-._"
_QUERY_SAFE = "-._~"


def _raw_event(event: object) -> Mapping[str, Any]:
    """The event dict: ``event`` itself, or the ``raw_event`` of a Powertools event class."""
    raw = getattr(event, "raw_event", event)
    if not isinstance(raw, Mapping):
        raise ConfigurationError(
            "verify_webhook received an event that is neither a dict nor a Powertools event "
            f"class ({type(event).__name__}): put @verify_webhook above @event_parser (it "
            "may sit above or below @event_source)."
        )
    return raw


def get_webhook(event: object) -> Verified:
    """The :class:`~hookseal.Verified` of the event being handled by a protected handler.

    ``event`` is the event the handler was given: the dict, or any Powertools event class
    wrapping the same dict (``APIGatewayProxyEvent``, ``app.current_event`` of an event
    handler resolver...).

    Raises:
        LookupError: ``event`` is not the event of a running ``@verify_webhook`` handler.
    """
    current = _current.get()
    raw = getattr(event, "raw_event", event)
    if current is None or current[0] is not raw:
        raise LookupError(
            "This event carries no verified webhook: decorate the Lambda handler with "
            "@verify_webhook(verifier) and call get_webhook(event) while it runs."
        )
    return current[1]


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _not_http(f"its {what} is not an object")
    return value


def _not_http(why: str) -> ConfigurationError:
    return ConfigurationError(
        f"verify_webhook received an event that is not an HTTP request from API Gateway, a "
        f"function URL or an ALB ({why}): wire this handler to an HTTP trigger only."
    )


def event_kind(event: Mapping[str, Any]) -> EventKind:
    """Which HTTP event shape ``event`` is: ``"rest"``, ``"http"`` or ``"alb"``.

    Raises:
        ConfigurationError: the event is not an HTTP proxy event (an S3, SQS... event).
    """
    context = _mapping(event.get("requestContext"), "requestContext")
    if "elb" in context:
        return "alb"
    if event.get("version") == "2.0" and isinstance(context.get("http"), Mapping):
        return "http"
    if isinstance(event.get("httpMethod"), str):
        return "rest"
    raise _not_http("no requestContext.http, requestContext.elb or httpMethod")


def _header_lines(event: Mapping[str, Any], kind: EventKind) -> Headers:
    """Every header line the event carries (repeats kept where the event keeps them)."""
    lines: list[tuple[str, str]] = []
    multi = event.get("multiValueHeaders")
    if kind != "http" and isinstance(multi, Mapping) and multi:
        for name, values in multi.items():
            if not isinstance(values, list):
                raise MalformedHeader(
                    "A multiValueHeaders entry is not a list.", header=str(name)[:64]
                )
            lines.extend((name, value) for value in values)
    else:
        lines.extend(_mapping(event.get("headers"), "headers").items())
    if kind == "http":
        cookies = event.get("cookies")
        if (
            isinstance(cookies, list)
            and cookies
            and not any(isinstance(name, str) and name.lower() == "cookie" for name, _ in lines)
        ):
            if not all(isinstance(cookie, str) for cookie in cookies):
                raise MalformedHeader("A cookies entry is not text.", header="Cookie")
            lines.append(("cookie", "; ".join(cookies)))
    return Headers(lines)


def _source_ip(event: Mapping[str, Any], kind: EventKind) -> str | None:
    """The client address API Gateway or the function URL saw; None behind an ALB."""
    context = _mapping(event.get("requestContext"), "requestContext")
    if kind == "http":
        address = _mapping(context.get("http"), "requestContext.http").get("sourceIp")
    elif kind == "rest":
        address = _mapping(context.get("identity"), "requestContext.identity").get("sourceIp")
    else:
        return None  # the ALB is the peer; its client is the last X-Forwarded-For entry
    return address if isinstance(address, str) and address else None


def _method(event: Mapping[str, Any], kind: EventKind) -> str:
    if kind == "http":
        context = _mapping(event.get("requestContext"), "requestContext")
        method = _mapping(context.get("http"), "requestContext.http").get("method")
    else:
        method = event.get("httpMethod")
    return method if isinstance(method, str) else "POST"


def _query(event: Mapping[str, Any], kind: EventKind) -> str:
    """The query string: as received (HTTP APIs, ALB), or re-encoded (REST APIs decode it)."""
    if kind == "http":
        raw = event.get("rawQueryString")
        return raw if isinstance(raw, str) else ""
    multi = event.get("multiValueQueryStringParameters")
    pairs: list[tuple[str, str]] = []
    if isinstance(multi, Mapping) and multi:
        for name, values in multi.items():
            pairs.extend((str(name), str(value)) for value in (values or ()))
    else:
        single = event.get("queryStringParameters")
        if isinstance(single, Mapping):
            pairs.extend((str(name), str(value)) for name, value in single.items())
    if kind == "alb":  # the ALB passes names and values as received, never decoded
        return "&".join(f"{name}={value}" for name, value in pairs)
    return "&".join(
        f"{quote(name, safe=_QUERY_SAFE)}={quote(value, safe=_QUERY_SAFE)}" for name, value in pairs
    )


def request_url(event: Mapping[str, Any], public_url: str) -> str:
    """The URL the sender addressed: ``public_url``, then the path and query of the event.

    The path is ``rawPath`` (HTTP APIs, function URLs), ``requestContext.path`` (REST APIs:
    the path as requested, with the stage or the custom domain's base path) or ``path``
    (ALB), percent-encoded where it is not already; the query is ``rawQueryString``, or
    rebuilt from the query parameters (REST APIs decode them, so the sender's own spelling
    of escapes cannot be recovered: see docs/frameworks/aws-lambda.md).
    """
    kind = event_kind(event)
    context = _mapping(event.get("requestContext"), "requestContext")
    if kind == "http":
        path = event.get("rawPath")
    elif kind == "rest":
        path = context.get("path") or event.get("path")
    else:
        path = event.get("path")
    text = path if isinstance(path, str) and path.startswith("/") else "/"
    query = _query(event, kind)
    url = public_url + quote(text, safe=_PATH_SAFE)
    return f"{url}?{query}" if query else url


def _body(event: Mapping[str, Any], headers: Headers, limit: int) -> bytes:
    """The raw body bytes, never decoding more than the limit allows.

    Raises:
        PayloadTooLarge: ``Content-Length`` or the body over ``limit``.
        MalformedHeader: a bad ``Content-Length``; ``malformed_body`` for a body marked
            base64 that is not strict base64.
    """
    declared = declared_length(headers.one("content-length"))
    if declared is not None and declared > limit:
        raise payload_too_large(declared, limit)
    raw = event.get("body")
    if raw is None:
        return b""
    if not isinstance(raw, str):
        raise _not_http("its body is not a string")
    if event.get("isBase64Encoded") is True:
        if len(raw) > 4 * ((limit + 2) // 3):  # longer than any encoding of `limit` bytes
            raise payload_too_large(None, limit)
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedHeader(
                "The event body is marked isBase64Encoded but is not strict base64.",
                reason="malformed_body",
            ) from None
    else:
        if len(raw) > limit:  # every character is at least one byte
            raise payload_too_large(None, limit)
        # "surrogatepass": a text body that is not valid Unicode still becomes bytes (which
        # no sender signed: the signature check refuses them) instead of an exception.
        body = raw.encode("utf-8", "surrogatepass")
    if len(body) > limit:
        raise payload_too_large(None, limit)
    return body


def rejection_response(event: Mapping[str, Any], status: int, text: str) -> dict[str, Any]:
    """A proxy response with ``text`` for ``event``'s integration (ALB: with its status line)."""
    response: dict[str, Any] = {
        "statusCode": status,
        "body": f"{text}\n",
        "isBase64Encoded": False,
    }
    content_type = "text/plain; charset=utf-8"
    kind = event_kind(event)
    if kind == "alb" and isinstance(event.get("multiValueHeaders"), Mapping):
        # Multi-value headers on the target group: the ALB reads only multiValueHeaders.
        response["multiValueHeaders"] = {"Content-Type": [content_type]}
    else:
        response["headers"] = {"Content-Type": content_type}
    if kind == "alb":
        response["statusDescription"] = f"{status} {HTTPStatus(status).phrase}"
    return response


def handshake_response(event: Mapping[str, Any], reply: HandshakeReply) -> dict[str, Any]:
    """A proxy response carrying a subscription handshake's reply for ``event``'s integration."""
    response: dict[str, Any] = {
        "statusCode": reply.status,
        "body": reply.body.decode("utf-8"),  # replies are ASCII text or JSON
        "isBase64Encoded": False,
    }
    kind = event_kind(event)
    headers = reply.all_headers()
    if kind == "alb" and isinstance(event.get("multiValueHeaders"), Mapping):
        multi: dict[str, list[str]] = {}
        for name, value in headers:
            multi.setdefault(name, []).append(value)
        response["multiValueHeaders"] = multi
    else:
        response["headers"] = dict(headers)
    if kind == "alb":
        response["statusDescription"] = f"{reply.status} {HTTPStatus(reply.status).phrase}"
    return response


def _unsigned_handshake(
    verifier: Verifier, event: Mapping[str, Any], kind: EventKind
) -> dict[str, Any] | None:
    """The response to an unsigned handshake request (``GET ?challenge=``), or None."""
    if not verifier.answers_unsigned_handshakes:
        return None  # the scheme has none: nothing to build
    try:
        headers = _header_lines(event, kind)
    except VerificationError:
        return None  # verification refuses the request and records why
    reply = unsigned_handshake_reply(
        verifier, _method(event, kind), _query(event, kind), headers, _source_ip(event, kind)
    )
    return None if reply is None else handshake_response(event, reply)


def _answer_failed(result: object, kind: EventKind) -> bool:
    """Whether the handler's result is a failure the sender retries (5xx, or unusable)."""
    status = result.get("statusCode") if isinstance(result, Mapping) else None
    if isinstance(status, str) and status.isascii() and status.isdigit():
        status = int(status)
    if isinstance(status, int) and not isinstance(status, bool):
        return handler_failed(status)
    # No status: HTTP APIs and function URLs answer 200 with the result as the body; REST
    # APIs and ALBs answer 502 (a malformed proxy response), which the sender retries.
    return kind != "http"


def verify_webhook(
    verifier: Verifier,
    *,
    replay_status: int = 409,
    on_reject: RejectHook | None = None,
    release_on_error: bool = True,
    public_url: str | None = None,
) -> Callable[[F], F]:
    """Protect a Lambda handler: it runs only for deliveries ``verifier`` accepts.

    The handler keeps its ``handler(event, context)`` signature (so it stacks with
    Powertools' ``@logger.inject_lambda_context``, ``@tracer.capture_lambda_handler``,
    ``@event_source``) and finds the :class:`~hookseal.Verified` with
    :func:`get_webhook` ``(event)``.

    Args:
        verifier: the :class:`~hookseal.Verifier` for this endpoint's sender. Give it a
            shared nonce store (Redis, PostgreSQL): each Lambda execution environment is a
            process of its own, so the per-process default protects one environment only.
        replay_status: the status answered to a replayed delivery (default 409).
        on_reject: ``on_reject(event, error)``, called once per rejection (for metrics);
            its failures are logged and ignored.
        release_on_error: when the handler raises, or returns a 5xx (or, for REST APIs and
            ALBs, a result without ``statusCode``, which they answer 502), release the
            delivery's replay record so that the sender's retry is accepted. On by default,
            bounded per delivery by the verifier's ``max_releases``.
        public_url: the public base URL the sender addresses (``"https://hooks.example.com"``
            or ``"https://abc123.execute-api.eu-west-1.amazonaws.com"``); the signed URL is
            this followed by the path and query the event reports. Required for schemes that
            sign the URL (Twilio, RFC 9421): ``ConfigurationError`` here without it.

    Raises:
        ConfigurationError: for any configuration mistake, when the decorator is built; when
            the handler is invoked with an event that is not an HTTP request.
    """
    checked = check_verifier(verifier)
    status = check_replay_status(replay_status)
    hook = check_on_reject(on_reject)
    release = check_release_on_error(release_on_error)
    base_url = check_public_url(public_url)
    if signs_url(checked) and base_url is None:
        raise ConfigurationError(
            f"verify_webhook's verifier uses a scheme that signs the request URL "
            f"({checked.scheme.name}): pass public_url='https://your.public.host' (the base "
            "URL the sender is configured with), so the signed URL is rebuilt from "
            "configuration, not from the event's Host header."
        )

    def verify(event: object) -> tuple[Mapping[str, Any], EventKind, Verified | dict[str, Any]]:
        raw = _raw_event(event)
        kind = event_kind(raw)
        answer = _unsigned_handshake(checked, raw, kind)
        if answer is not None:
            return raw, kind, answer
        try:
            url = request_url(raw, base_url) if base_url is not None else None
            remote_addr = _source_ip(raw, kind)
            method = _method(raw, kind)
            headers = Headers()
            try:
                headers = _header_lines(raw, kind)
                body = _body(raw, headers, checked.limits.max_body_bytes)
            except VerificationError as error:
                record_early_rejection(
                    checked, error, headers, method=method, url=url, remote_addr=remote_addr
                )
                raise
            verified = checked.verify_delivery(
                Delivery(body, headers, method=method, url=url, remote_addr=remote_addr)
            )
        except VerificationError as error:
            run_on_reject(hook, event, error)
            return (
                raw,
                kind,
                rejection_response(raw, status_for(error, status), generic_body(error)),
            )
        reply = handshake_reply(checked, verified)
        if reply is not None:
            return raw, kind, handshake_response(raw, reply)
        return raw, kind, verified

    def decorator(handler: F) -> F:
        @functools.wraps(handler)
        def wrapper(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            raw, kind, outcome = verify(event)
            if not isinstance(outcome, Verified):
                return outcome
            token = _current.set((raw, outcome))
            try:
                try:
                    result = handler(event, context, *args, **kwargs)
                except BaseException:
                    if release and outcome.recorded:
                        checked.release(outcome)
                    raise
                if release and outcome.recorded and _answer_failed(result, kind):
                    checked.release(outcome)
                return result
            finally:
                _current.reset(token)

        return cast(F, wrapper)

    return decorator
