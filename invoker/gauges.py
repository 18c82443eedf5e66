"""The invoker's scrape-time gauges: its containers by state (OpenWhisk's pool names them
warm, paused, prewarmed and busy), activations waiting for a container and running."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from pywhisk.common.metrics import GaugeValues, Metrics
from pywhisk.invoker.pool import ContainerPool
from pywhisk.invoker.proxy import ContainerProxy, State

STATES = ("warm", "paused", "stem cell", "busy")


def container_states(pool: ContainerPool[ContainerProxy]) -> Counter[str]:
    counts: Counter[str] = Counter(dict.fromkeys(STATES, 0))
    counts["stem cell"] = len(pool.stems)
    for proxy in pool.entries:
        if proxy.state is State.PAUSED:
            counts["paused"] += 1
        elif proxy.state is State.READY:
            counts["warm"] += 1
        else:  # starting, initializing or running: taken by an activation
            counts["busy"] += 1
    return counts


def register(
    metrics: Metrics,
    invoker_id: int,
    pool: ContainerPool[ContainerProxy],
    running: Callable[[], int],
) -> None:
    invoker = f"invoker{invoker_id}"

    def containers() -> GaugeValues:
        return {(invoker, state): n for state, n in container_states(pool).items()}

    def activations() -> GaugeValues:
        return {(invoker, "queued"): pool.buffered, (invoker, "running"): running()}

    metrics.gauge(
        "pywhisk_containers",
        "Containers of the invoker by state",
        ("invoker", "state"),
        containers,
    )
    metrics.gauge(
        "pywhisk_invoker_activations",
        "Activations the invoker holds: waiting for a container (queued) or running",
        ("invoker", "state"),
        activations,
    )
