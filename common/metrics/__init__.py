"""What the platform counts: activations per action, throttle refusals, store and queue
latencies, and gauges read when scraped (containers, activations in flight, invoker health).

Counting sits on the hot path, so the interface is a handful of plain method calls with
label values the caller already holds; the Prometheus implementation keeps each action's
counts in plain Python, and an activation costs about 2 µs to count (`python -m bench
metrics`). Without `prometheus-client` (the `metrics` extra), `Metrics` counts nothing and
`/metrics` says so with 501.

Names, labels and label values follow OpenWhisk's user-events service
(core/monitoring/user-events, PrometheusRecorder.scala), so its Grafana dashboards work
unchanged: `openwhisk_action_activations_total{namespace, initiator, action, kind, memory}`,
`openwhisk_action_coldStarts_total`, `openwhisk_action_status{…, status}` (no `_total`: the
dashboards query that name; `status` is `success`, `application_error`,
`action_developer_error` or `whisk_internal_error`, ActivationResponse's names),
`openwhisk_action_{duration,waitTime,initTime}_seconds` and
`openwhisk_action_response_size_bytes` histograms, `openwhisk_action_status_code{…,
status_code}` (a web action's own statusCode), `openwhisk_action_memory`,
`openwhisk_action_limit_{timed,concurrent}_total{namespace}`. Platform figures are
`pywhisk_*`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping

# Scrape-time gauge values: label values → value.
GaugeValues = Mapping[tuple[str, ...], float]


class MetricsUnavailable(Exception):
    """prometheus-client is not installed."""


class Metrics:
    """Counts nothing: what runs when prometheus-client is not installed."""

    available = False

    def activation(
        self,
        namespace: str,
        initiator: str,
        action: str,
        kind: str,
        memory: int,
        status: int,
        duration_ms: int,
        wait_ms: int,
        init_ms: int | None,
        *,
        size: int | None = None,
        status_code: int | None = None,
    ) -> None:
        """One activation ended: `namespace` is the action's, `initiator` the invoker's;
        `status` the record's statusCode (0 success … 3 whisk internal error); `init_ms`
        None for a warm start; `size` the result's length; `status_code` the one the
        action's result set (`statusCode`, or `error.statusCode`), if any."""

    def throttled(self, namespace: str, limit: str) -> None:
        """A refusal: `limit` is `timed` (per minute), `concurrent` or `fires`."""

    def store_latency(self, operation: str, seconds: float) -> None:
        pass

    @contextlib.contextmanager
    def timing(self, operation: str) -> Iterator[None]:
        """`with metrics.timing("entity_get"): await store…`: the store call's latency,
        failed calls included (a slow timeout is what an operator looks for)."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.store_latency(operation, time.perf_counter() - began)

    def queue_latency(self, topic: str, seconds: float) -> None:
        pass

    def gauge(
        self,
        name: str,
        documentation: str,
        labels: tuple[str, ...],
        read: Callable[[], GaugeValues],
    ) -> None:
        """A gauge whose values `read` returns at every scrape."""

    def snapshot(self) -> Callable[[], tuple[bytes, str]]:
        """The figures now, and a function that writes them out (body, content type): call
        this on the event loop, the function anywhere (a worker thread)."""
        raise MetricsUnavailable(
            "prometheus-client is not installed (pip install 'pywhisk[metrics]')"
        )


def create_metrics() -> Metrics:
    """Prometheus metrics in a registry of their own (several apps may share a process,
    tests do), or the null counter if the library is missing."""
    try:
        from pywhisk.common.metrics.prometheus import PrometheusMetrics
    except ImportError:
        return Metrics()
    return PrometheusMetrics()
