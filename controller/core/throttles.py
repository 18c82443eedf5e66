"""Per-namespace throttles (docs/openwhisk-compatibility.md §3.2): invocations per minute and in flight.

The per-minute count is a fixed window on the wall-clock minute, as OpenWhisk's
RateThrottler does; the in-flight count comes from the activation tracker.

Only accepted work counts. OpenWhisk's RateThrottler counts every attempt, refused ones
included, so a client that keeps retrying past its limit (or past its concurrency limit)
stays locked out for as long as it retries; here a request refused with 429, or failing
before its work was accepted (no such trigger, no invoker reachable), takes nothing from
the minute's budget: `refund` gives back what `check_*` took.
"""

from __future__ import annotations

import time

from pywhisk.common.config import Settings
from pywhisk.common.entities import Identity
from pywhisk.common.metrics import Metrics
from pywhisk.controller.core.errors import ApiError


class Throttles:
    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self._minute: dict[tuple[str, str], tuple[int, int]] = {}

    def limits(self, identity: Identity) -> tuple[int, int, int]:
        own = identity.limits
        s = self.settings
        return (
            own.invocationsPerMinute
            if own.invocationsPerMinute is not None
            else s.invocations_per_minute,
            own.concurrentInvocations
            if own.concurrentInvocations is not None
            else s.concurrent_invocations,
            own.firesPerMinute if own.firesPerMinute is not None else s.fires_per_minute,
        )

    def _window(self, key: tuple[str, str]) -> tuple[int, int]:
        minute = int(time.time() // 60)
        window, count = self._minute.get(key, (minute, 0))
        return (minute, 0) if window != minute else (window, count)

    def _count(self, kind: str, namespace: str, allowed: int) -> None:
        key = (kind, namespace)
        window, count = self._window(key)
        if count >= allowed:
            self.metrics.throttled(namespace, "timed" if kind == "invoke" else "fires")
            raise ApiError(
                429, f"Too many requests in the last minute (count: {count}, allowed: {allowed})."
            )
        self._minute[key] = (window, count + 1)

    def refund(self, kind: str, namespace: str) -> None:
        """Give back one count of `kind` ("invoke", "fire"): that request was not accepted."""
        key = (kind, namespace)
        window, count = self._window(key)
        if count > 0:
            self._minute[key] = (window, count - 1)

    def check_invoke(self, identity: Identity, in_flight: int) -> None:
        per_minute, concurrent, _ = self.limits(identity)
        # Concurrency first: a request refused for it must not use up the minute's budget.
        if in_flight >= concurrent:
            self.metrics.throttled(identity.namespace, "concurrent")
            raise ApiError(
                429,
                f"Too many concurrent requests in flight (count: {in_flight}, allowed: {concurrent}).",
            )
        self._count("invoke", identity.namespace, per_minute)

    def check_fire(self, identity: Identity) -> None:
        self._count("fire", identity.namespace, self.limits(identity)[2])
