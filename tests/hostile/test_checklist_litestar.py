"""The bad-input checklist through hookseal.contrib.litestar (see test_checklist_adapters.py).

Every row goes through Starlette's TestClient (an ASGI client: repeated header lines and
any peer address travel as given) into a Litestar application whose route handler carries
``webhook_middleware(verifier)`` and receives the delivery through ``provide_webhook``.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hookseal import VerificationError

from ._harness import Harness, RecordingStore, audit_text
from ._profiles import PROFILES, Profile
from .test_checklist_adapters import GENERIC, OPTIONS, Holder, Send, _asgi_send, cases

pytestmark = pytest.mark.extras
PUBLIC_URL = "https://hooks.example.com"


def _litestar() -> tuple[Holder, Send]:
    from litestar import Litestar, Request, post
    from litestar.response import Response

    from hookseal import Verifier
    from hookseal.contrib.litestar import Webhook, WebhookMiddleware, provide_webhook
    from hookseal.schemes import GitHub

    class PerRow(WebhookMiddleware):
        """The adapter's middleware, with the verifier of the current row."""

        def verifier_for(self, scope: Any) -> Any:
            return holder.verifier

    seed = Verifier(GitHub(), "seed-secret-never-used", nonce_store=None)
    holder = Holder()

    async def hook(request: Request[Any, Any, Any], webhook: Webhook) -> Response[str]:
        holder.calls.append((webhook, await request.body()))
        return Response("ok", media_type="text/plain")

    # Real objects, not the strings `from __future__ import annotations` leaves.
    hook.__annotations__ = {
        "request": Request[Any, Any, Any],
        "webhook": Webhook,
        "return": Response[str],
    }
    handler = post(
        "/webhooks/in",
        middleware=[lambda app: PerRow(app, seed, public_url=PUBLIC_URL)],
        dependencies={"webhook": provide_webhook},
        status_code=200,
    )(hook)
    app = Litestar(route_handlers=[handler], logging_config=None)
    _, send = _asgi_send(lambda _: app)

    def send_for(_: Holder, req: Any, peer: str) -> tuple[int, str]:
        return send(holder, req, peer)

    return holder, send_for


@pytest.mark.parametrize("profile", PROFILES, ids=[p.name for p in PROFILES])
def test_every_row_through_litestar(profile: Profile, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hookseal")
    holder, send = _litestar()
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
        try:
            status, text = send(holder, case.request, case.peer)
        except (ValueError, TypeError, UnicodeError):  # the client refuses to send it
            assert case.row.startswith(("11-", "19-fullwidth")), case.row
            continue
        sent += 1
        where = f"litestar {profile.name} row {case.row}"
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
def test_genuine_once_then_replays_refused(profile: Profile) -> None:
    holder, send = _litestar()
    h = Harness(profile, options=dict(OPTIONS))
    holder.verifier = h.verifier
    genuine = profile.sign()
    status, text = send(holder, genuine, "127.0.0.1")
    assert status == 200, (status, text)
    verified, seen = holder.calls[0]
    assert verified.body == genuine.body == seen
    for _ in range(2):
        status, text = send(holder, genuine, "127.0.0.1")
        assert (status, text.strip()) == (409, GENERIC[409])
    assert len(holder.calls) == 1
    assert len(h.store.calls) == 3
