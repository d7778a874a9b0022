"""hookseal.contrib.opentelemetry: a span per verification and the metrics, via the OTel API.

Read back with the SDK's ``InMemorySpanExporter`` and ``InMemoryMetricReader`` on providers
built per test (never the global ones).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from observability_support import (
    BODY,
    NOW,
    assert_no_leak,
    forged,
    genuine,
    make_verifier,
    require,
)

from hookseal import ConfigurationError, IPAllowlist, VerificationError, VerificationEvent
from hookseal.contrib._metrics import DURATION_BUCKETS

pytestmark = pytest.mark.extras

#: Every attribute a hookseal span may carry; anything else is a leak of some kind.
SPAN_ATTRIBUTES = {
    "hookseal.scheme",
    "hookseal.outcome",
    "hookseal.reason",
    "hookseal.key_index",
    "http.response.status_code",
    "error.type",
    "client.address",
}


class Telemetry:
    """An SDK tracer provider and meter provider recording in memory."""

    def __init__(self) -> None:
        require("opentelemetry.sdk")
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def sink(self, **options: Any) -> Any:
        from hookseal.contrib.opentelemetry import OpenTelemetrySink

        return OpenTelemetrySink(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **options
        )

    def spans(self) -> list[Any]:
        return [
            span for span in self.exporter.get_finished_spans() if span.name.startswith("hookseal")
        ]

    def metrics(self) -> dict[str, Any]:
        data = self.reader.get_metrics_data()
        found: dict[str, Any] = {}
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = metric
        return found

    def points(self, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
        metric = self.metrics().get(name)
        if metric is None:
            return {}
        return {tuple(sorted(p.attributes.items())): p for p in metric.data.data_points}

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.shutdown()


def event(reason: str | None, status: int = 401, **fields: Any) -> VerificationEvent:
    values: dict[str, Any] = {
        "outcome": "accepted" if reason is None else "rejected",
        "reason": reason,
        "scheme": "hmac",
        "msg_id": "msg_1",
        "timestamp": None,
        "key_index": None,
        "remote_addr": "198.51.100.7",
        "duration": 0.25,
        "status_code": status,
    }
    values.update(fields)
    return VerificationEvent(**values)


# -- spans ---------------------------------------------------------------------------------


def test_an_accepted_delivery_makes_one_span_with_the_scheme_and_key_index(
    otel: Telemetry,
) -> None:
    from opentelemetry.trace import SpanKind, StatusCode

    verifier = make_verifier(otel.sink())
    verifier.verify(BODY, genuine(), remote_addr="203.0.113.10")

    (span,) = otel.spans()
    assert span.name == "hookseal.verify"
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes) == {
        "hookseal.scheme": "hmac",
        "hookseal.outcome": "accepted",
        "http.response.status_code": 200,
        "hookseal.key_index": 0,
    }
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope.name == "hookseal"
    assert span.end_time >= span.start_time


def test_a_forged_delivery_makes_an_error_span_with_the_reason(otel: Telemetry) -> None:
    from opentelemetry.trace import StatusCode

    verifier = make_verifier(otel.sink())
    with pytest.raises(VerificationError):
        verifier.verify(BODY, forged(), remote_addr="198.51.100.7")

    (span,) = otel.spans()
    assert dict(span.attributes) == {
        "hookseal.scheme": "hmac",
        "hookseal.outcome": "rejected",
        "http.response.status_code": 401,
        "hookseal.reason": "signature_mismatch",
        "error.type": "signature_mismatch",
    }
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "signature_mismatch"


def test_the_span_covers_the_verification_time_from_the_event(otel: Telemetry) -> None:
    sink = otel.sink()
    sink(event(None, 200, at=NOW + 0.5, duration=0.25, key_index=1))

    (span,) = otel.spans()
    assert span.end_time == int((NOW + 0.5) * 1_000_000_000)
    assert span.end_time - span.start_time == 250_000_000


def test_the_span_is_a_child_of_the_current_request_span(otel: Telemetry) -> None:
    tracer = otel.tracer_provider.get_tracer("the-application")
    verifier = make_verifier(otel.sink())
    with tracer.start_as_current_span("POST /hooks/billing") as request_span:
        verifier.verify(BODY, genuine())

    (span,) = otel.spans()
    assert span.parent is not None
    assert span.parent.span_id == request_span.get_span_context().span_id
    assert span.context.trace_id == request_span.get_span_context().trace_id


def test_client_address_only_when_the_allowlist_resolved_it(otel: Telemetry) -> None:
    allowlist = IPAllowlist(["192.0.2.0/24"], trusted_proxies=["10.0.0.1"])
    verifier = make_verifier(otel.sink(), allowlist=allowlist)
    # Through the trusted proxy: the resolved client, accepted and refused.
    verifier.verify(
        BODY, {**genuine(msg_id="a"), "X-Forwarded-For": "192.0.2.8"}, remote_addr="10.0.0.1"
    )
    with pytest.raises(VerificationError):
        verifier.verify(
            BODY,
            {**genuine(msg_id="b"), "X-Forwarded-For": "198.51.100.99"},
            remote_addr="10.0.0.1",
        )
    # Without an allowlist there is no resolved client: only the socket peer, never recorded.
    plain = make_verifier(otel.sink())
    plain.verify(
        BODY, {**genuine(msg_id="c"), "X-Forwarded-For": "192.0.2.77"}, remote_addr="203.0.113.5"
    )

    accepted, refused, unresolved = otel.spans()
    assert accepted.attributes["client.address"] == "192.0.2.8"
    assert refused.attributes["client.address"] == "198.51.100.99"
    assert refused.attributes["hookseal.reason"] == "forbidden_address"
    assert "client.address" not in unresolved.attributes
    text = json.dumps([dict(span.attributes) for span in otel.spans()])
    assert "10.0.0.1" not in text
    assert "203.0.113.5" not in text
    assert "192.0.2.77" not in text


def test_spans_and_metrics_hold_no_secret_signature_body_or_message_id(otel: Telemetry) -> None:
    verifier = make_verifier(otel.sink())
    sent = [genuine(msg_id="msg_secretive_1"), forged(msg_id="msg_secretive_2")]
    verifier.verify(BODY, sent[0])
    with pytest.raises(VerificationError):
        verifier.verify(BODY, sent[1])

    spans = otel.spans()
    assert len(spans) == 2
    for span in spans:
        assert set(span.attributes) <= SPAN_ATTRIBUTES
    text = "\n".join(span.to_json() for span in spans)
    text += self_describe(otel.metrics())
    assert_no_leak(text, headers=sent)


def self_describe(metrics: dict[str, Any]) -> str:
    return "\n".join(metric.to_json() for metric in metrics.values())


# -- metrics -------------------------------------------------------------------------------


def test_the_counter_and_histogram_record_each_verdict(otel: Telemetry) -> None:
    verifier = make_verifier(otel.sink())
    headers = genuine(msg_id="msg_replayed")
    verifier.verify(BODY, headers)
    with pytest.raises(VerificationError):
        verifier.verify(BODY, headers)
    with pytest.raises(VerificationError):
        verifier.verify(BODY, forged())
    with pytest.raises(VerificationError):
        verifier.verify(BODY, forged(msg_id="msg_forged_2"))

    metrics = otel.metrics()
    assert metrics["hookseal.verifications"].unit == "{verification}"
    assert metrics["hookseal.verification.duration"].unit == "s"
    counts = {key: point.value for key, point in otel.points("hookseal.verifications").items()}
    assert counts == {
        (
            ("hookseal.outcome", "accepted"),
            ("hookseal.reason", "none"),
            ("hookseal.scheme", "hmac"),
            ("http.response.status_code", 200),
        ): 1,
        (
            ("hookseal.outcome", "rejected"),
            ("hookseal.reason", "replayed"),
            ("hookseal.scheme", "hmac"),
            ("http.response.status_code", 409),
        ): 1,
        (
            ("hookseal.outcome", "rejected"),
            ("hookseal.reason", "signature_mismatch"),
            ("hookseal.scheme", "hmac"),
            ("http.response.status_code", 401),
        ): 2,
    }
    durations = otel.points("hookseal.verification.duration")
    assert {key: point.count for key, point in durations.items()} == {
        (("hookseal.outcome", "accepted"), ("hookseal.scheme", "hmac")): 1,
        (("hookseal.outcome", "rejected"), ("hookseal.scheme", "hmac")): 3,
    }
    for point in durations.values():
        assert tuple(point.explicit_bounds) == DURATION_BUCKETS  # the advice is taken
        assert point.sum > 0


def test_metric_attributes_stay_in_their_closed_sets(otel: Telemetry) -> None:
    sink = otel.sink()
    sink(event("made_up_by_a_custom_scheme", 401))
    sink(event("signature_mismatch", 1000))
    for number in range(50):
        sink(
            event("signature_mismatch", 401, msg_id=f"id-{number}", remote_addr=f"10.0.0.{number}")
        )

    unknown, no_status = otel.spans()[:2]
    assert unknown.attributes["hookseal.reason"] == "other"
    assert "http.response.status_code" not in no_status.attributes
    counts = {key: point.value for key, point in otel.points("hookseal.verifications").items()}
    base = (("hookseal.outcome", "rejected"),)
    assert counts == {
        (
            *base,
            ("hookseal.reason", "other"),
            ("hookseal.scheme", "hmac"),
            ("http.response.status_code", 401),
        ): 1,
        (*base, ("hookseal.reason", "signature_mismatch"), ("hookseal.scheme", "hmac")): 1,
        (
            *base,
            ("hookseal.reason", "signature_mismatch"),
            ("hookseal.scheme", "hmac"),
            ("http.response.status_code", 401),
        ): 50,
    }


def test_spans_or_metrics_can_be_turned_off(otel: Telemetry) -> None:
    otel.sink(metrics=False)(event(None, 200))
    assert len(otel.spans()) == 1
    assert otel.metrics() == {}
    otel.sink(spans=False)(event(None, 200))
    assert len(otel.spans()) == 1
    assert otel.points("hookseal.verifications")
    with pytest.raises(ConfigurationError, match="record nothing"):
        otel.sink(spans=False, metrics=False)


@pytest.mark.parametrize("buckets", [(), (1.0, 0.5), (0.0,), (float("inf"),)])
def test_bad_buckets_are_a_configuration_error(otel: Telemetry, buckets: Any) -> None:
    with pytest.raises(ConfigurationError, match="buckets"):
        otel.sink(buckets=buckets)


def test_the_global_providers_are_the_default() -> None:
    require("opentelemetry")
    from hookseal.contrib.opentelemetry import OpenTelemetrySink

    # Without an SDK configured the API's no-op providers take the calls: nothing raises.
    sink = OpenTelemetrySink()
    sink(event("replayed", 409))
    sink(event(None, 200, key_index=0, client_addr="192.0.2.1"))
    assert repr(sink) == "OpenTelemetrySink(spans=True, metrics=True)"


# -- through the Starlette middleware --------------------------------------------------------


def test_starlette_forgery_is_a_rejected_span_and_counted(otel: Telemetry) -> None:
    require("starlette")
    require("httpx")
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from hookseal.contrib.starlette import WebhookMiddleware

    async def hook(request: Request) -> Response:
        return Response(b"ok")

    app = Starlette(routes=[Route("/hooks/billing", hook, methods=["POST"])])
    app.add_middleware(WebhookMiddleware, routes={"/hooks/billing": make_verifier(otel.sink())})
    with TestClient(app) as client:
        assert client.post("/hooks/billing", content=BODY, headers=forged()).status_code == 401
        assert client.post("/hooks/billing", content=BODY, headers=genuine()).status_code == 200

    rejected, accepted = otel.spans()
    assert rejected.attributes["hookseal.reason"] == "signature_mismatch"
    assert rejected.attributes["http.response.status_code"] == 401
    assert accepted.attributes["hookseal.outcome"] == "accepted"
    counts = {key: point.value for key, point in otel.points("hookseal.verifications").items()}
    forged_key = (
        ("hookseal.outcome", "rejected"),
        ("hookseal.reason", "signature_mismatch"),
        ("hookseal.scheme", "hmac"),
        ("http.response.status_code", 401),
    )
    assert counts[forged_key] == 1
