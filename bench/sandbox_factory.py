"""`python -m bench sandbox-factory`: what the process containers' sandbox costs, at the factory.

    python -m bench sandbox-factory [--starts N] [--requests N]

Three process container factories in one process: sandboxed (bwrap, cgroups, own uid;
spare sandboxes made ahead), sandboxed without spares (`?spares=0`: every create makes its
sandbox) and unsandboxed (`?sandbox=off`), all reaching their runtimes over Unix sockets. Alternating
between them so that the machine's load hits both alike: N cold starts (create + /init +
first /run + destroy) and, in one warm container each, sequential no-op /run requests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from pywhisk.common import eventloop
from pywhisk.common.config import Settings
from pywhisk.common.runtimes import default_manifest
from pywhisk.invoker.client import ContainerClient
from pywhisk.invoker.containers.base import Container, ContainerFactory, factory_from_url

NOOP = "def main(args):\n    return {}\n"
INIT = json.dumps(
    {"value": {"name": "noop", "main": "main", "code": NOOP, "binary": False, "env": {}}}
).encode()
RUN = json.dumps({"value": {}, "activation_id": "0" * 32, "deadline": "0"}).encode()


def client(container: Container) -> ContainerClient:
    return ContainerClient(
        container.host,
        container.port,
        1 << 20,
        alive=lambda: not container.exited,
        unix_path=container.socket_path,
    )


async def cold_start(factory: ContainerFactory, name: str) -> tuple[float, float]:
    """ms from create to its return, and to the first /run's answer; destroyed after."""
    runtime = default_manifest().resolve("python:3.11")
    assert runtime is not None
    began = time.perf_counter()
    container = await factory.create(name, runtime, 256)
    created = (time.perf_counter() - began) * 1000
    c = client(container)
    try:
        assert (await c.init(INIT, 30_000)).response is None
        assert (await c.run(RUN, 30_000)).healthy
        return created, (time.perf_counter() - began) * 1000
    finally:
        await c.close()
        await container.destroy()


async def warm_runs(factory: ContainerFactory, name: str, n: int) -> list[float]:
    runtime = default_manifest().resolve("python:3.11")
    assert runtime is not None
    container = await factory.create(name, runtime, 256)
    c = client(container)
    try:
        assert (await c.init(INIT, 30_000)).response is None
        timings = []
        for _ in range(n):
            began = time.perf_counter()
            assert (await c.run(RUN, 30_000)).healthy
            timings.append((time.perf_counter() - began) * 1000)
        return timings
    finally:
        await c.close()
        await container.destroy()


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="pywhisk-bench-") as tmp:
        root = Path(tmp)
        root.chmod(0o711)  # noqa: ASYNC240 - set-up, before anything runs
        factories = {
            "sandboxed": factory_from_url(f"process://{root}/a?sandbox=on", Settings(), 0),
            "no spares": factory_from_url(f"process://{root}/c?sandbox=on&spares=0", Settings(), 2),
            "unsandboxed": factory_from_url(f"process://{root}/b?sandbox=off", Settings(), 1),
        }
        for factory in factories.values():
            await factory.start()
        cold: dict[str, list[float]] = {name: [] for name in factories}
        create: dict[str, list[float]] = {name: [] for name in factories}
        warm: dict[str, list[float]] = {name: [] for name in factories}
        try:
            for i in range(args.starts):
                names = list(factories) if i % 2 == 0 else list(reversed(factories))
                for name in names:
                    made, total = await cold_start(factories[name], f"c{i}")
                    create[name].append(made)
                    cold[name].append(total)
            for round_ in range(4):
                for name, factory in factories.items():
                    warm[name] += await warm_runs(factory, f"w{round_}", args.requests // 4)
        finally:
            for factory in factories.values():
                await factory.close()
    c = {name: statistics.median(v) for name, v in cold.items()}
    w = {name: statistics.median(v) for name, v in warm.items()}
    # Neighbouring starts paired: the machine's load moves both alike.
    extra = {
        name: [a - b for a, b in zip(v, cold["unsandboxed"], strict=True)]
        for name, v in cold.items()
    }
    print(
        f"process containers, sandboxed vs not, in turns ({args.starts} starts each, "
        f"load {os.getloadavg()[0]:.1f} at the end)"
    )
    for name in factories:
        q = statistics.quantiles(extra[name], n=4) if len(extra[name]) > 1 else [0.0] * 3
        print(
            f"  {name:11}  cold start p50 {c[name]:6.1f} ms (create {statistics.median(create[name]):5.1f})"
            f"  minus unsandboxed, paired: p50 {statistics.median(extra[name]):+6.1f} "
            f"[q1 {q[0]:+6.1f}, q3 {q[2]:+6.1f}]   warm /run p50 {w[name]:5.2f} ms"
        )
    print(
        f"  the sandbox adds {statistics.median(extra['sandboxed']):+5.1f} ms to a cold start "
        f"(budget <= 5 ms; {statistics.median(extra['no spares']):+5.1f} ms without spares); "
        f"warm /run sandboxed/unsandboxed {w['sandboxed'] / w['unsandboxed']:4.2f}x"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench sandbox-factory", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--requests", type=int, default=2000)
    eventloop.run(run(parser.parse_args(argv)))
