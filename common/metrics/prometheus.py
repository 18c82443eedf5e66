"""`Metrics` on prometheus-client, in a registry per instance.

Each action's labelled children are looked up once and kept in a dict keyed by the label
values: prometheus-client's `labels()` takes a lock and builds a tuple every call (~2 µs),
the dict hit costs ~50 ns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from common.metrics import GaugeValues, Metrics

_ACTION = ("namespace", "initiator", "action")
# Latencies of the store and the queue sit well under a second; the default buckets start
# at 5 ms, too coarse for a SQLite write (~0.3 ms) or an in-memory hop.
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _Scraped(Collector):
    def __init__(
        self, name: str, doc: str, labels: tuple[str, ...], read: Callable[[], GaugeValues]
    ) -> None:
        self.name, self.doc, self.labels, self.read = name, doc, labels, read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.name, self.doc, labels=list(self.labels))
        for values, value in self.read().items():
            family.add_metric(list(values), value)
        yield family


class _ActionMetrics:
    __slots__ = ("activations", "cold", "duration", "init", "memory", "status", "wait")

    def __init__(self, m: PrometheusMetrics, key: tuple[str, str, str, str, int]) -> None:
        namespace, initiator, action, kind, memory = key
        ids = (namespace, initiator, action)
        self.activations = m.activations.labels(*ids, kind, str(memory))
        self.cold = m.cold_starts.labels(*ids)
        self.duration = m.duration.labels(*ids)
        self.wait = m.wait.labels(*ids)
        self.init = m.init.labels(*ids)
        self.memory = m.memory.labels(*ids)
        self.status: dict[str, Any] = {}


class PrometheusMetrics(Metrics):
    available = True

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.activations = Counter(
            "openwhisk_action_activations",
            "Activation count",
            [*_ACTION, "kind", "memory"],
            registry=r,
        )
        self.cold_starts = Counter(
            "openwhisk_action_coldStarts", "Cold start count", _ACTION, registry=r
        )
        self.status = Counter(
            "openwhisk_action_status", "Activations by status", [*_ACTION, "status"], registry=r
        )
        self.wait = Histogram(
            "openwhisk_action_waitTime_seconds",
            "Time from acceptance to start",
            _ACTION,
            registry=r,
        )
        self.init = Histogram(
            "openwhisk_action_initTime_seconds",
            "Time spent initializing (cold starts)",
            _ACTION,
            registry=r,
        )
        self.duration = Histogram(
            "openwhisk_action_duration_seconds", "Time the action ran", _ACTION, registry=r
        )
        self.memory = Gauge(
            "openwhisk_action_memory",
            "Memory limit of the action's containers (MB)",
            _ACTION,
            registry=r,
        )
        self.limits = {
            "timed": Counter(
                "openwhisk_action_limit_timed",
                "Invokes refused by the per-minute limit",
                ["namespace"],
                registry=r,
            ),
            "concurrent": Counter(
                "openwhisk_action_limit_concurrent",
                "Invokes refused by the concurrency limit",
                ["namespace"],
                registry=r,
            ),
            "fires": Counter(
                "pywhisk_trigger_limit_timed",
                "Trigger fires refused by the per-minute limit",
                ["namespace"],
                registry=r,
            ),
        }
        self.store = Histogram(
            "pywhisk_store_seconds",
            "Store operation latency",
            ["operation"],
            buckets=_FAST,
            registry=r,
        )
        self.queue = Histogram(
            "pywhisk_queue_seconds",
            "Time a message spent between sender and consumer",
            ["topic"],
            buckets=_FAST,
            registry=r,
        )
        self._actions: dict[tuple[str, str, str, str, int], _ActionMetrics] = {}
        self._store_children: dict[str, Any] = {}
        self._queue_children: dict[str, Any] = {}

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
        key = (namespace, initiator, action, kind, memory)
        m = self._actions.get(key)
        if m is None:
            m = self._actions[key] = _ActionMetrics(self, key)
            m.memory.set(memory)
        m.activations.inc()
        if init_ms is not None:
            m.cold.inc()
            m.init.observe(init_ms / 1000)
        m.wait.observe(wait_ms / 1000)
        m.duration.observe(duration_ms / 1000)
        child = m.status.get(status)
        if child is None:
            child = m.status[status] = self.status.labels(namespace, initiator, action, status)
        child.inc()

    def throttled(self, namespace: str, limit: str) -> None:
        self.limits[limit].labels(namespace).inc()

    def store_latency(self, operation: str, seconds: float) -> None:
        child = self._store_children.get(operation)
        if child is None:
            child = self._store_children[operation] = self.store.labels(operation)
        child.observe(seconds)

    def queue_latency(self, topic: str, seconds: float) -> None:
        child = self._queue_children.get(topic)
        if child is None:
            child = self._queue_children[topic] = self.queue.labels(topic)
        child.observe(max(seconds, 0.0))

    def gauge(
        self,
        name: str,
        documentation: str,
        labels: tuple[str, ...],
        read: Callable[[], GaugeValues],
    ) -> None:
        self.registry.register(_Scraped(name, documentation, labels, read))

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
