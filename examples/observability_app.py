"""Metrics and traces for a webhook receiver: Prometheus counters, OpenTelemetry spans, a log.

Serve it (Prometheus scrapes ``/metrics``; configure OpenTelemetry's SDK and exporters as usual,
for instance with ``opentelemetry-instrument``):

    WEBHOOK_SECRET=whsec_... uvicorn examples.observability_app:app --no-proxy-headers

Or run it as a script: ``python examples/observability_app.py`` sends genuine, forged,
replayed and stale deliveries through the app (Starlette's test client), prints the
``hookseal_verifications_total`` series a scraper sees (and the spans, when the OpenTelemetry
SDK is installed), and exits 0 only if every count is the expected one.

Needs ``pip install 'hookseal[starlette,prometheus,opentelemetry]'``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

from prometheus_client import REGISTRY, make_asgi_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from hookseal import Signer, VerificationEvent, Verifier
from hookseal.contrib.opentelemetry import OpenTelemetrySink
from hookseal.contrib.prometheus import PrometheusSink
from hookseal.contrib.starlette import WebhookMiddleware
from hookseal.schemes import StandardWebhooks

log = logging.getLogger("webhooks")
SECRET = os.environ.get("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def log_rejection(event: VerificationEvent) -> None:
    """A sink keeping a log line per rejection (an ``on_event`` sink replaces the default log)."""
    if event.outcome == "rejected":
        log.warning(
            "webhook rejected: reason=%s status=%d scheme=%s client=%s msg_id=%s",
            event.reason,
            event.status_code,
            event.scheme,
            event.client_addr or event.remote_addr,  # the resolved client, else the peer
            event.msg_id,
        )


def fan_out(*sinks: Callable[[VerificationEvent], None]) -> Callable[[VerificationEvent], None]:
    """One ``on_event`` callback feeding several sinks."""

    def emit(event: VerificationEvent) -> None:
        for sink in sinks:
            sink(event)

    return emit


# One sink of each kind for the whole application, shared by every verifier.
on_event = fan_out(PrometheusSink(), OpenTelemetrySink(), log_rejection)
verifier = Verifier(StandardWebhooks(), SECRET, on_event=on_event)


async def svix_hook(request: Request) -> Response:
    webhook = request.state.webhook  # hookseal.Verified
    return Response(status_code=204, headers={"X-Received": str(webhook.msg_id)})


app = Starlette(
    routes=[
        Route("/hooks/svix", svix_hook, methods=["POST"]),
        Mount("/metrics", app=make_asgi_app()),  # the global REGISTRY, as PrometheusSink uses
    ]
)
app.add_middleware(WebhookMiddleware, routes={"/hooks/svix": verifier})


def _count(reason: str, status: str) -> float:
    outcome = "accepted" if reason == "none" else "rejected"
    labels = {"scheme": "standard-webhooks", "outcome": outcome, "reason": reason}
    value = REGISTRY.get_sample_value("hookseal_verifications_total", {**labels, "status": status})
    return value or 0.0


def _record_spans() -> Callable[[], list[str]]:
    """With the OpenTelemetry SDK installed, keep spans in memory to print them."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        return list
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # the global provider the sink above records to
    return lambda: [
        f"{span.name} {dict(span.attributes or {})}" for span in exporter.get_finished_spans()
    ]


def main() -> int:
    """Send deliveries through the app and check what the metrics say."""
    from starlette.testclient import TestClient

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    spans = _record_spans()
    signer = Signer(StandardWebhooks(), SECRET)
    forger = Signer(StandardWebhooks(), "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    body = b'{"type":"invoice.paid","data":{"amount":4200}}'
    now = int(time.time())
    genuine = signer.sign(body, msg_id="msg_1", timestamp=now)
    with TestClient(app, client=("203.0.113.10", 50000)) as client:
        sent = [
            client.post("/hooks/svix", content=body, headers=genuine),  # accepted
            client.post("/hooks/svix", content=body, headers=genuine),  # replayed
        ]
        for number in range(3):  # forged
            forged = forger.sign(body, msg_id=f"msg_forged_{number}", timestamp=now)
            sent.append(client.post("/hooks/svix", content=body, headers=forged))
        stale = signer.sign(body, msg_id="msg_old", timestamp=now - 3600)
        sent.append(client.post("/hooks/svix", content=body, headers=stale))
        scraped = client.get("/metrics/").text

    print("statuses:", [response.status_code for response in sent])
    print("-- what Prometheus scrapes")
    for line in scraped.splitlines():
        if line.startswith("hookseal_verifications_total{"):
            print(line)
    for span in spans():
        print("span:", span)
    expected = {
        ("none", "200"): 1,
        ("replayed", "409"): 1,
        ("signature_mismatch", "401"): 3,
        ("timestamp_too_old", "401"): 1,
    }
    ok = all(_count(reason, status) == n for (reason, status), n in expected.items())
    ok = ok and [r.status_code for r in sent] == [204, 409, 401, 401, 401, 401]
    print("all counts as expected" if ok else "UNEXPECTED counts")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
