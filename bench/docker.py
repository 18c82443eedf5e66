"""`python -m bench docker`: Docker containers through the platform against process containers,
with their output through per-container FIFOs (`docker://`, the default) and through the
engine's attach stream (`docker://?output=attach`, as before), in the same run.

    python -m bench docker [--rounds R] [--requests N] [--cold N]

Real standalone servers side by side, all started before the first measurement and driven in
turns (the order reversed every other round), so that whatever else loads the machine hits
each alike:
- warm invoke latency: each round N sequential blocking invokes of a warm no-op on `process`
  (sandboxed process containers), `docker` and `docker attach`; a round's figure is its p50,
  and the ratio to process mode is taken per round (paired); with the CPU the engine's
  processes used meanwhile, per invoke (a local engine; other containers' work counts too);
- first invokes of new actions on the Docker servers, stem cells on: one of the stem cells'
  own size (256 MB) and one of 512 MB, which takes a 256 MB stem cell and resizes it
  (`docker update`) before its `/init`; a pause of REFILL seconds after each lets the stem
  cell's replacement start (a Docker cold start);
- cold starts on Docker servers without stem cells (`PYWHISK_PREWARM=false`), one per server
  in turn.
- at the container factory, without the platform: a warm container of each output path, each
  round N `/run`s of a no-op and the collection of its logs (what the invoker waits for before
  an activation is complete), in turns.
It prints medians and ranges (lowest and highest round; first invokes and cold starts: all).
`python -m bench` runs the same with fewer rounds as its Docker part.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.clients import sequential
from bench.platform import CODE, NOOP
from bench.sandbox import Server, in_turns, servers
from pywhisk.common.config import Settings
from pywhisk.common.runtimes import default_manifest
from pywhisk.invoker.client import ContainerClient
from pywhisk.invoker.containers.base import Container, factory_from_url

PROCESS = "process"
FIFO = "docker"
ATTACH = "docker attach"
WARM = {PROCESS: "process://", FIFO: "docker://", ATTACH: "docker://?output=attach"}
COLD = {FIFO: "docker://", ATTACH: "docker://?output=attach"}
REFILL = 3.0  # seconds after a first invoke, for its stem cell's replacement to be ready
MEMORY = {"256 MB": 256, "512 MB": 512}  # the stem cells' size, and one they do not have


ENGINE = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2")
_TICK = os.sysconf("SC_CLK_TCK")


def engine_cpu() -> float:
    """CPU seconds the Docker engine's processes on this machine (dockerd, containerd and
    the containers' shims) have used so far: what relaying output costs shows here."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                head, _, rest = f.read().rpartition(b")")
        except OSError:
            continue
        if head.partition(b"(")[2].decode(errors="replace") in ENGINE:
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


@dataclass
class Figures:
    warm: dict[str, list[float]] = field(default_factory=dict)  # server: rounds' p50 (ms)
    engine: dict[str, list[float]] = field(default_factory=dict)  # engine CPU ms per invoke
    first: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (server, size)
    cold: dict[str, list[float]] = field(default_factory=dict)
    factory: dict[str, list[float]] = field(default_factory=dict)  # rounds' p50 of run + logs
    load: list[float] = field(default_factory=list)  # 1-minute load average, each round


async def first_invoke(server: Server, name: str, memory: int) -> float:
    action = {**CODE, "limits": {"memory": memory}}
    async with server.session.put(f"{server.api}/{name}", json=action) as r:
        assert r.status == 200, await r.text()
    (ms,) = await sequential(
        server.session, f"{server.api}/{name}?blocking=true&result=true", 1, {}
    )
    return ms


def running(container: Container) -> bool:
    return not container.exited


async def at_the_factory(figures: Figures, rounds: int, requests: int) -> None:
    """`/run` + logs of a warm container of each output path, in turns."""
    python = default_manifest().resolve("python:3.11")
    assert python is not None
    settings = Settings(installation_id="pywhisk-bench")
    init = {"value": {"name": "noop", "main": "main", "code": NOOP, "binary": False, "env": {}}}
    body = json.dumps({"value": {}, "activation_id": "0" * 32, "deadline": "0"}).encode()
    async with AsyncExitStack() as stack:
        started: list[tuple[str, Container, ContainerClient]] = []
        for name, url in COLD.items():
            factory = factory_from_url(url, settings, 99)
            await factory.start()
            stack.push_async_callback(factory.close)
            container = await factory.create(f"bench{os.getpid()}_{len(started)}", python, 256)
            # With `alive`, /init is retried until the runtime listens (it is still starting).
            client = ContainerClient(
                container.host,
                container.port,
                1 << 20,
                alive=functools.partial(running, container),
                token=container.token,
            )
            stack.push_async_callback(client.close)
            reply = await client.init(json.dumps(init).encode(), 10_000)
            assert reply.response is None, reply.response
            started.append((name, container, client))
        for round_ in range(rounds):
            for name, container, client in started if round_ % 2 == 0 else started[::-1]:
                timings = []
                for _ in range(requests):
                    began = time.perf_counter()
                    await client.run(body, 10_000)
                    await container.logs(1 << 20, wait_for_sentinels=True)
                    timings.append((time.perf_counter() - began) * 1000)
                figures.factory.setdefault(name, []).append(statistics.median(timings))


async def measure(tmp: Path, rounds: int, requests: int, cold: int) -> Figures:
    figures = Figures()
    await at_the_factory(figures, rounds, requests)
    async with (
        servers(tmp, WARM, True, "warm") as warm,
        servers(tmp, COLD, False, "cold") as cold_servers,
    ):
        for server in warm:
            await server.warm_up()
        url = "/noop?blocking=true&result=true"
        docker = [s for s in warm if s.name != PROCESS]
        for round_ in range(rounds):
            figures.load.append(os.getloadavg()[0])
            for server in in_turns(warm, round_):
                cpu = engine_cpu()
                latency = await sequential(server.session, server.api + url, requests, {})
                cpu = (engine_cpu() - cpu) * 1000 / requests
                figures.warm.setdefault(server.name, []).append(statistics.median(latency))
                figures.engine.setdefault(server.name, []).append(cpu)
            for size, memory in MEMORY.items():
                for server in in_turns(docker, round_):
                    ms = await first_invoke(server, f"first{memory}r{round_}", memory)
                    figures.first.setdefault((server.name, size), []).append(ms)
                    # The stem cell's refill is a Docker cold start: ~1 s on a loaded machine.
                    await asyncio.sleep(REFILL)
            for turn in range(cold):
                for server in in_turns(cold_servers, round_ + turn):
                    ms = await first_invoke(server, f"cold{round_}t{turn}", 256)
                    figures.cold.setdefault(server.name, []).append(ms)
    return figures


def spread(samples: list[float], digits: int = 2) -> str:
    return (
        f"p50 {statistics.median(samples):7.{digits}f}  "
        f"[{min(samples):.{digits}f} – {max(samples):.{digits}f}]"
    )


def report(figures: Figures, requests: int) -> None:
    rounds = len(figures.load)
    print(
        f"docker containers, {rounds} rounds in turns, {os.cpu_count()} cores, load "
        f"{min(figures.load):.1f} – {max(figures.load):.1f} (1-minute average at each round)"
    )
    base = figures.warm[PROCESS]
    print(f"  warm invoke, p50 of {requests} sequential invokes a round, ms; /process paired:")
    for name, p50s in figures.warm.items():
        ratios = [a / b for a, b in zip(p50s, base, strict=True)]
        print(f"    {name:14} {spread(p50s)}   /process {spread(ratios)}x")
    print("  the engine's CPU (dockerd, containerd, shims) per warm invoke, ms:")
    for name, cpu in figures.engine.items():
        print(f"    {name:14} {spread(cpu, 3)}")
    print("  first invoke of a new action, stem cells on (256 MB cells), ms:")
    for (name, size), samples in figures.first.items():
        print(f"    {name:14} {size}  {spread(samples, 1)}")
    print("  cold start, no stem cell (create + start + /init + /run), ms:")
    for name, samples in figures.cold.items():
        print(f"    {name:14} {spread(samples, 1)}")
    print(f"  at the container factory: /run + its logs, p50 of {requests} a round, ms:")
    attach_base = figures.factory[ATTACH]
    for name, p50s in figures.factory.items():
        ratios = [a / b for a, b in zip(p50s, attach_base, strict=True)]
        print(f"    {name:14} {spread(p50s, 3)}   /attach {spread(ratios)}x")
    fifo = statistics.median([a / b for a, b in zip(figures.warm[FIFO], base, strict=True)])
    attach = statistics.median([a / b for a, b in zip(figures.warm[ATTACH], base, strict=True)])
    print(
        f"  docker/process warm p50 {fifo:4.2f}x (attach: {attach:4.2f}x; target <= 1.1x); "
        f"first invoke of a 512 MB action p50 "
        f"{statistics.median(figures.first[(FIFO, '512 MB')]):.1f} ms (target <= 50 ms)"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        figures = await measure(Path(tmp_name), args.rounds, args.requests, args.cold)
    report(figures, args.requests)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench docker", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--cold", type=int, default=1)
    asyncio.run(run(parser.parse_args(argv)))
