"""The plugin's fixtures and send helpers with each framework's real test client and adapter."""

from __future__ import annotations

import asyncio
import base64

import pytest

from hookseal import Verifier
from hookseal.schemes import GitHub, StandardWebhooks, Stripe, Twilio
from hookseal.stores.memory import MemoryNonceStore
from hookseal.testing import FrozenClock

pytestmark = pytest.mark.extras

STANDARD_SECRET = "whsec_" + base64.b64encode(b"plugin-client-tests-secret-32byt").decode()
GITHUB_SECRET = "plugin-client-github-secret"
STRIPE_SECRET = "whsec_pluginClientStripeSecret"
TWILIO_TOKEN = "plugin-client-twilio-token"
BODY = b'{"type": "test.event", "amount": 42}'


# -- Flask ---------------------------------------------------------------------------------


@pytest.fixture
def flask_client():
    from flask import Flask, g

    from hookseal.contrib.flask import verify_webhook

    app = Flask(__name__)
    standard = Verifier(StandardWebhooks(), STANDARD_SECRET, nonce_store=MemoryNonceStore())
    github = Verifier(GitHub(), GITHUB_SECRET, nonce_store=MemoryNonceStore())
    twilio = Verifier(Twilio(), TWILIO_TOKEN, nonce_store=MemoryNonceStore())

    @app.post("/hooks/standard")
    @verify_webhook(standard)
    def standard_hook():
        return g.webhook.body

    @app.post("/hooks/github")
    @verify_webhook(github)
    def github_hook():
        return g.webhook.body

    @app.post("/hooks/sms")
    @verify_webhook(twilio, public_url="http://localhost")
    def sms_hook():
        return "ok"

    return app.test_client()


def test_flask_genuine_tampered_unsigned_replayed(flask_client, hookseal_sign) -> None:
    delivery = hookseal_sign("github", GITHUB_SECRET, BODY)
    response = delivery.send_flask(flask_client, "/hooks/github")
    assert response.status_code == 200
    assert response.data == BODY
    assert delivery.send_flask(flask_client, "/hooks/github").status_code == 409
    assert delivery.tampered().send_flask(flask_client, "/hooks/github").status_code == 401
    unsigned = delivery.without("X-Hub-Signature-256")
    assert unsigned.send_flask(flask_client, "/hooks/github").status_code == 401


def test_flask_frozen_clock_makes_a_delivery_stale(flask_client, hookseal_sign, frozen_clock):
    fresh = hookseal_sign("standard-webhooks", STANDARD_SECRET, BODY)
    stale = hookseal_sign("standard-webhooks", STANDARD_SECRET, BODY)
    assert fresh.send_flask(flask_client, "/hooks/standard").status_code == 200
    frozen_clock.advance(301)
    assert stale.send_flask(flask_client, "/hooks/standard").status_code == 401
    # Signed now (at the frozen time), it is fresh again.
    again = hookseal_sign("standard-webhooks", STANDARD_SECRET, BODY)
    assert again.send_flask(flask_client, "/hooks/standard").status_code == 200


def test_flask_twilio_signed_for_the_test_client_url(flask_client, hookseal_sign) -> None:
    delivery = hookseal_sign(
        "twilio",
        TWILIO_TOKEN,
        b"Body=hi&From=%2B1555",
        url="http://localhost/hooks/sms",
        content_type="application/x-www-form-urlencoded",
    )
    assert delivery.send_flask(flask_client, "/hooks/sms").status_code == 200
    wrong_url = hookseal_sign(
        "twilio",
        TWILIO_TOKEN,
        b"Body=hi&From=%2B1556",
        url="https://example.com/hooks/sms",
        content_type="application/x-www-form-urlencoded",
    )
    assert wrong_url.send_flask(flask_client, "/hooks/sms").status_code == 401


# -- Starlette / FastAPI -------------------------------------------------------------------


@pytest.fixture
def starlette_client():
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from hookseal.contrib.starlette import WebhookMiddleware

    async def stripe_hook(request: Request) -> Response:
        verified = request.state.webhook
        assert await request.body() == verified.body
        return Response(verified.body)

    app = Starlette(routes=[Route("/hooks/stripe", stripe_hook, methods=["POST"])])
    verifier = Verifier(Stripe(), STRIPE_SECRET, nonce_store=MemoryNonceStore())
    protected = WebhookMiddleware(app, {"/hooks/stripe": verifier})
    with TestClient(protected) as client:
        yield client


def test_starlette_genuine_and_rejected(starlette_client, hookseal_sign) -> None:
    delivery = hookseal_sign("stripe", STRIPE_SECRET, BODY)
    response = delivery.send_starlette(starlette_client, "/hooks/stripe")
    assert response.status_code == 200
    assert response.content == BODY
    assert delivery.send_starlette(starlette_client, "/hooks/stripe").status_code == 409
    forged = hookseal_sign("stripe", "whsec_notTheSecret", BODY)
    assert forged.send_starlette(starlette_client, "/hooks/stripe").status_code == 401


def test_starlette_with_frozen_clock(starlette_client, hookseal_sign, frozen_clock) -> None:
    delivery = hookseal_sign("stripe", STRIPE_SECRET, BODY, timestamp=int(frozen_clock.now))
    frozen_clock.advance(-400)  # this server's clock is now behind the sender's
    assert delivery.send_starlette(starlette_client, "/hooks/stripe").status_code == 401
    frozen_clock.advance(400)
    assert delivery.send_starlette(starlette_client, "/hooks/stripe").status_code == 200


# -- Django --------------------------------------------------------------------------------


@pytest.fixture
def django_urls():
    import django
    from django.conf import settings
    from django.test.utils import override_settings

    if not settings.configured:  # another test module may have configured Django already
        settings.configure(
            SECRET_KEY="hookseal-plugin-tests-only",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF="plugin_django_urls",
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
            USE_TZ=True,
            LOGGING_CONFIG=None,
        )
        django.setup()
    with override_settings(
        ROOT_URLCONF="plugin_django_urls",
        MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    ):
        import plugin_django_urls

        yield plugin_django_urls


def test_django_client(django_urls, hookseal_sign) -> None:
    from django.test import Client

    client = Client()
    delivery = hookseal_sign("slack", django_urls.SECRET, BODY)
    response = delivery.send_django(client, "/hooks/slack/")
    assert response.status_code == 200
    assert response.content == BODY
    assert delivery.tampered().send_django(client, "/hooks/slack/").status_code == 401
    unsigned = delivery.without("X-Slack-Signature")
    assert unsigned.send_django(client, "/hooks/slack/").status_code == 401


def test_django_async_client(django_urls, hookseal_sign, frozen_clock) -> None:
    from django.test import AsyncClient

    delivery = hookseal_sign("slack", django_urls.SECRET, b'{"async": true}')

    async def send() -> list[int]:
        client = AsyncClient()
        first = await delivery.asend_django(client, "/hooks/slack-async/")
        frozen_clock.advance(301)
        stale = hookseal_sign(
            "slack", django_urls.SECRET, b"{}", timestamp=int(frozen_clock.now) - 301
        )
        second = await stale.asend_django(client, "/hooks/slack-async/")
        return [first.status_code, second.status_code]

    assert asyncio.run(send()) == [200, 401]


def test_explicit_frozen_clock_without_the_fixture(hookseal_sign) -> None:
    clock = FrozenClock(1_700_000_000)
    verifier = Verifier(GitHub(), GITHUB_SECRET, nonce_store=None, clock=clock)
    delivery = hookseal_sign("github", GITHUB_SECRET, BODY)
    assert verifier.verify(delivery.body, delivery.headers).scheme == "github"


def test_frozen_clock_repr_shows_the_time() -> None:
    clock = FrozenClock(1_700_000_000)
    clock.advance(1.5)
    assert repr(clock) == "FrozenClock(now=1700000001.5)"


def test_django_send_helpers_default_the_content_type_to_json() -> None:
    """Without a Content-Type, Django requests go out as application/json (Django's own client)."""
    import django
    from django.conf import settings
    from django.test import RequestFactory

    if not settings.configured:  # another test module may have configured Django already
        settings.configure(SECRET_KEY="hookseal-plugin-tests-only", ALLOWED_HOSTS=["*"],
                           INSTALLED_APPS=[], USE_TZ=True, LOGGING_CONFIG=None)  # fmt: skip
        django.setup()

    from hookseal.testing import sign_delivery

    delivery = sign_delivery("github", GITHUB_SECRET, b"[1]", content_type=None)
    assert delivery.extra_headers == {}
    request = delivery.send_django(RequestFactory(), "/hook/")
    assert request.content_type == "application/json"
    assert request.body == b"[1]"
    assert request.headers["X-Hub-Signature-256"] == delivery.headers["X-Hub-Signature-256"]
    typed = sign_delivery("github", GITHUB_SECRET, b"a=1", content_type="text/plain")
    assert typed.send_django(RequestFactory(), "/hook/").content_type == "text/plain"
