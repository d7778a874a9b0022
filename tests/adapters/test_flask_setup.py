"""Flask adapter set-up mistakes that used to pass silently, and the trusted URL origin.

* ``@verify_webhook`` above ``@app.post`` wrapped a function Flask never calls: the view ran
  for every request, unverified. Now any request routed to such a bare function is refused.
* Twilio and RFC 9421 sign the URL: rebuilt from the request's Host header, a delivery
  captured from another deployment (same token, same path) verified. Now the URL comes from
  ``public_url``, ``SERVER_NAME`` or exact ``TRUSTED_HOSTS``, and without any of them the
  request is refused (``init_app`` refuses to start).

Each through Flask's test client and through Werkzeug's server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.client
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from adapter_support import make_verifier, signed
from flask import Blueprint, Flask, g
from werkzeug.serving import make_server

from hookseal import ConfigurationError, Verifier
from hookseal.contrib.flask import HookSeal, verify_webhook
from hookseal.schemes import Twilio
from hookseal.stores.memory import MemoryNonceStore
from hookseal.testing import SignedDelivery, sign_delivery

pytestmark = pytest.mark.extras

FORM = "application/x-www-form-urlencoded"
TOKEN = "hookseal-flask-twilio-token"
PUBLIC = "https://hooks.example.com"
OTHER = "https://staging.example.net"


def _passthrough(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return wrapper


def misordered_apps(calls: list[Any]) -> dict[str, Flask]:
    """Apps whose hookseal decorator sits above the route decorator, in each form."""

    def reached() -> str:
        calls.append(getattr(g, "webhook", None))
        return "reached"

    plain = Flask("misordered_plain")

    @verify_webhook(make_verifier())
    @plain.post("/hook")
    def plain_hook() -> str:
        return reached()

    stacked = Flask("misordered_stacked")

    @verify_webhook(make_verifier())
    @_passthrough
    @stacked.post("/hook")
    def stacked_hook() -> str:
        return reached()

    blueprinted = Flask("misordered_blueprint")
    blueprint = Blueprint("hooks", __name__)

    @verify_webhook(make_verifier())
    @blueprint.post("/hook")
    def blueprint_hook() -> str:
        return reached()

    blueprinted.register_blueprint(blueprint)

    extended = Flask("misordered_extension")
    extended.config["HOOKSEAL_VERIFIERS"] = {"billing": make_verifier()}
    hookseal = HookSeal(extended)

    @hookseal.protect("billing")
    @extended.post("/hook")
    def extension_hook() -> str:
        return reached()

    @async_app_route(Flask("misordered_async"))
    async def async_hook() -> str:
        return reached()

    return {
        "plain": plain,
        "stacked": stacked,
        "blueprint": blueprinted,
        "extension": extended,
        "async": async_hook.app,  # type: ignore[attr-defined]
    }


def async_app_route(app: Flask) -> Callable[[Any], Any]:
    def register(view: Any) -> Any:
        wrapped = verify_webhook(make_verifier())(app.post("/hook")(view))
        wrapped.app = app
        return wrapped

    return register


MISORDERED = ["plain", "stacked", "blueprint", "extension", "async"]


@pytest.mark.parametrize("shape", MISORDERED)
def test_decorator_above_the_route_refuses_every_request(shape: str) -> None:
    """Before: a forged delivery reached the view (200 "reached")."""
    calls: list[Any] = []
    app = misordered_apps(calls)[shape]
    forged = signed(timestamp=0)
    response = app.test_client().post("/hook", data=forged.body, headers=forged.headers)
    assert response.status_code == 500
    genuine = signed()
    response = app.test_client().post("/hook", data=genuine.body, headers=genuine.headers)
    assert response.status_code == 500
    assert calls == []
    app.testing = True  # exceptions propagate: the error says what to change
    with pytest.raises(ConfigurationError, match="below the route decorator"):
        app.test_client().post("/hook", data=forged.body, headers=forged.headers)
    assert calls == []


def test_decorator_below_the_route_is_untouched() -> None:
    app = Flask("ordered")

    @app.post("/hook")
    @verify_webhook(make_verifier())
    def hook() -> bytes:
        return bytes(g.webhook.body)

    @app.get("/other")
    def other() -> str:
        return "other"

    client = app.test_client()
    forged = signed(timestamp=0)
    assert client.post("/hook", data=forged.body, headers=forged.headers).status_code == 401
    genuine = signed()
    response = client.post("/hook", data=genuine.body, headers=genuine.headers)
    assert (response.status_code, response.data) == (200, genuine.body)
    assert client.get("/other").data == b"other"
    assert client.get("/nowhere").status_code == 404


@pytest.mark.server
def test_decorator_above_the_route_under_a_real_server() -> None:
    calls: list[Any] = []
    for base in serve(misordered_apps(calls)["plain"]):
        forged = signed(timestamp=0)
        status, _ = raw_post(base, "/hook", forged.body, dict(forged.headers))
        assert status == 500
    assert calls == []


# -- the trusted origin of a signed URL ----------------------------------------------------


def twilio_verifier() -> Verifier:
    return Verifier(Twilio(), TOKEN, nonce_store=MemoryNonceStore())


def twilio(url: str, body: bytes = b"Body=hi&From=%2B15550001") -> SignedDelivery:
    return sign_delivery("twilio", TOKEN, body, url=url, content_type=FORM)


def twilio_app(calls: list[Any], **options: Any) -> Flask:
    app = Flask("twilio_origin")
    config = options.pop("config", {})
    app.config.update(config)

    @app.post("/hooks/sms")
    @verify_webhook(twilio_verifier(), **options)
    def sms() -> str:
        calls.append(g.webhook)
        return "ok"

    return app


def send(app: Flask, delivery: SignedDelivery, base_url: str, path: str = "/hooks/sms") -> Any:
    return app.test_client().post(
        path, data=delivery.body, headers=delivery.all_headers(), base_url=base_url
    )


def test_url_signing_scheme_without_a_trusted_origin_is_refused() -> None:
    """Before: another deployment's delivery, sent with that deployment's Host, got 200."""
    calls: list[Any] = []
    app = twilio_app(calls)
    captured = twilio(f"{OTHER}/hooks/sms")
    assert send(app, captured, OTHER).status_code == 500
    assert calls == []
    app.testing = True
    with pytest.raises(ConfigurationError, match=r"public_url=.*SERVER_NAME.*TRUSTED_HOSTS"):
        send(app, captured, OTHER)
    assert calls == []


@pytest.mark.parametrize("public_url", [PUBLIC, PUBLIC + "/"])
def test_public_url_is_the_origin_whatever_the_host_header(public_url: str) -> None:
    calls: list[Any] = []
    app = twilio_app(calls, public_url=public_url)
    assert send(app, twilio(f"{PUBLIC}/hooks/sms"), "http://internal:8000").status_code == 200
    captured = twilio(f"{OTHER}/hooks/sms", b"Body=elsewhere")
    assert send(app, captured, OTHER).status_code == 401
    query = twilio(f"{PUBLIC}/hooks/sms?tenant=a%20b", b"Body=query")
    assert send(app, query, "http://internal", "/hooks/sms?tenant=a%20b").status_code == 200
    assert len(calls) == 2


def test_public_url_with_a_prefix_a_proxy_strips() -> None:
    calls: list[Any] = []
    app = twilio_app(calls, public_url=PUBLIC + "/app")
    assert send(app, twilio(f"{PUBLIC}/app/hooks/sms"), "http://internal").status_code == 200
    assert send(app, twilio(f"{PUBLIC}/hooks/sms", b"Body=x"), PUBLIC).status_code == 401


def test_server_name_is_the_origin() -> None:
    calls: list[Any] = []
    app = twilio_app(calls, config={"SERVER_NAME": "hooks.example.com"})
    assert send(app, twilio(f"{PUBLIC}/hooks/sms"), PUBLIC).status_code == 200
    captured = twilio(f"{OTHER}/hooks/sms", b"Body=elsewhere")
    assert send(app, captured, OTHER).status_code in (401, 404)  # never accepted
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("trusted", "status"),
    [(["hooks.example.com"], 200), ([".example.com"], 500), (["*"], 400), ([], 500)],
)
def test_only_exact_trusted_hosts_are_an_origin(trusted: list[str], status: int) -> None:
    calls: list[Any] = []
    app = twilio_app(calls, config={"TRUSTED_HOSTS": trusted})
    assert send(app, twilio(f"{PUBLIC}/hooks/sms"), PUBLIC).status_code == status
    if status == 200:
        captured = twilio(f"{OTHER}/hooks/sms", b"Body=elsewhere")
        assert send(app, captured, OTHER).status_code == 400  # an untrusted Host header


def test_extension_refuses_to_start_without_an_origin() -> None:
    app = Flask("ext_origin")
    app.config["HOOKSEAL_VERIFIERS"] = {"sms": twilio_verifier()}
    with pytest.raises(ConfigurationError, match=r"HOOKSEAL_VERIFIERS\['sms'\]"):
        HookSeal(app)
    app.config["HOOKSEAL_PUBLIC_URL"] = "not a url"
    with pytest.raises(ConfigurationError, match="HOOKSEAL_PUBLIC_URL"):
        HookSeal(app)
    app.config["HOOKSEAL_PUBLIC_URL"] = PUBLIC
    hookseal = HookSeal(app)
    calls: list[Any] = []

    @app.post("/hooks/sms")
    @hookseal.protect("sms")
    def sms() -> str:
        calls.append(g.webhook)
        return "ok"

    assert send(app, twilio(f"{PUBLIC}/hooks/sms"), "http://internal").status_code == 200
    assert send(app, twilio(f"{OTHER}/hooks/sms", b"Body=x"), OTHER).status_code == 401
    assert len(calls) == 1


def test_public_url_is_validated() -> None:
    for bad in ("ftp://hooks.example.com", "https://hooks.example.com/?q=1", "hooks.example.com"):
        with pytest.raises(ConfigurationError, match="public_url"):
            verify_webhook(twilio_verifier(), public_url=bad)


@pytest.mark.server
def test_public_url_under_a_real_server() -> None:
    calls: list[Any] = []
    for base in serve(twilio_app(calls, public_url=PUBLIC)):
        genuine = twilio(f"{PUBLIC}/hooks/sms")
        status, _ = raw_post(base, "/hooks/sms", genuine.body, genuine.all_headers())
        assert status == 200
        captured = twilio(f"{OTHER}/hooks/sms", b"Body=elsewhere")
        headers = {**captured.all_headers(), "Host": "staging.example.net"}
        status, _ = raw_post(base, "/hooks/sms", captured.body, headers)
        assert status == 401
    assert len(calls) == 1


# -- a real server ---------------------------------------------------------------------------


def serve(app: Any) -> Iterator[tuple[str, int]]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ("127.0.0.1", server.server_port)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def raw_post(
    base: tuple[str, int], target: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(*base, timeout=10)
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
