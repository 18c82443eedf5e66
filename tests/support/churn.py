"""Churn load: many small actions in three languages, invoked blocking by a few clients with a
skewed choice, so the container pool keeps starting, evicting, pausing and reusing."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

SOURCES = {
    "python:3.11": "def main(args):\n    return {'n': args.get('n', 0) + 1}\n",
    "php:8.2": "<?php\nfunction main(array $args) : array {\n"
    "    return ['n' => ($args['n'] ?? 0) + 1];\n}\n",
    "nodejs:20": "function main(params) {\n    return {n: (params.n || 0) + 1};\n}\n",
}


@dataclass
class ChurnResult:
    invokes: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)  # invokes per language
    # (status, body) of every answer that is not a success
    failures: list[tuple[int, Any]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # ms, every invoke


def kind_of(name: str) -> str:
    """The language of action `churn<i>`, as `create_actions` made it."""
    return list(SOURCES)[int(name.removeprefix("churn")) % len(SOURCES)]


def create_actions(client: httpx.Client, count: int, memory: int) -> list[str]:
    names = []
    for i in range(count):
        name = f"churn{i}"
        kind = kind_of(name)
        body = {"exec": {"kind": kind, "code": SOURCES[kind]}, "limits": {"memory": memory}}
        r = client.put(f"/namespaces/_/actions/{name}?overwrite=true", json=body)
        r.raise_for_status()
        names.append(name)
    return names


def run(
    client_factory: Any, names: list[str], clients: int, seconds: float, seed: int = 1
) -> ChurnResult:
    """`clients` threads invoke blocking for `seconds`, each picking actions with Zipf-like
    weights (a few hot, a long cold tail); `client_factory()` makes one httpx.Client each."""
    weights = [1 / (i + 1) for i in range(len(names))]
    kinds = {name: kind_of(name) for name in names}
    result = ChurnResult()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(n: int) -> None:
        rng = random.Random(seed + n)
        order = names[:]
        rng.shuffle(order)  # each client has its own hot actions
        with client_factory() as client:
            while time.monotonic() < stop_at:
                name = rng.choices(order, weights)[0]
                began = time.perf_counter()
                r = client.post(
                    f"/namespaces/_/actions/{name}?blocking=true&result=true", json={"n": n}
                )
                took = (time.perf_counter() - began) * 1000
                ok = r.status_code == 200 and r.json() == {"n": n + 1}
                with lock:
                    result.invokes += 1
                    result.latencies.append(took)
                    result.statuses[r.status_code] += 1
                    result.kinds[kinds[name]] += 1
                    if not ok:
                        result.failures.append((r.status_code, r.text))

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result
