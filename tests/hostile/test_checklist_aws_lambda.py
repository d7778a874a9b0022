"""The bad-input checklist through hookseal.contrib.aws_lambda (see test_checklist_adapters.py).

Each hostile request becomes the event API Gateway would hand the function: a REST API event
(payload format 1.0: ``multiValueHeaders`` keeps repeated lines, the body base64-encoded as
with binary media types) and an HTTP API event (2.0, the shape of function URLs too: text
body, repeated lines joined with commas). The peer is ``requestContext``'s ``sourceIp``.

Transport limit, asserted rather than skipped: 2.0 events join repeated header lines with a
comma, so row 12 cannot be told from one value there. It is refused, except for schemes whose
header is a comma-separated list of signatures: the joined value then holds the genuine
signature and is the genuine delivery, accepted once (a replay of it is refused). Row 12 runs
with its exact verdict through the 1.0 event.
"""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import parse_qsl

import pytest

from hookseal import VerificationError
from hookseal.contrib.aws_lambda import get_webhook, verify_webhook

from ._harness import Harness, RecordingStore, audit_text
from ._profiles import PROFILES, Profile, Request
from .test_checklist_adapters import GENERIC, OPTIONS, Holder, cases

pytestmark = pytest.mark.extras  # the RFC 9421 profiles need http-sf
PUBLIC_URL = "https://hooks.example.com"
KINDS = ["rest-1.0", "http-2.0"]


def event_for(req: Request, peer: str, kind: str) -> dict[str, Any]:
    """The API Gateway event for ``req`` from ``peer``."""
    query = req.url.partition("?")[2]
    if kind == "http-2.0":
        headers: dict[str, str] = {}
        for name, value in req.headers:
            low = name.lower()
            headers[low] = f"{headers[low]},{value}" if low in headers else value
        return {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/webhooks/in",
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "http": {"method": req.method, "path": "/webhooks/in", "sourceIp": peer},
                "domainName": "hooks.example.com",
            },
            "body": req.body.decode("utf-8", "replace"),
            "isBase64Encoded": False,
        }
    multi: dict[str, list[str]] = {}
    for name, value in req.headers:
        multi.setdefault(name, []).append(value)
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name, []).append(value)
    return {
        "resource": "/webhooks/in",
        "path": "/webhooks/in",
        "httpMethod": req.method,
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {name: values[-1] for name, values in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "requestContext": {
            "path": "/webhooks/in",
            "identity": {"sourceIp": peer},
            "domainName": "hooks.example.com",
        },
        "body": base64.b64encode(req.body).decode(),
        "isBase64Encoded": True,
    }


def make_sender(holder: Holder, kind: str) -> Any:
    def handler(event: Any, context: Any) -> Any:
        verified = get_webhook(event)
        holder.calls.append((verified, verified.body))
        return {"statusCode": 200, "body": "ok"}

    def send(req: Request, peer: str) -> tuple[int, str]:
        protected = verify_webhook(holder.verifier, public_url=PUBLIC_URL)(handler)
        response = protected(event_for(req, peer, kind), None)
        return int(response["statusCode"]), str(response["body"])

    return send


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_every_row_through_lambda(
    kind: str, profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hookseal")
    holder = Holder()
    send = make_sender(holder, kind)
    sent = 0
    for case in cases(profile):
        options = case.options or OPTIONS
        core = Harness(profile, options=dict(options), remote_addr=case.peer)
        with pytest.raises(VerificationError) as info:
            core.run(case.request)
        expected = info.value
        adapter = Harness(profile, options=dict(options))
        holder.verifier = adapter.verifier
        caplog.clear()
        where = f"lambda {kind} {profile.name} row {case.row}"
        if "\ufffd" in case.request.body.decode("utf-8", "replace") and kind == "http-2.0":
            # Not UTF-8: API Gateway would have replaced the bytes (the docs say to turn on
            # binary media types); the replaced text is refused too, never accepted.
            status, text = send(case.request, case.peer)
            assert status in (400, 401), where
            assert holder.calls == [], where
            continue
        status, text = send(case.request, case.peer)
        sent += 1
        if case.lines_only and kind == "http-2.0":
            # Joined with a comma, the two lines are one value: refused, or (for a scheme
            # whose header is a comma-separated list of signatures) verified as that list,
            # which holds the genuine signature: the genuine delivery, recorded once.
            if status == 200:
                assert [body for _, body in holder.calls] == [case.request.body], where
                assert send(case.request, case.peer)[0] == 409, where
                holder.calls.clear()
            else:
                assert status in (400, 401), where
                assert text.strip() == GENERIC[status], where
                assert holder.calls == [], where
            continue
        assert holder.calls == [], where
        assert isinstance(adapter.store, RecordingStore)
        assert adapter.store.calls == [], where
        assert status == expected.status_code, (where, status, repr(expected))
        assert text.strip() == GENERIC[status], (where, text)
        assert [e.reason for e in adapter.events] == [expected.reason], (where, adapter.events)
        for record in caplog.records:
            audit_text(record.getMessage(), profile, case.request)
            if record.exc_text:
                audit_text(record.exc_text, profile, case.request)
        audit_text(text, profile, case.request)
    assert sent >= 12


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "profile", [p for p in PROFILES if p.replay_protected], ids=lambda p: p.name
)
def test_genuine_once_then_replays_refused(kind: str, profile: Profile) -> None:
    holder = Holder()
    send = make_sender(holder, kind)
    h = Harness(profile, options=dict(OPTIONS))
    holder.verifier = h.verifier
    genuine = profile.sign()
    status, text = send(genuine, "127.0.0.1")
    assert status == 200, (status, text)
    verified, seen = holder.calls[0]
    assert verified.body == genuine.body == seen
    for _ in range(2):
        status, text = send(genuine, "127.0.0.1")
        assert (status, text.strip()) == (409, GENERIC[409])
    assert len(holder.calls) == 1
    assert len(h.store.calls) == 3


def test_row23_full_store_through_lambda() -> None:
    from hookseal.stores.memory import MemoryNonceStore

    profile = PROFILES[0]
    holder = Holder()
    send = make_sender(holder, "rest-1.0")
    h = Harness(
        profile, options=dict(OPTIONS), store=RecordingStore(MemoryNonceStore(max_entries=2))
    )
    holder.verifier = h.verifier
    first = [profile.sign(msg_id=f"msg_{i}") for i in range(2)]
    assert [send(r, "127.0.0.1")[0] for r in first] == [200, 200]
    status, text = send(profile.sign(msg_id="msg_new"), "127.0.0.1")
    assert (status, text.strip()) == (503, GENERIC[503])
    assert [send(r, "127.0.0.1")[0] for r in first] == [409, 409]
    assert len(holder.calls) == 2
