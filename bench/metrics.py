"""What counting costs: one activation counted (`Metrics.activation`, the invoker's hot-path
call), a throttle refusal and a latency observation, per call, beside the null counter and an
empty function call measured in the same run.

    python -m bench metrics [--calls N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from pywhisk.common.metrics import Metrics
from pywhisk.common.metrics.prometheus import PrometheusMetrics


def per_call(fn: Callable[[], None], calls: int) -> float:
    """Best of three runs, in µs per call."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, time.perf_counter() - began)
    return best / calls * 1e6


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench metrics")
    parser.add_argument("--calls", type=int, default=100_000)
    calls = parser.parse_args(argv).calls
    prom, null = PrometheusMetrics(), Metrics()
    actions = [f"action{i}" for i in range(50)]  # a label set per action, as in a real pool
    state = {"i": 0}

    def count(m: Metrics) -> Callable[[], None]:
        def go() -> None:
            state["i"] += 1
            i = state["i"]
            m.activation(
                "guest",
                "guest",
                actions[i % 50],
                "python:3.11",
                256,
                0,
                3,
                1,
                40 if i % 10 == 0 else None,
            )

        return go

    def empty() -> None:
        state["i"] += 1

    baseline = per_call(empty, calls)
    rows = [
        ("empty call (baseline)", baseline),
        ("null Metrics.activation", per_call(count(null), calls)),
        ("Prometheus activation", per_call(count(prom), calls)),
        ("Prometheus throttled", per_call(lambda: prom.throttled("guest", "timed"), calls)),
        ("Prometheus store_latency", per_call(lambda: prom.store_latency("put", 0.0003), calls)),
    ]
    for name, us in rows:
        print(f"{name:28s} {us:7.2f} µs/call  ({us / baseline:6.1f}× the empty call)")
    began = time.perf_counter()
    write = prom.snapshot()
    collected = time.perf_counter()
    body, _ = write()
    written = time.perf_counter()
    print(
        f"one scrape: collected on the loop in {(collected - began) * 1000:.1f} ms, "
        f"{len(body)} bytes written off it in {(written - collected) * 1000:.1f} ms"
    )
