"""OpenTelemetry traces and metrics for every verification: ``OpenTelemetrySink``.

``Verifier(scheme, secrets, on_event=OpenTelemetrySink())`` records, through the OpenTelemetry
API (``pip install 'hookseal[opentelemetry]'``; configure the SDK and exporters as usual):

* a span ``hookseal.verify`` per verification, timed from the event (it starts when the
  verification started and ends at the verdict), a child of the span current in the request
  (the server span of your ASGI/WSGI instrumentation). Attributes: ``hookseal.scheme``,
  ``hookseal.outcome``, ``http.response.status_code``, and ``hookseal.reason`` and
  ``error.type`` (the reason code) with status ERROR on a rejection, ``hookseal.key_index`` on
  an acceptance, ``client.address`` only when the verifier's allowlist resolved the client;
* the counter ``hookseal.verifications`` (attributes ``hookseal.scheme``,
  ``hookseal.outcome``, ``hookseal.reason``, ``http.response.status_code``) and the histogram
  ``hookseal.verification.duration`` in seconds (``hookseal.scheme``, ``hookseal.outcome``):
  the same metrics as :mod:`hookseal.contrib.prometheus`, with the same bounded values.

Never recorded: a body, a signature, a secret, a header value, the URL or the message id.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import metrics as otel_metrics
from opentelemetry import trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.util.types import AttributeValue

from .. import __version__
from .._errors import ConfigurationError
from .._events import VerificationEvent
from ._metrics import (
    DURATION_BUCKETS,
    OTHER,
    REASONS,
    check_buckets,
    duration_of,
    outcome_label,
    reason_label,
    status_label,
)

__all__ = [
    "DURATION_BUCKETS",
    "DURATION_INSTRUMENT",
    "REASONS",
    "SPAN_NAME",
    "VERIFICATIONS_INSTRUMENT",
    "OpenTelemetrySink",
]

#: The name of the span recorded per verification.
SPAN_NAME = "hookseal.verify"
#: The counter instrument (unit ``{verification}``).
VERIFICATIONS_INSTRUMENT = "hookseal.verifications"
#: The histogram instrument (unit ``s``).
DURATION_INSTRUMENT = "hookseal.verification.duration"

_SCOPE = "hookseal"
_NANOSECONDS = 1_000_000_000


class OpenTelemetrySink:
    """An ``on_event`` sink recording a span and metrics per verification via OpenTelemetry.

    Args:
        tracer_provider: where spans go (default: the global provider, set with
            ``trace.set_tracer_provider``).
        meter_provider: where metrics go (default: the global provider).
        spans: record a span per verification (default True).
        metrics: record the counter and the duration histogram (default True).
        buckets: the histogram's bucket bounds in seconds, passed as advice to the SDK
            (default :data:`DURATION_BUCKETS`; a View configured in the SDK overrides it).

    Raises:
        ConfigurationError: both ``spans`` and ``metrics`` are off, or ``buckets`` are not
            increasing positive numbers.

    Passing a sink as ``on_event`` replaces the default sink, which logs rejections on the
    ``hookseal`` logger: to keep that log, call both from one function (see the
    observability docs). Spans and metrics carry no secret, signature, body, header value,
    URL or message id; the client address only when an allowlist resolved it.
    """

    __slots__ = ("_counter", "_histogram", "_tracer")

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        spans: bool = True,
        metrics: bool = True,
        buckets: Sequence[float] = DURATION_BUCKETS,
    ) -> None:
        if not spans and not metrics:
            raise ConfigurationError(
                "OpenTelemetrySink(spans=False, metrics=False) would record nothing: "
                "enable at least one."
            )
        bounds = check_buckets(buckets)
        self._tracer = (
            trace.get_tracer(_SCOPE, __version__, tracer_provider=tracer_provider)
            if spans
            else None
        )
        if metrics:
            meter = otel_metrics.get_meter(_SCOPE, __version__, meter_provider=meter_provider)
            self._counter: otel_metrics.Counter | None = meter.create_counter(
                VERIFICATIONS_INSTRUMENT,
                unit="{verification}",
                description="Webhook deliveries verified by hookseal.",
            )
            self._histogram: otel_metrics.Histogram | None = meter.create_histogram(
                DURATION_INSTRUMENT,
                unit="s",
                description="Seconds hookseal spent verifying one webhook delivery.",
                explicit_bucket_boundaries_advisory=bounds,
            )
        else:
            self._counter = None
            self._histogram = None

    def __call__(self, event: VerificationEvent) -> None:
        """Record the span and the metrics of ``event``."""
        common: dict[str, AttributeValue] = {
            "hookseal.scheme": event.scheme,
            "hookseal.outcome": outcome_label(event),
        }
        reason = reason_label(event)
        status = status_label(event)
        duration = duration_of(event)
        if self._counter is not None and self._histogram is not None:
            counted = {**common, "hookseal.reason": reason}
            if status != OTHER:
                counted["http.response.status_code"] = int(status)
            self._counter.add(1, counted)
            self._histogram.record(duration, common)
        if self._tracer is not None:
            _record_span(self._tracer, event, common, reason, status, duration)

    def __repr__(self) -> str:
        return (
            f"OpenTelemetrySink(spans={self._tracer is not None}, "
            f"metrics={self._counter is not None})"
        )


def _record_span(
    tracer: trace.Tracer,
    event: VerificationEvent,
    common: dict[str, AttributeValue],
    reason: str,
    status: str,
    duration: float,
) -> None:
    """One span from the event's own times: it started ``duration`` before the verdict."""
    attributes = dict(common)
    if status != OTHER:
        attributes["http.response.status_code"] = int(status)
    rejected = event.outcome != "accepted"
    if rejected:
        attributes["hookseal.reason"] = reason
        attributes["error.type"] = reason
    elif type(event.key_index) is int:
        attributes["hookseal.key_index"] = event.key_index
    if event.client_addr is not None:  # only set when the verifier's allowlist resolved it
        attributes["client.address"] = event.client_addr
    end = int(event.at * _NANOSECONDS)
    span = tracer.start_span(
        SPAN_NAME,
        kind=SpanKind.INTERNAL,
        attributes=attributes,
        start_time=end - int(duration * _NANOSECONDS),
    )
    if rejected:
        span.set_status(Status(StatusCode.ERROR, reason))
    span.end(end_time=end)
