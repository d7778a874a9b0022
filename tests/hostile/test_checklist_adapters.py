"""The bad-input checklist through every framework adapter's real test client.

For each scheme profile and each hostile request (one or more per checklist row), the core's
verdict on a fresh verifier gives the expected reason and status; each adapter, with its own
fresh verifier, must answer exactly that status with the generic text, never call the
handler, never touch the nonce store, record one audit event with the same reason, and leak
nothing into the response or the ``hookseal`` log records. Controls check that a genuine
delivery reaches the handler with the exact bytes, and that a replay is refused after it.

Transport limits, asserted rather than skipped: WSGI (Flask, Django's test Client) merges
repeated header lines into one (PEP 3333), so row 12 runs through the ASGI adapters only, and
a client that refuses to transmit a value (a newline in a header) is not a server test.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from hookseal import IPAllowlist, VerificationError, Verified

from ._harness import Harness, RecordingStore, audit_text
from ._profiles import BODY, NOW, PROFILES, TOLERANCE, Profile, Request

pytestmark = pytest.mark.extras

GENERIC = {
    400: "malformed webhook request",
    401: "invalid webhook signature",
    403: "webhook sender not allowed",
    409: "webhook delivery already received",
    413: "webhook payload too large",
    503: "webhook verification unavailable",
}
LIMIT = 4096
OPTIONS: dict[str, Any] = {"max_body_bytes": LIMIT}
ALLOW = {
    "max_body_bytes": LIMIT,
    "allowlist": IPAllowlist(["10.0.0.0/8"], trusted_proxies=["192.168.0.0/16"]),
}


@dataclass
class Case:
    row: str
    request: Request
    peer: str = "127.0.0.1"
    options: dict[str, Any] | None = None
    lines_only: bool = False  # repeated header lines: only ASGI transmits them


def cases(profile: Profile) -> list[Case]:
    """One or more hostile requests per checklist row that applies to ``profile``."""
    genuine = profile.sign()
    sig = profile.sig_text(genuine)
    raw = profile.sig_bytes(genuine)
    found = [
        Case("01-absent", genuine.replace(profile.sig_header, None)),
        Case("02-blank", genuine.replace(profile.sig_header, "   ")),
        Case("04-truncated", profile.with_sig_text(genuine, profile.encode(raw[:-1]))),
        Case("04-extended", profile.with_sig_text(genuine, profile.encode(raw + raw[:1]))),
        Case("05-junk", profile.with_sig_text(genuine, sig + "!!!")),
        Case("05-space", profile.with_sig_text(genuine, sig[:4] + " " + sig[4:])),
        Case("06-other-secret", profile.sign(other=True)),
        Case("09-non-utf8-forged", profile.sign(b"\xff\xfe\x80 raw", other=True)),
        Case("10-huge-header", genuine.replace(profile.sig_header, sig * (8192 // len(sig) + 1))),
        Case("11-latin1", genuine.replace(profile.sig_header, sig + "\u00e9")),
        Case("12-repeated", _repeat(genuine, profile), lines_only=True),
        Case("26-too-large", profile.sign(b"x" * (LIMIT + 1))),
        Case(
            "27-untrusted-xff", genuine.replace("X-Forwarded-For", "10.1.2.3"), "203.0.113.9", ALLOW
        ),
        Case(
            "27-rightmost",
            genuine.replace("X-Forwarded-For", "10.1.2.3, 203.0.113.9"),
            "192.168.1.1",
            ALLOW,
        ),
        Case("27-unknown", genuine.replace("X-Forwarded-For", "unknown"), "192.168.1.1", ALLOW),
        Case("27-port", genuine.replace("X-Forwarded-For", "10.1.2.3:80"), "192.168.1.1", ALLOW),
        Case(
            "27-many",
            genuine.replace("X-Forwarded-For", ",".join(["10.1.2.3"] * 1000)),
            "192.168.1.1",
            ALLOW,
        ),
        Case("28-mapped", genuine, "::ffff:8.8.8.8", ALLOW),
        Case("28-6to4", genuine, "2002:a01:203::1", ALLOW),
    ]
    if profile.prefix_only:
        found.append(
            Case("03-prefix-only", genuine.replace(profile.sig_header, profile.prefix_only[0]))
        )
    if profile.signs_body:
        found += [
            Case("07-body-changed", genuine.with_body(BODY.replace(b"4200", b"4201"))),
            Case("07-newline", genuine.with_body(BODY + b"\n")),
            Case(
                "08-reserialised", genuine.with_body(BODY.replace(b": ", b":").replace(b", ", b","))
            ),
            Case("29-empty-body", genuine.with_body(b"")),
        ]
    if profile.signs_timestamp:
        found += [
            Case("17-too-old", profile.sign(timestamp=NOW - TOLERANCE - 1)),
            Case("18-future", profile.sign(timestamp=NOW + TOLERANCE + 1)),
            Case("18-century", profile.sign(timestamp=NOW + 100 * 365 * 86400)),
            Case("19-decimal", profile.with_ts_text(genuine, "1700000000.5")),
            Case("19-digits", profile.with_ts_text(genuine, "9" * 5000)),
            Case("19-fullwidth", profile.with_ts_text(genuine, "\uff11\uff17")),
            Case(
                "20-moved",
                profile.with_ts_text(
                    genuine, str(int(profile.ts_text(genuine)) + profile.ts_scale)
                ),
            ),
        ]
    if profile.id_header:
        found += [
            Case("25-long-id", genuine.replace(profile.id_header, "m" * 10_000)),
            Case("25-control-id", genuine.replace(profile.id_header, "msg\x1bid")),
        ]
        if profile.id_separator:
            found.append(Case("25-dot-id", genuine.replace(profile.id_header, "msg.1")))
    if profile.name == "github":
        sha1 = genuine.replace(profile.sig_header, None).replace(
            "X-Hub-Signature", "sha1=" + "ab" * 20
        )
        found.append(Case("13-sha1-only", sha1))
    if profile.name == "stripe":
        found.append(
            Case("14-v0-only", genuine.replace(profile.sig_header, f"t={NOW},v0={raw.hex()}"))
        )
    if profile.name.startswith("standard-webhooks"):
        import base64

        found.append(
            Case(
                "14-v2-only",
                genuine.replace(profile.sig_header, "v2," + base64.b64encode(raw).decode()),
            )
        )
    if profile.asymmetric:
        found.append(Case("16-63-bytes", profile.with_sig_text(genuine, profile.encode(raw[:63]))))
    return found


def _repeat(genuine: Request, profile: Profile) -> Request:
    forged = profile.sign(other=True)
    request = genuine.replace(profile.sig_header, None)
    request.headers = [
        *request.headers,
        (profile.sig_header, forged.get(profile.sig_header)),
        (profile.sig_header, genuine.get(profile.sig_header)),
    ]
    return request


# -- the four frameworks, behind one interface -----------------------------------------------


class Holder:
    """The verifier the current request must use, and what the handler saw."""

    def __init__(self) -> None:
        self.verifier: Any = None
        self.calls: list[tuple[Verified, bytes]] = []


Send = Callable[[Holder, Request, str], tuple[int, str]]


def _flask() -> tuple[Holder, Send]:
    from flask import Flask, g, request

    from hookseal.contrib.flask import verify_webhook

    holder = Holder()
    app = Flask(__name__)

    def view() -> Any:
        holder.calls.append((g.webhook, request.get_data()))
        return "ok"

    @app.post("/webhooks/in")
    def hook() -> Any:
        return verify_webhook(holder.verifier, public_url="https://hooks.example.com")(view)()

    client = app.test_client()

    def send(holder: Holder, req: Request, peer: str) -> tuple[int, str]:
        response = client.post(
            "/webhooks/in?" + req.url.partition("?")[2],
            data=req.body,
            headers=req.headers,
            environ_base={"REMOTE_ADDR": peer},
            base_url="https://hooks.example.com",
        )
        return response.status_code, response.get_data(as_text=True)

    return holder, send


def _django() -> tuple[Holder, Send]:
    from django.conf import settings

    if not settings.configured:  # pragma: no cover - configured by tests/adapters when run together
        settings.configure(
            SECRET_KEY="hookseal-hostile",
            ALLOWED_HOSTS=["*"],
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
            ROOT_URLCONF=__name__,
            LOGGING_CONFIG=None,
        )
        import django

        django.setup()
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import clear_url_caches, path

    from hookseal.contrib.django import verify_webhook

    holder = Holder()

    def view(request: Any) -> Any:
        holder.calls.append((request.webhook, request.body))
        return HttpResponse(b"ok")

    def hook(request: Any) -> Any:
        return verify_webhook(holder.verifier)(view)(request)

    class URLs:
        urlpatterns = [path("webhooks/in", hook)]  # noqa: RUF012 - Django reads a list

    client = Client()

    def send(holder: Holder, req: Request, peer: str) -> tuple[int, str]:
        headers = {k: v for k, v in req.headers if k.lower() != "content-type"}
        query = req.url.partition("?")[2]
        with override_settings(
            ROOT_URLCONF=URLs, MIDDLEWARE=[], ALLOWED_HOSTS=["hooks.example.com"]
        ):
            clear_url_caches()
            response = client.generic(
                "POST",
                "/webhooks/in?" + query,
                req.body,
                content_type="application/json",
                headers=headers,
                REMOTE_ADDR=peer,
                secure=True,
                SERVER_NAME="hooks.example.com",
                HTTP_HOST="hooks.example.com",
            )
        clear_url_caches()
        return response.status_code, response.content.decode()

    return holder, send


def _asgi_send(make_app: Callable[[Holder], Any]) -> tuple[Holder, Send]:
    from starlette.testclient import TestClient

    holder = Holder()
    clients: dict[str, Any] = {}

    def send(holder: Holder, req: Request, peer: str) -> tuple[int, str]:
        client = clients.get(peer)
        if client is None:
            client = clients[peer] = TestClient(
                make_app(holder), base_url="https://hooks.example.com", client=(peer, 50000)
            )
        response = client.post(
            "/webhooks/in?" + req.url.partition("?")[2],
            content=req.body,
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in req.headers],
        )
        text = response.text
        if response.headers.get("content-type") == "application/json":
            text = response.json()["detail"]  # FastAPI's HTTPException shape: the same text
        return response.status_code, text

    return holder, send


def _starlette() -> tuple[Holder, Send]:
    from starlette.applications import Starlette
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from hookseal.contrib.starlette import WebhookMiddleware

    def make(holder: Holder) -> Any:
        async def hook(request: StarletteRequest) -> PlainTextResponse:
            holder.calls.append((request.state.webhook, await request.body()))
            return PlainTextResponse("ok")

        inner = Starlette(routes=[Route("/webhooks/in", hook, methods=["POST"])])

        async def app(scope: Any, receive: Any, send: Any) -> None:
            middleware = WebhookMiddleware(
                inner, {"/webhooks/in": holder.verifier}, public_url="https://hooks.example.com"
            )
            await middleware(scope, receive, send)

        return app

    return _asgi_send(make)


def _fastapi() -> tuple[Holder, Send]:
    from fastapi import Depends, FastAPI
    from fastapi import Request as FastAPIRequest
    from fastapi.responses import PlainTextResponse

    from hookseal.contrib.fastapi import verify_webhook

    def make(holder: Holder) -> Any:
        app = FastAPI()

        async def dependency(request: FastAPIRequest) -> Any:
            # verify_webhook() builds a dependency with yield (it releases the record when
            # the endpoint raises); the holder's verifier is only known per request here.
            inner = verify_webhook(holder.verifier, public_url="https://hooks.example.com")
            async for verified in inner(request):
                yield verified

        async def hook(request: FastAPIRequest, webhook: Verified = Depends(dependency)) -> str:  # noqa: B008
            holder.calls.append((webhook, await request.body()))
            return "ok"

        # Real classes, not the strings `from __future__ import annotations` leaves behind.
        dependency.__annotations__ = {"request": FastAPIRequest, "return": Verified}
        hook.__annotations__ = {"request": FastAPIRequest, "webhook": Verified, "return": str}
        app.post("/webhooks/in", response_class=PlainTextResponse)(hook)

        @app.exception_handler(Exception)
        async def crash(
            request: FastAPIRequest, exc: Exception
        ) -> PlainTextResponse:  # pragma: no cover
            return PlainTextResponse("crashed", status_code=500)

        return app

    return _asgi_send(make)


FRAMEWORKS: dict[str, Callable[[], tuple[Holder, Send]]] = {
    "flask": _flask,
    "django": _django,
    "starlette": _starlette,
    "fastapi": _fastapi,
}
WSGI = {"flask", "django"}


def _generic(status: int, text: str) -> None:
    assert text.strip() == GENERIC[status] or (False), (status, text)


@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_every_row_through_the_adapter(
    framework: str, profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hookseal")
    holder, send = FRAMEWORKS[framework]()
    sent = 0
    for case in cases(profile):
        if case.lines_only and framework in WSGI:
            continue
        options = case.options or OPTIONS
        core = Harness(profile, options=dict(options), remote_addr=case.peer)
        with pytest.raises(VerificationError) as info:
            core.run(case.request)
        expected = info.value
        adapter = Harness(profile, options=dict(options))
        holder.verifier = adapter.verifier
        caplog.clear()
        try:
            status, text = send(holder, case.request, case.peer)
        except (ValueError, TypeError, UnicodeError):  # the client refuses to send it
            assert case.row.startswith(("11-", "19-fullwidth")), case.row
            continue
        sent += 1
        where = f"{framework} {profile.name} row {case.row}"
        assert status == expected.status_code, (where, status, repr(expected))
        assert text.strip() == GENERIC[status], (where, text)
        assert holder.calls == [], where
        assert isinstance(adapter.store, RecordingStore)
        assert adapter.store.calls == [], where
        assert [e.reason for e in adapter.events] == [expected.reason], (where, adapter.events)
        for record in caplog.records:
            audit_text(record.getMessage(), profile, case.request)
            if record.exc_text:
                audit_text(record.exc_text, profile, case.request)
        audit_text(text, profile, case.request)
    assert sent >= 12


@pytest.mark.parametrize(
    "profile", [p for p in PROFILES if p.replay_protected], ids=lambda p: p.name
)
@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_genuine_once_then_replays_refused(framework: str, profile: Profile) -> None:
    holder, send = FRAMEWORKS[framework]()
    h = Harness(profile, options=dict(OPTIONS))
    holder.verifier = h.verifier
    genuine = profile.sign()
    status, text = send(holder, genuine, "127.0.0.1")
    assert status == 200, (status, text)
    assert len(holder.calls) == 1
    verified, seen = holder.calls[0]
    assert verified.body == genuine.body == seen  # the handler re-reads the exact bytes
    for _ in range(2):  # row 21: exact replays
        status, text = send(holder, genuine, "127.0.0.1")
        assert status == 409
        assert text.strip() == GENERIC[409]
    assert len(holder.calls) == 1
    assert len(h.store.calls) == 3


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_row23_full_store_through_the_adapter(framework: str) -> None:
    from hookseal.stores.memory import MemoryNonceStore

    profile = PROFILES[0]
    holder, send = FRAMEWORKS[framework]()
    h = Harness(
        profile, options=dict(OPTIONS), store=RecordingStore(MemoryNonceStore(max_entries=2))
    )
    holder.verifier = h.verifier
    first = [profile.sign(msg_id=f"msg_{i}") for i in range(2)]
    assert [send(holder, r, "127.0.0.1")[0] for r in first] == [200, 200]
    status, text = send(holder, profile.sign(msg_id="msg_new"), "127.0.0.1")
    assert status == 503
    assert text.strip() == GENERIC[503]
    assert [send(holder, r, "127.0.0.1")[0] for r in first] == [409, 409]
    assert len(holder.calls) == 2


def test_row26_chunked_body_past_the_limit_flask() -> None:
    """Werkzeug without Content-Length: read past the limit is a 413, never a truncated 200."""
    profile = PROFILES[0]
    holder, _ = _flask()
    from flask import Flask

    from hookseal.contrib.flask import verify_webhook

    app = Flask(__name__)
    h = Harness(profile, options=dict(OPTIONS))

    @app.post("/hook")
    @verify_webhook(h.verifier)
    def hook() -> str:  # pragma: no cover - never reached
        holder.calls.append(None)  # type: ignore[arg-type]
        return "ok"

    big = profile.sign(b"x" * (10 * LIMIT))

    class Stream(io.BytesIO):
        read_total = 0

        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            Stream.read_total += len(data)
            return data

    stream = Stream(big.body)
    response = app.test_client().post(
        "/hook",
        input_stream=stream,
        headers=[*big.headers, ("Transfer-Encoding", "chunked")],
    )
    assert response.status_code == 413
    assert response.get_data(as_text=True).strip() == GENERIC[413]
    assert holder.calls == []
    assert h.store.calls == []
    assert Stream.read_total <= LIMIT + 64 * 1024


def test_row29_consumed_bodies() -> None:
    """A body consumed before verification is a mismatch (Flask form, Django POST, drained ASGI)."""
    profile = PROFILES[0]
    from flask import Flask, request

    from hookseal.contrib.flask import verify_webhook

    form_body = b"a=1&b=caf%C3%A9"
    genuine = profile.sign(form_body)
    headers = [(k, v) for k, v in genuine.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", "application/x-www-form-urlencoded"))

    h = Harness(profile, options=dict(OPTIONS))
    app = Flask(__name__)
    calls: list[Any] = []

    @app.post("/consumed")
    def consumed() -> Any:
        request.form.get("a")  # the stream is parsed (and emptied) first
        return verify_webhook(h.verifier)(lambda: calls.append(1) or "ok")()

    @app.post("/documented")
    @verify_webhook(h.verifier)
    def documented() -> Any:
        calls.append(request.get_data())
        assert request.form["b"] == "café"
        return "ok"

    client = app.test_client()
    response = client.post("/consumed", data=form_body, headers=headers)
    assert response.status_code == 401
    assert calls == []
    assert h.store.calls == []
    response = client.post("/documented", data=form_body, headers=headers)
    assert response.status_code == 200
    assert calls == [form_body]

    # A drained ASGI body, not replayed: the middleware sees an empty body.
    from starlette.testclient import TestClient

    from hookseal.contrib.starlette import WebhookMiddleware

    h2 = Harness(profile, options=dict(OPTIONS))
    reached: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        reached.append(scope)

    protected = WebhookMiddleware(inner, {"/hook": h2.verifier})

    async def draining(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            while (await receive()).get("more_body"):
                pass

            async def empty() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            await protected(scope, empty, send)

    genuine = profile.sign()
    response = TestClient(draining).post("/hook", content=genuine.body, headers=genuine.headers)
    assert response.status_code == 401
    assert reached == []
    assert h2.store.calls == []
