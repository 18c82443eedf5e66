"""The metrics interface, and the null implementation that counts nothing (what runs without
prometheus-client). Apart from `create_metrics` (`pywhisk.common.metrics`), so that the
Prometheus implementation can build on it without importing the module that imports it."""

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
