"""`python -m bench cluster --rounds N`: each figure's median and range over the rounds.

A round measures a standalone server and then each cluster in turn on the same loaded
machine; from one round to the next every figure moves by 1.5-2x with the other work
on it. So each cluster's CPU is divided by the standalone server's of its own round
before the rounds are put together, and each round's ratio is printed as well.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

Round = dict[str, dict[str, Any]]
PLATFORM = ("controller", "invokers")  # the parts the goal counts (not tansu, the store)


def _platform_cpu(got: dict[str, Any], key: str) -> float:
    return sum(got[key].get(part, 0.0) for part in PLATFORM)


def _figures(got: dict[str, Any], base: dict[str, Any]) -> dict[str, float]:
    standalone = base["busy"].get("standalone", 0.0)
    busy = _platform_cpu(got, "busy")
    figures = {
        "p50 ms": statistics.median(got["latency"]),
        "invokes/s": got["rps"],
        "CPU ms/invoke": busy * 1000,
        "vs standalone": busy / standalone if standalone else float("nan"),
    }
    for part in PLATFORM:
        figures[f"{part} ms"] = got["busy"].get(part, 0.0) * 1000
    if got["idle"]:
        figures["idle %"] = _platform_cpu(got, "idle") * 100
    if got["after_quiet"]:
        figures["after quiet ms"] = statistics.median(got["after_quiet"])
    return figures


def _cell(values: list[float], fmt: Callable[[float], str]) -> str:
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}-{fmt(max(values))})"


def summarize(rounds: list[Round], width: int) -> None:
    labels = [label for label in rounds[0] if label != "standalone"]
    standalone = [r["standalone"]["busy"].get("standalone", 0.0) * 1000 for r in rounds]
    print(
        f"\nover {len(rounds)} rounds: median (range); CPU is controller + invoker(s), "
        f"against the standalone server's of the same round ({_cell(standalone, _ms)} ms)"
    )
    by_label = {label: [_figures(r[label], r["standalone"]) for r in rounds] for label in labels}
    names = list(next(iter(by_label.values()))[0])
    print(f"{'':<{width}}" + "".join(f"{label[-28:]:>30}" for label in labels))
    for name in names:
        fmt = _ratio if name == "vs standalone" else _ms
        cells = [_cell([f[name] for f in by_label[label] if name in f], fmt) for label in labels]
        print(f"{name:<{width}}" + "".join(f"{c:>30}" for c in cells))
    for label in labels:
        ratios = " ".join(_ratio(f["vs standalone"]) for f in by_label[label])
        print(f"{label:<{width}} CPU vs standalone, round by round: {ratios}")


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def _ratio(value: float) -> str:
    return f"{value:.2f}x"
