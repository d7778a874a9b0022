"""hookseal.contrib.prometheus: verdicts counted with bounded labels, latency in a histogram.

Every test uses its own ``CollectorRegistry`` (never the global one) and reads it back with
``get_sample_value`` or the text exposition format a scraper would see.
"""

from __future__ import annotations

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
    serve_uvicorn,
)

from hookseal import (
    ConfigurationError,
    IPAllowlist,
    NonceStoreUnavailable,
    VerificationError,
    VerificationEvent,
)
from hookseal.contrib._metrics import DURATION_BUCKETS, REASONS
from hookseal.stores.memory import MemoryNonceStore

pytestmark = pytest.mark.extras

COUNTER = "hookseal_verifications_total"
HISTOGRAM = "hookseal_verification_duration_seconds"


@pytest.fixture
def prom() -> Any:
    return require("prometheus_client")


@pytest.fixture
def registry(prom: Any) -> Any:
    return prom.CollectorRegistry()


@pytest.fixture
def sink(registry: Any) -> Any:
    from hookseal.contrib.prometheus import PrometheusSink

    return PrometheusSink(registry)


def count(registry: Any, outcome: str, reason: str, status: str, scheme: str = "hmac") -> float:
    labels = {"scheme": scheme, "outcome": outcome, "reason": reason, "status": status}
    value = registry.get_sample_value(COUNTER, labels)
    return 0.0 if value is None else float(value)


def observations(registry: Any, outcome: str, scheme: str = "hmac") -> float:
    value = registry.get_sample_value(f"{HISTOGRAM}_count", {"scheme": scheme, "outcome": outcome})
    return 0.0 if value is None else float(value)


def counter_label_sets(registry: Any) -> set[tuple[tuple[str, str], ...]]:
    return {
        tuple(sorted(sample.labels.items()))
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == COUNTER
    }


def event(reason: str | None, status: int = 401, **fields: Any) -> VerificationEvent:
    values: dict[str, Any] = {
        "outcome": "accepted" if reason is None else "rejected",
        "reason": reason,
        "scheme": "hmac",
        "msg_id": None,
        "timestamp": None,
        "key_index": None,
        "remote_addr": None,
        "duration": 0.001,
        "status_code": status,
    }
    values.update(fields)
    return VerificationEvent(**values)


# -- verdicts through a real Verifier ---------------------------------------------------------


def test_genuine_and_forged_deliveries_are_counted_with_their_labels(
    registry: Any, sink: Any
) -> None:
    assert repr(sink) == "PrometheusSink()"
    verifier = make_verifier(sink)
    verifier.verify(BODY, genuine(), remote_addr="203.0.113.10")
    with pytest.raises(VerificationError):
        verifier.verify(BODY, forged(), remote_addr="198.51.100.7")

    assert count(registry, "accepted", "none", "200") == 1
    assert count(registry, "rejected", "signature_mismatch", "401") == 1
    assert counter_label_sets(registry) == {
        (("outcome", "accepted"), ("reason", "none"), ("scheme", "hmac"), ("status", "200")),
        (
            ("outcome", "rejected"),
            ("reason", "signature_mismatch"),
            ("scheme", "hmac"),
            ("status", "401"),
        ),
    }
    # One latency observation per verification, split by outcome, in the default buckets.
    assert observations(registry, "accepted") == 1
    assert observations(registry, "rejected") == 1
    assert (
        registry.get_sample_value(f"{HISTOGRAM}_sum", {"scheme": "hmac", "outcome": "accepted"}) > 0
    )
    bounds = {
        float(sample.labels["le"])
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == f"{HISTOGRAM}_bucket"
    }
    assert bounds == {*DURATION_BUCKETS, float("inf")}


def test_replays_stale_and_store_failures_are_counted_by_reason(registry: Any, sink: Any) -> None:
    verifier = make_verifier(sink)
    headers = genuine(msg_id="msg_replayed")
    verifier.verify(BODY, headers)
    for _ in range(3):
        with pytest.raises(VerificationError):
            verifier.verify(BODY, headers)
    with pytest.raises(VerificationError):
        verifier.verify(BODY, genuine(msg_id="msg_old", timestamp=NOW - 3600))
    with pytest.raises(VerificationError):
        verifier.verify(BODY, {})

    class BrokenStore(MemoryNonceStore):
        def reserve(self, *args: Any, **kwargs: Any) -> Any:
            raise NonceStoreUnavailable("the test store is down")

    broken = make_verifier(sink, nonce_store=BrokenStore())
    with pytest.raises(NonceStoreUnavailable):
        broken.verify(BODY, genuine(msg_id="msg_store"))

    assert count(registry, "rejected", "replayed", "409") == 3
    assert count(registry, "rejected", "timestamp_too_old", "401") == 1
    assert count(registry, "rejected", "missing_header", "401") == 1
    assert count(registry, "rejected", "nonce_store_unavailable", "503") == 1
    assert count(registry, "accepted", "none", "200") == 1


def test_a_forbidden_address_is_counted_without_the_address(registry: Any, sink: Any) -> None:
    prom = require("prometheus_client")
    allowlist = IPAllowlist(["192.0.2.0/24"], trusted_proxies=["10.0.0.1"])
    verifier = make_verifier(sink, allowlist=allowlist)
    headers = {**genuine(), "X-Forwarded-For": "198.51.100.99"}
    with pytest.raises(VerificationError):
        verifier.verify(BODY, headers, remote_addr="10.0.0.1")

    assert count(registry, "rejected", "forbidden_address", "403") == 1
    exposition = prom.generate_latest(registry).decode()
    assert "198.51.100.99" not in exposition
    assert "10.0.0.1" not in exposition


# -- bounded labels -------------------------------------------------------------------------


def test_hostile_deliveries_create_no_new_series_and_leak_nothing(registry: Any, sink: Any) -> None:
    prom = require("prometheus_client")
    verifier = make_verifier(sink)
    sent = []
    for number in range(200):
        # Unique ids (forged signatures), and ids a log or label parser could trip on.
        msg_id = f"attacker-{number}" if number % 2 else f'attacker-{number}\x1b\n"}} 1e9'
        headers = forged(msg_id=msg_id)
        headers["X-Forwarded-For"] = f"10.{number}.0.1"
        sent.append(headers)
        with pytest.raises(VerificationError):
            verifier.verify(BODY, headers, remote_addr=f"198.51.100.{number % 250}")

    assert counter_label_sets(registry) == {
        (
            ("outcome", "rejected"),
            ("reason", "signature_mismatch"),
            ("scheme", "hmac"),
            ("status", "401"),
        ),
        (
            ("outcome", "rejected"),
            ("reason", "malformed_header"),
            ("scheme", "hmac"),
            ("status", "400"),
        ),
    }
    assert count(registry, "rejected", "signature_mismatch", "401") == 100
    assert count(registry, "rejected", "malformed_header", "400") == 100
    exposition = prom.generate_latest(registry).decode()
    assert "attacker-" not in exposition
    assert "198.51.100." not in exposition
    assert_no_leak(exposition, headers=sent)


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_every_known_reason_is_its_own_label(registry: Any, sink: Any, reason: str) -> None:
    sink(event(reason, 400))
    assert count(registry, "rejected", reason, "400") == 1


@pytest.mark.parametrize(
    ("reason", "status", "label", "status_label"),
    [
        ("made_up_by_a_custom_scheme", 401, "other", "401"),
        ("", 401, "other", "401"),
        (None, 401, "other", "401"),  # a rejection without a reason
        ("signature_mismatch", 0, "signature_mismatch", "other"),
        ("signature_mismatch", 1000, "signature_mismatch", "other"),
    ],
)
def test_values_outside_the_closed_sets_become_other(
    registry: Any, sink: Any, reason: str | None, status: int, label: str, status_label: str
) -> None:
    sink(event(reason, status, outcome="rejected"))
    assert count(registry, "rejected", label, status_label) == 1
    assert len(counter_label_sets(registry)) == 1


@pytest.mark.parametrize("duration", [float("nan"), float("inf"), -1.0])
def test_an_unusable_duration_is_recorded_as_zero(
    registry: Any, sink: Any, duration: float
) -> None:
    sink(event(None, 200, duration=duration))
    labels = {"scheme": "hmac", "outcome": "accepted"}
    assert registry.get_sample_value(f"{HISTOGRAM}_sum", labels) == 0.0
    assert registry.get_sample_value(f"{HISTOGRAM}_count", labels) == 1


# -- construction --------------------------------------------------------------------------


def test_sinks_on_one_registry_share_the_metrics(registry: Any) -> None:
    from hookseal.contrib.prometheus import PrometheusSink

    first, second = PrometheusSink(registry), PrometheusSink(registry)
    first(event(None, 200))
    second(event(None, 200))
    assert count(registry, "accepted", "none", "200") == 2
    # Another registry is independent.
    other = require("prometheus_client").CollectorRegistry()
    PrometheusSink(other)(event(None, 200))
    assert count(registry, "accepted", "none", "200") == 2
    assert count(other, "accepted", "none", "200") == 1


def test_different_buckets_on_one_registry_are_refused(registry: Any) -> None:
    from hookseal.contrib.prometheus import PrometheusSink

    PrometheusSink(registry)
    with pytest.raises(ConfigurationError, match="different buckets"):
        PrometheusSink(registry, buckets=(0.1, 1.0))


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("Counter", "hookseal_verifications"),
        ("Histogram", "hookseal_verification_duration_seconds"),
    ],
)
def test_a_foreign_metric_of_the_same_name_is_a_configuration_error(
    prom: Any, registry: Any, kind: str, name: str
) -> None:
    from hookseal.contrib.prometheus import PrometheusSink

    foreign = getattr(prom, kind)(name, "not hookseal's", registry=registry)
    with pytest.raises(ConfigurationError, match="already has a metric"):
        PrometheusSink(registry)
    # Nothing half-registered is left behind: once the foreign metric goes, a sink fits.
    registry.unregister(foreign)
    PrometheusSink(registry)(event(None, 200))
    assert count(registry, "accepted", "none", "200") == 1


@pytest.mark.parametrize(
    "buckets", [(), (0.1, 0.1), (0.5, 0.1), (0.0, 1.0), (-1.0,), (float("nan"),), "0.1", (True,)]
)
def test_bad_buckets_are_a_configuration_error(registry: Any, buckets: Any) -> None:
    from hookseal.contrib.prometheus import PrometheusSink

    with pytest.raises(ConfigurationError, match="buckets"):
        PrometheusSink(registry, buckets=buckets)


def test_a_registry_of_the_wrong_type_is_a_configuration_error(prom: Any) -> None:
    from hookseal.contrib.prometheus import PrometheusSink

    with pytest.raises(ConfigurationError, match="CollectorRegistry"):
        PrometheusSink(object())  # type: ignore[arg-type]


def test_the_default_registry_is_the_global_one(prom: Any) -> None:
    from hookseal.contrib.prometheus import PrometheusSink

    # Twice, as an app factory would: the second sink reuses the metrics, no duplicate error.
    PrometheusSink()(event("replayed", 409))
    PrometheusSink()(event("replayed", 409))
    assert (
        prom.REGISTRY.get_sample_value(
            COUNTER,
            {"scheme": "hmac", "outcome": "rejected", "reason": "replayed", "status": "409"},
        )
        >= 2
    )


# -- through the Starlette middleware: its test client and a real server -------------------------


def starlette_app(registry: Any) -> Any:
    require("starlette")
    prom = require("prometheus_client")
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    from hookseal.contrib.prometheus import PrometheusSink
    from hookseal.contrib.starlette import WebhookMiddleware

    async def hook(request: Request) -> Response:
        assert await request.body() == request.state.webhook.body
        return Response(b"ok")

    verifier = make_verifier(PrometheusSink(registry), max_body_bytes=1024)
    app = Starlette(
        routes=[
            Route("/hooks/billing", hook, methods=["POST"]),
            Mount("/metrics", app=prom.make_asgi_app(registry)),
        ]
    )
    app.add_middleware(WebhookMiddleware, routes={"/hooks/billing": verifier})
    return app


def test_starlette_test_client_counts_a_forgery_with_the_right_labels(registry: Any) -> None:
    require("httpx")
    from starlette.testclient import TestClient

    app = starlette_app(registry)
    with TestClient(app) as client:
        assert client.post("/hooks/billing", content=BODY, headers=forged()).status_code == 401
        assert count(registry, "rejected", "signature_mismatch", "401") == 1
        assert count(registry, "accepted", "none", "200") == 0
        assert client.post("/hooks/billing", content=BODY, headers=genuine()).status_code == 200
        # Rejected by the middleware before the verifier runs: still one event, still counted.
        big = client.post("/hooks/billing", content=b"x" * 2048, headers=genuine())
        assert big.status_code == 413
        scraped = client.get("/metrics/").text

    assert count(registry, "rejected", "signature_mismatch", "401") == 1
    assert count(registry, "accepted", "none", "200") == 1
    assert count(registry, "rejected", "payload_too_large", "413") == 1
    assert (
        'hookseal_verifications_total{outcome="rejected",reason="signature_mismatch",'
        'scheme="hmac",status="401"} 1.0'
    ) in scraped


@pytest.fixture
def server(registry: Any) -> Iterator[str]:
    yield from serve_uvicorn(starlette_app(registry))


@pytest.mark.server
def test_a_real_server_counts_forgeries_and_replays(registry: Any, server: str) -> None:
    httpx = require("httpx")
    headers = genuine(msg_id="msg_server")
    with httpx.Client(base_url=server, timeout=10) as client:
        assert client.post("/hooks/billing", content=BODY, headers=forged()).status_code == 401
        assert client.post("/hooks/billing", content=BODY, headers=headers).status_code == 200
        assert client.post("/hooks/billing", content=BODY, headers=headers).status_code == 409
        scraped = client.get("/metrics/").text

    assert count(registry, "rejected", "signature_mismatch", "401") == 1
    assert count(registry, "rejected", "replayed", "409") == 1
    assert count(registry, "accepted", "none", "200") == 1
    assert 'reason="replayed"' in scraped
    assert "msg_server" not in scraped
    assert_no_leak(scraped, headers=[headers])
