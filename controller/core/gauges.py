"""The controller's scrape-time gauges: activations it waits for, and the health it sees of
each invoker (one sample per invoker, the state as a label, OpenWhisk's names for it)."""

from __future__ import annotations

from pywhisk.common.metrics import GaugeValues, Metrics
from pywhisk.controller.core.balancer import Balancer
from pywhisk.controller.core.health import Status
from pywhisk.controller.core.tracker import ActivationTracker

# OW InvokerState.asString, as GET /invokers answers.
STATE_NAMES = {
    Status.HEALTHY: "up",
    Status.OFFLINE: "down",
    Status.UNHEALTHY: "unhealthy",
    Status.UNRESPONSIVE: "unresponsive",
}


def register(
    metrics: Metrics, controller_id: int, tracker: ActivationTracker, balancer: Balancer
) -> None:
    controller = str(controller_id)

    def in_flight() -> GaugeValues:
        return {(controller,): tracker.total_in_flight}

    def health() -> GaugeValues:
        out: dict[tuple[str, ...], float] = {}
        for invoker, status in balancer.invoker_health():
            for state, name in STATE_NAMES.items():
                out[(controller, f"invoker{invoker}", name)] = float(status is state)
        return out

    metrics.gauge(
        "pywhisk_controller_activations_in_flight",
        "Activations this controller placed and awaits the completion of",
        ("controller",),
        in_flight,
    )
    metrics.gauge(
        "pywhisk_invoker_health",
        "1 for each invoker's state as this controller sees it, 0 for the others",
        ("controller", "invoker", "state"),
        health,
    )
