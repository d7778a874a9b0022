"""hookseal.contrib.flask through Flask's own test client (and Werkzeug's WSGI test runner)."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from adapter_support import (
    BODY,
    CASE_IDS,
    LIMIT,
    REJECTIONS,
    Case,
    Request,
    assert_generic,
    forbidding_verifier,
    make_verifier,
    rejection_logs,
    signed,
)
from flask import Flask, g, request
from werkzeug.test import EnvironBuilder, run_wsgi_app

from hookseal import ConfigurationError, VerificationError, Verified
from hookseal.contrib.flask import HookSeal, WebhookRejected, get_webhook, verify_webhook

pytestmark = pytest.mark.extras


def build_app(**config: Any) -> tuple[Flask, list[Any], list[Any]]:
    app = Flask("hookseal_flask_tests")
    app.config.update(config)
    calls: list[Any] = []
    rejected: list[Any] = []

    def on_reject(req: Any, error: VerificationError) -> None:
        rejected.append((req.path, error.reason))

    def answer() -> bytes:
        webhook = get_webhook()
        assert isinstance(webhook, Verified)
        assert webhook is g.webhook
        again = request.get_data()
        assert again == webhook.body  # the handler re-reads the exact verified bytes
        calls.append(webhook.msg_id)
        return again

    verifier = make_verifier()

    @app.post("/sync")
    @verify_webhook(verifier, on_reject=on_reject)
    def sync_view() -> bytes:
        return answer()

    @app.post("/async")
    @verify_webhook(verifier, on_reject=on_reject)
    async def async_view() -> bytes:
        return answer()

    @app.post("/forbidden")
    @verify_webhook(forbidding_verifier(), on_reject=on_reject)
    def forbidden_view() -> bytes:
        return answer()

    @app.post("/replay-200")
    @verify_webhook(make_verifier(), replay_status=200)
    def replay_200_view() -> bytes:
        return answer()

    def failing_hook(req: Any, error: VerificationError) -> None:
        raise RuntimeError("metrics backend down")

    @app.post("/failing-hook")
    @verify_webhook(make_verifier(), on_reject=failing_hook)
    def failing_hook_view() -> bytes:
        return answer()

    @app.post("/form-first")
    @verify_webhook(make_verifier())
    def form_first_view() -> bytes:
        return answer()

    @app.before_request
    def read_form_too_early() -> None:
        if request.path == "/form-first":
            request.form.get("anything")  # consumes the stream (row 29)

    @app.post("/unprotected")
    def unprotected_view() -> tuple[str, int]:
        try:
            get_webhook()
        except LookupError as exc:
            return str(exc), 418
        return "verified?", 200  # pragma: no cover - the test fails if reached

    hookseal = HookSeal()

    @app.post("/ext")
    @hookseal.protect("billing")
    def ext_view() -> bytes:
        return answer()

    app.config.setdefault("HOOKSEAL_VERIFIERS", {"billing": make_verifier()})
    hookseal.init_app(app)
    return app, calls, rejected


@pytest.fixture
def app_calls() -> tuple[Flask, list[Any], list[Any]]:
    return build_app()


def post(app: Flask, path: str, req: Request) -> Any:
    return app.test_client().post(path, data=req.body, headers=req.headers)


@pytest.mark.parametrize("path", ["/sync", "/async", "/ext"])
def test_valid_delivery_reaches_handler_with_identical_bytes(app_calls: Any, path: str) -> None:
    app, calls, _ = app_calls
    req = signed()
    response = post(app, path, req)
    assert response.status_code == 200
    assert response.data == BODY
    assert calls == [req.header_dict()["webhook-id"]]


@pytest.mark.parametrize("path", ["/sync", "/async"])
@pytest.mark.parametrize("case", REJECTIONS, ids=CASE_IDS)
def test_rejections_never_reach_handler(
    app_calls: Any, caplog: pytest.LogCaptureFixture, case: Case, path: str
) -> None:
    app, calls, rejected = app_calls
    caplog.set_level(logging.INFO, "hookseal")
    response = post(app, path, case.build())
    assert response.status_code == case.status
    assert_generic(case.status, response.get_data(as_text=True))
    assert response.mimetype == "text/plain"
    assert calls == []
    assert len(rejection_logs(caplog)) == 1  # logged once, by the verifier
    assert len(rejected) == 1
    assert rejected[0][0] == path


def test_replay_is_refused_with_409_and_handler_runs_once(app_calls: Any) -> None:
    app, calls, rejected = app_calls
    req = signed()
    assert post(app, "/sync", req).status_code == 200
    second = post(app, "/async", req)
    assert second.status_code == 409
    assert_generic(409, second.get_data(as_text=True))
    assert len(calls) == 1
    assert rejected == [("/async", "replayed")]


def test_replay_status_is_configurable(app_calls: Any) -> None:
    app, calls, _ = app_calls
    req = signed()
    assert post(app, "/replay-200", req).status_code == 200
    again = post(app, "/replay-200", req)
    assert again.status_code == 200
    assert_generic(409, again.get_data(as_text=True))  # still the replay text, handler not run
    assert len(calls) == 1


def test_forbidden_address(app_calls: Any) -> None:
    app, calls, rejected = app_calls
    response = post(app, "/forbidden", signed())
    assert response.status_code == 403
    assert_generic(403, response.get_data(as_text=True))
    assert calls == []
    assert rejected == [("/forbidden", "forbidden_address")]


def test_proxy_fix_does_not_change_the_peer_address(app_calls: Any) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    app, calls, _ = app_calls
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    req = signed()
    response = app.test_client().post(
        "/forbidden", data=req.body, headers=[*req.headers, ("X-Forwarded-For", "10.1.2.3")]
    )
    assert response.status_code == 403  # the socket peer (127.0.0.1) is checked, not XFF
    assert calls == []


def test_form_read_before_verification_is_never_accepted(app_calls: Any) -> None:
    app, calls, _ = app_calls
    body = b"a=1&b=2"
    req = signed(body)
    headers = [h for h in req.headers if h[0] != "Content-Type"]
    headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    response = app.test_client().post("/form-first", data=body, headers=headers)
    assert response.status_code == 401
    assert calls == []


def test_handler_can_parse_a_form_after_verification(app_calls: Any) -> None:
    app, _, _ = app_calls

    @app.post("/form-after")
    @verify_webhook(make_verifier())
    def form_after() -> str:
        return request.form["a"] + request.get_data(as_text=True)

    body = b"a=1&b=2"
    req = signed(body)
    headers = [h for h in req.headers if h[0] != "Content-Type"]
    headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    response = app.test_client().post("/form-after", data=body, headers=headers)
    assert response.status_code == 200
    assert response.get_data() == b"1a=1&b=2"


def test_failing_reject_hook_is_logged_and_ignored(
    app_calls: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, calls, _ = app_calls
    response = post(app, "/failing-hook", signed(timestamp=0))
    assert response.status_code == 401
    assert any("on_reject hook failed" in r.getMessage() for r in caplog.records)
    assert calls == []


def chunked(app: Flask, path: str, req: Request, max_content_length: int | None = None) -> Any:
    """Send the body with no Content-Length, as a server does for a chunked request."""
    environ = EnvironBuilder(
        path=path, method="POST", headers=req.headers, input_stream=io.BytesIO(req.body)
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True
    app.config["MAX_CONTENT_LENGTH"] = max_content_length
    app_iter, status, _ = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(app_iter)


@pytest.mark.parametrize("max_content_length", [None, LIMIT, LIMIT * 4])
def test_chunked_bodies(app_calls: Any, max_content_length: int | None) -> None:
    app, calls, _ = app_calls
    # Exactly at the limit is accepted; Werkzeug itself refuses a stream that reaches the app's
    # MAX_CONTENT_LENGTH exactly (it cannot tell whether more follows), hence LIMIT - 1 there.
    size = LIMIT if max_content_length != LIMIT else LIMIT - 1
    ok = signed(b"y" * size)
    assert chunked(app, "/sync", ok, max_content_length) == (200, ok.body)
    status, text = chunked(app, "/sync", signed(b"y" * (LIMIT + 1)), max_content_length)
    assert status == 413  # never a truncated 200
    assert_generic(413, text.decode())
    assert len(calls) == 1


def test_malformed_content_length_is_400(app_calls: Any) -> None:
    app, calls, _ = app_calls
    req = signed()
    environ = EnvironBuilder(
        path="/sync", method="POST", headers=req.headers, data=req.body
    ).get_environ()
    environ["CONTENT_LENGTH"] = "12abc"
    _, status, _ = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("400")
    assert calls == []


def test_errorhandler_can_customise_rejections(app_calls: Any) -> None:
    app, _, _ = app_calls

    @app.errorhandler(WebhookRejected)
    def custom(error: WebhookRejected) -> tuple[str, int]:
        return f"custom {error.code}", error.code or 500

    response = post(app, "/sync", signed(timestamp=0))
    assert (response.status_code, response.get_data(as_text=True)) == (401, "custom 401")


def test_extension_configuration_is_validated() -> None:
    for bad in (
        {"HOOKSEAL_VERIFIERS": {"x": object()}},
        {"HOOKSEAL_VERIFIERS": ["not a mapping"]},
        {"HOOKSEAL_REPLAY_STATUS": 99},
        {"HOOKSEAL_REPLAY_STATUS": True},
        {"HOOKSEAL_ON_REJECT": "not callable"},
    ):
        app = Flask("bad")
        app.config.update(bad)
        with pytest.raises(ConfigurationError):
            HookSeal(app)
    with pytest.raises(ConfigurationError):
        verify_webhook("not a verifier")  # type: ignore[arg-type]


def test_extension_unknown_name_or_missing_init_is_a_configuration_error() -> None:
    app = Flask("x")
    hookseal = HookSeal()

    @app.post("/unknown")
    @hookseal.protect("nope")
    def unknown() -> str:
        return "never"

    client = app.test_client()
    app.testing = True
    with pytest.raises(ConfigurationError, match="init_app"):
        client.post("/unknown", data=b"x")
    hookseal.init_app(app)
    with pytest.raises(ConfigurationError, match="nope"):
        client.post("/unknown", data=b"x")


def test_get_webhook_in_an_unprotected_view_raises_lookup_error(app_calls: Any) -> None:
    app, calls, _ = app_calls
    response = post(app, "/unprotected", signed())
    assert response.status_code == 418
    assert "not protected" in response.text
    assert "@verify_webhook(verifier)" in response.text
    assert calls == []


def test_get_webhook_outside_a_request_is_flasks_own_error() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        get_webhook()
