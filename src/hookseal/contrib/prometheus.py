"""Prometheus metrics for every verification: ``PrometheusSink``, an ``on_event`` sink.

``Verifier(scheme, secrets, on_event=PrometheusSink())`` counts every verdict and times every
verification with ``prometheus_client`` (``pip install 'hookseal[prometheus]'``):

``hookseal_verifications_total`` (counter)
    labels ``scheme``, ``outcome`` (``accepted``/``rejected``), ``reason`` (the rejection's
    reason code, ``none`` when accepted, ``other`` outside hookseal's closed set) and
    ``status`` (the HTTP status an adapter answers with).
``hookseal_verification_duration_seconds`` (histogram)
    labels ``scheme`` and ``outcome``.

Every label takes its values from a bounded set: nothing a client sends (a message id, an
address, a header, the URL) becomes a label, so a flood of forged deliveries cannot create
new time series. The sink never sees a body, a signature or a secret (a
:class:`~hookseal.VerificationEvent` holds none).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from .._errors import ConfigurationError
from .._events import VerificationEvent
from ._metrics import (
    DURATION_BUCKETS,
    REASONS,
    check_buckets,
    duration_of,
    outcome_label,
    reason_label,
    status_label,
)

__all__ = [
    "DURATION_BUCKETS",
    "DURATION_METRIC",
    "REASONS",
    "VERIFICATIONS_METRIC",
    "PrometheusSink",
]

#: The counter's name as scraped (``prometheus_client`` adds ``_total``).
VERIFICATIONS_METRIC = "hookseal_verifications_total"
#: The histogram's name as scraped (with ``_bucket``, ``_sum`` and ``_count`` series).
DURATION_METRIC = "hookseal_verification_duration_seconds"

_COUNTER_LABELS = ("scheme", "outcome", "reason", "status")
_HISTOGRAM_LABELS = ("scheme", "outcome")


class _Metrics:
    """The two metrics registered in one registry."""

    def __init__(self, registry: CollectorRegistry, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.verifications = Counter(
            "hookseal_verifications",
            "Webhook deliveries verified by hookseal, by scheme, outcome, reason and status.",
            _COUNTER_LABELS,
            registry=registry,
        )
        try:
            self.duration = Histogram(
                "hookseal_verification_duration_seconds",
                "Seconds hookseal spent verifying one webhook delivery.",
                _HISTOGRAM_LABELS,
                registry=registry,
                buckets=buckets,
            )
        except ValueError:
            registry.unregister(self.verifications)
            raise


# One set of metrics per registry: every PrometheusSink on a registry shares it, so an
# application may build a sink per verifier (or rebuild its app in tests) without a
# "Duplicated timeseries" error.
_registered: weakref.WeakKeyDictionary[CollectorRegistry, _Metrics] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _metrics_for(registry: CollectorRegistry, buckets: tuple[float, ...]) -> _Metrics:
    with _lock:
        metrics = _registered.get(registry)
        if metrics is None:
            try:
                metrics = _Metrics(registry, buckets)
            except ValueError as exc:
                raise ConfigurationError(
                    "This Prometheus registry already has a metric named like hookseal's "
                    f"({VERIFICATIONS_METRIC} or {DURATION_METRIC}) that hookseal did not "
                    "register. Remove it, or pass registry=CollectorRegistry() to "
                    "PrometheusSink."
                ) from exc
            _registered[registry] = metrics
        elif metrics.buckets != buckets:
            raise ConfigurationError(
                "Another PrometheusSink already registered hookseal's histogram in this "
                "registry with different buckets: give every sink on one registry the same "
                "buckets, or a registry of its own."
            )
        return metrics


class PrometheusSink:
    """An ``on_event`` sink counting verdicts and timing verifications in Prometheus metrics.

    Args:
        registry: the ``prometheus_client`` registry to register the metrics in (default:
            the global ``REGISTRY``, the one ``start_http_server`` and ``make_asgi_app``
            serve). Every sink on one registry shares the same two metrics.
        buckets: the duration histogram's bucket upper bounds in seconds (default
            :data:`DURATION_BUCKETS`, 100 µs to 2.5 s).

    Raises:
        ConfigurationError: ``registry`` is not a ``CollectorRegistry``, ``buckets`` are not
            increasing positive numbers, or the registry already holds a different metric of
            the same name.

    Passing a sink as ``on_event`` replaces the default sink, which logs rejections on the
    ``hookseal`` logger: to keep that log, call both from one function (see the
    observability docs). The sink is thread-safe and never raises for any event.
    """

    __slots__ = ("_duration", "_verifications")

    def __init__(
        self,
        registry: CollectorRegistry = REGISTRY,
        *,
        buckets: Sequence[float] = DURATION_BUCKETS,
    ) -> None:
        if not isinstance(registry, CollectorRegistry):
            raise ConfigurationError(
                "registry must be a prometheus_client.CollectorRegistry (default: the global "
                f"REGISTRY), not {type(registry).__name__}."
            )
        metrics = _metrics_for(registry, check_buckets(buckets))
        self._verifications = metrics.verifications
        self._duration = metrics.duration

    def __call__(self, event: VerificationEvent) -> None:
        """Count ``event`` and record its duration."""
        scheme = event.scheme
        outcome = outcome_label(event)
        self._verifications.labels(scheme, outcome, reason_label(event), status_label(event)).inc()
        self._duration.labels(scheme, outcome).observe(duration_of(event))

    def __repr__(self) -> str:
        return "PrometheusSink()"
