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

from pywhisk.common.metrics.base import GaugeValues, Metrics, MetricsUnavailable

__all__ = ["GaugeValues", "Metrics", "MetricsUnavailable", "create_metrics"]


def create_metrics() -> Metrics:
    """Prometheus metrics in a registry of their own (several apps may share a process,
    tests do), or the null counter if the library is missing."""
    try:
        from pywhisk.common.metrics.prometheus import PrometheusMetrics
    except ImportError:
        return Metrics()
    return PrometheusMetrics()
