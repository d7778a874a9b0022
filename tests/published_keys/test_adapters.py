"""SNS and Pub/Sub deliveries through the Starlette middleware (its test client and a real
uvicorn server on 127.0.0.1), with keys from the loopback HTTPS key server.

The middleware verifies with ``averify`` on the event loop: with nothing cached, the first
delivery is refused with 503 while the key downloads in the background (the loop is never
blocked), and the sender's retry is accepted. Once the verifier awaits the scheme's
``aprepare`` the first delivery is accepted directly; these tests accept either.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

pytest.importorskip("starlette")
jwt = pytest.importorskip("jwt")
import httpx  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from hookseal import Signer, Verifier  # noqa: E402
from hookseal.contrib.starlette import WebhookMiddleware, get_webhook  # noqa: E402
from hookseal.schemes.aws_sns import AmazonSNS, SNSSigningKey, sign_message  # noqa: E402
from hookseal.schemes.gcp_pubsub import GooglePubSub, PubSubSigningKey, push_body  # noqa: E402
from hookseal.stores.memory import MemoryNonceStore  # noqa: E402

from .conftest import make_certificate  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.extras]

TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"
AUDIENCE = "https://example.com/pubsub"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def app_and_senders(key_server, rsa_key):
    cert = make_certificate(rsa_key, "sns").public_bytes(serialization.Encoding.PEM)
    sns_key = SNSSigningKey(rsa_key, key_server.serve("/SimpleNotificationService-a.pem", cert))
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    key_server.serve(
        "/certs", json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256"}]}).encode()
    )
    keys = key_server.published_keys()
    handled: list[str] = []

    async def endpoint(request):
        verified = get_webhook(request)
        assert await request.body() == verified.body
        handled.append(verified.msg_id)
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/sns", endpoint, methods=["POST"]),
            Route("/pubsub", endpoint, methods=["POST"]),
        ]
    )
    store = MemoryNonceStore()
    app.add_middleware(
        WebhookMiddleware,
        routes={
            "/sns": Verifier(AmazonSNS(published_keys=keys), [TOPIC], nonce_store=store),
            "/pubsub": Verifier(
                GooglePubSub(published_keys=keys, certs_url=key_server.url("/certs")),
                [AUDIENCE],
                nonce_store=store,
            ),
        },
    )
    pubsub_signer = Signer(
        GooglePubSub(published_keys=keys, certs_url=key_server.url("/certs")),
        PubSubSigningKey(rsa_key, "k1", AUDIENCE),
    )
    return app, sns_key, pubsub_signer, handled


def post_until_accepted(post, path, body, headers) -> list[int]:
    statuses = []
    for _ in range(100):
        status = post(path, body, headers)
        statuses.append(status)
        if status != 503:
            break
        time.sleep(0.02)
    return statuses


def check_both(post, app_and_senders) -> None:
    _app, sns_key, pubsub_signer, handled = app_and_senders
    now = int(time.time())
    body = sign_message(sns_key, topic_arn=TOPIC, message="m", timestamp=now, msg_id="sns-1")
    statuses = post_until_accepted(post, "/sns", body, {"content-type": "text/plain"})
    assert statuses[-1] == 200
    assert set(statuses[:-1]) <= {503}
    assert post("/sns", body, {}) == 409  # the replay

    forged = body.replace(b'"Message": "m"', b'"Message": "x"')
    assert post("/sns", forged, {}) == 401

    push = push_body("pubsub-1", b"data")
    headers = pubsub_signer.sign(push, timestamp=now)
    statuses = post_until_accepted(post, "/pubsub", push, headers)
    assert statuses[-1] == 200
    assert set(statuses[:-1]) <= {503}
    assert post("/pubsub", push, headers) == 409
    assert post("/pubsub", push_body("pubsub-2"), {"Authorization": "Bearer a.b.c"}) == 400
    assert handled == ["sns-1", "pubsub-1"]


def test_through_the_starlette_test_client(app_and_senders) -> None:
    app = app_and_senders[0]
    with TestClient(app) as client:

        def post(path, body, headers):
            return client.post(path, content=body, headers=headers).status_code

        check_both(post, app_and_senders)


def test_through_a_real_uvicorn_server(app_and_senders) -> None:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app_and_senders[0], host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:

            def post(path, body, headers):
                return client.post(path, content=body, headers=headers).status_code

            check_both(post, app_and_senders)
    finally:
        server.should_exit = True
        thread.join(10)
