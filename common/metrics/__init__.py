"""What the platform counts: activations per action, throttle refusals, store and queue
latencies, and gauges read when scraped (containers, activations in flight, invoker health).

Counting sits on the hot path, so the interface is a handful of plain method calls with
label values the caller already holds; the Prometheus implementation keeps each action's
counts in plain Python, and an activation costs about 2 µs to count (`python -m bench
metrics`). Without `prometheus-client` (the `metrics` extra), `Metrics` counts nothing and
`/metrics` says so with 501.

Names and labels follow OpenWhisk's user-events service (core/monitoring/user-events,
PrometheusRecorder.scala): `openwhisk_action_activations_total{namespace, initiator, action,
kind, memory}`, `openwhisk_action_coldStarts_total`, `openwhisk_action_status{…, status}`,
`openwhisk_action_{duration,waitTime,initTime}_seconds` histograms, `openwhisk_action_memory`,
`openwhisk_action_limit_{timed,concurrent}_total{namespace}`. prometheus-client writes every
counter's samples with `_total`, so the status counter reads `openwhisk_action_status_total`.
Platform figures are `pywhisk_*`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
        status: str,
        duration_ms: int,
        wait_ms: int,
        init_ms: int | None,
    ) -> None:
        """One activation ended: `namespace` is the action's, `initiator` the invoker's;
        `init_ms` is None for a warm start."""

    def throttled(self, namespace: str, limit: str) -> None:
        """A refusal: `limit` is `timed` (per minute), `concurrent` or `fires`."""

    def store_latency(self, operation: str, seconds: float) -> None:
        pass

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
