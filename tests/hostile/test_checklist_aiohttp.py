"""The bad-input checklist through hookseal.contrib.aiohttp (see test_checklist_adapters.py).

Every row goes through aiohttp's own test server and client over a socket on 127.0.0.1, so
the header lines (repeats included) and the body are what aiohttp's parser makes of them.
Rows that need another peer address (27, 28) cannot come from 127.0.0.1: they go through
``aiohttp.test_utils.make_mocked_request`` with a transport reporting that peer, handed to
the same decorated handler.

Transport limits, asserted rather than skipped: aiohttp refuses a header line over 8190 bytes
itself (400, its own text, before any application code), so rows 10 and 25 with such lines
never reach hookseal (the 400 is asserted); and aiohttp's client refuses to send some values
(a newline in a header).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from unittest import mock

import pytest

from hookseal import VerificationError

from ._harness import Harness, RecordingStore, audit_text
from ._profiles import PROFILES, Profile, Request
from .test_checklist_adapters import GENERIC, OPTIONS, Holder, cases

pytestmark = pytest.mark.extras
PUBLIC_URL = "https://hooks.example.com"


class AiohttpSender:
    """One aiohttp app on a test server; ``send`` posts a Request as a given peer."""

    def __init__(self, holder: Holder, form: str) -> None:
        from aiohttp import web
        from aiohttp.test_utils import TestClient, TestServer

        from hookseal.contrib.aiohttp import get_webhook, verify_webhook

        self.holder = holder
        self.loop = asyncio.new_event_loop()

        async def view(request: web.Request) -> web.Response:
            holder.calls.append((get_webhook(request), await request.read()))
            return web.Response(text="ok")

        async def decorated(request: web.Request) -> web.StreamResponse:
            protected = verify_webhook(holder.verifier, public_url=PUBLIC_URL)(view)
            response: web.StreamResponse = await protected(request)
            return response

        async def through_middleware(request: web.Request) -> web.StreamResponse:
            from hookseal.contrib.aiohttp import WebhookMiddleware

            middleware = WebhookMiddleware({"/webhooks/in": holder.verifier}, public_url=PUBLIC_URL)
            response: web.StreamResponse = await middleware(request, view)
            return response

        self.endpoint = decorated if form == "decorator" else through_middleware
        app = web.Application()
        app.router.add_post("/webhooks/in", self.endpoint)
        self.app = app

        async def start() -> Any:
            client: Any = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            return client

        self.client: Any = self.loop.run_until_complete(start())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()

    def send(self, req: Request, peer: str) -> tuple[int, str]:
        path = "/webhooks/in?" + req.url.partition("?")[2]
        if peer != "127.0.0.1":
            return self.loop.run_until_complete(self._mocked(req, path, peer))
        return self.loop.run_until_complete(self._post(req, path))

    async def _post(self, req: Request, path: str) -> tuple[int, str]:
        response = await self.client.post(path, data=req.body, headers=req.headers)
        return response.status, await response.text()

    async def _mocked(self, req: Request, path: str, peer: str) -> tuple[int, str]:
        from aiohttp import streams, web
        from aiohttp.test_utils import make_mocked_request

        transport = mock.Mock()
        transport.get_extra_info.side_effect = lambda name, default=None: (
            (peer, 50000) if name == "peername" else default
        )
        payload = streams.StreamReader(mock.Mock(_reading_paused=False), 2**16, loop=self.loop)
        payload.feed_data(req.body)
        payload.feed_eof()
        request = make_mocked_request(
            "POST", path, headers=req.headers, transport=transport, payload=payload, app=self.app
        )
        # make_mocked_request routes nowhere (a mock route): give it the router's own match,
        # as the application's handler would, so the middleware sees the real resource.
        match = await self.app.router.resolve(request)
        match.add_app(self.app)
        request._match_info = match
        try:
            response = await self.endpoint(request)
        except web.HTTPException as exc:
            return exc.status, exc.text or ""
        assert isinstance(response, web.Response)
        return response.status, response.text or ""


@pytest.mark.parametrize("form", ["decorator", "middleware"])
@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_every_row_through_aiohttp(
    form: str, profile: Profile, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hookseal")
    holder = Holder()
    sender = AiohttpSender(holder, form)
    sent = 0
    try:
        for case in cases(profile):
            options = case.options or OPTIONS
            core = Harness(profile, options=dict(options), remote_addr=case.peer)
            with pytest.raises(VerificationError) as info:
                core.run(case.request)
            expected = info.value
            adapter = Harness(profile, options=dict(options))
            holder.verifier = adapter.verifier
            caplog.clear()
            where = f"aiohttp {form} {profile.name} row {case.row}"
            try:
                status, text = sender.send(case.request, case.peer)
            except (ValueError, TypeError, UnicodeError):  # the client refuses to send it
                assert case.row.startswith(("11-", "19-fullwidth", "25-control")), where
                continue
            sent += 1
            assert holder.calls == [], where
            assert isinstance(adapter.store, RecordingStore)
            assert adapter.store.calls == [], where
            if case.peer == "127.0.0.1" and any(len(v) > 8190 for _, v in case.request.headers):
                # aiohttp's parser refuses a line over 8190 bytes before any app code runs.
                assert (status, adapter.events, expected.status_code) == (400, [], 400), where
                continue
            assert status == expected.status_code, (where, status, repr(expected))
            assert text.strip() == GENERIC[status], (where, text)
            assert [e.reason for e in adapter.events] == [expected.reason], (where, adapter.events)
            for record in caplog.records:
                audit_text(record.getMessage(), profile, case.request)
                if record.exc_text:
                    audit_text(record.exc_text, profile, case.request)
            audit_text(text, profile, case.request)
    finally:
        sender.close()
    assert sent >= 12


@pytest.mark.parametrize(
    "profile", [p for p in PROFILES if p.replay_protected], ids=lambda p: p.name
)
def test_genuine_once_then_replays_refused(profile: Profile) -> None:
    holder = Holder()
    sender = AiohttpSender(holder, "decorator")
    try:
        h = Harness(profile, options=dict(OPTIONS))
        holder.verifier = h.verifier
        genuine = profile.sign()
        status, text = sender.send(genuine, "127.0.0.1")
        assert status == 200, (status, text)
        verified, seen = holder.calls[0]
        assert verified.body == genuine.body == seen
        for _ in range(2):
            status, text = sender.send(genuine, "127.0.0.1")
            assert (status, text.strip()) == (409, GENERIC[409])
        assert len(holder.calls) == 1
        assert len(h.store.calls) == 3
    finally:
        sender.close()


def test_row23_full_store_through_aiohttp() -> None:
    from hookseal.stores.memory import MemoryNonceStore

    profile = PROFILES[0]
    holder = Holder()
    sender = AiohttpSender(holder, "middleware")
    try:
        h = Harness(
            profile, options=dict(OPTIONS), store=RecordingStore(MemoryNonceStore(max_entries=2))
        )
        holder.verifier = h.verifier
        first = [profile.sign(msg_id=f"msg_{i}") for i in range(2)]
        assert [sender.send(r, "127.0.0.1")[0] for r in first] == [200, 200]
        status, text = sender.send(profile.sign(msg_id="msg_new"), "127.0.0.1")
        assert (status, text.strip()) == (503, GENERIC[503])
        assert [sender.send(r, "127.0.0.1")[0] for r in first] == [409, 409]
        assert len(holder.calls) == 2
    finally:
        sender.close()
