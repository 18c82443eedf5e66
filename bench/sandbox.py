"""`python -m bench sandbox`: what the process containers' sandbox costs through the platform.

    python -m bench sandbox [--rounds R] [--seconds S] [--clients C] [--cold N]
                            [--variant NAME=URL ...]

Real standalone servers side by side, all started before the first measurement and driven
in turns (the order reversed every other round), so that whatever else loads the machine
hits each alike:
- warm throughput, each round S seconds of C clients invoking a warm no-op action blocking,
  on `sandboxed` (the default `process://`) and `unsandboxed` (`process://?sandbox=off`),
  stem cells on as by default;
- cold starts, each round N first invokes of new actions on servers without stem cells
  (`PYWHISK_PREWARM=false`), one start per server in turn: `sandboxed`, `unsandboxed`, and
  `no spares` (`process://?spares=0`: every create makes its sandbox then, as before spare
  sandboxes).
`--variant NAME=URL` adds a containers URL to both (e.g. `cpuoff=process://?cpu=off`).
It prints per server the median and the spread (throughput: lowest and highest round; cold
starts: quartiles), and the sandbox's cost against the budget: at most 10 % of warm
throughput (the median of the rounds' paired ratios) and at most 5 ms of cold start (the
median of the differences between neighbouring starts; on a loaded machine a cold start's
time moves by far more than 5 ms from one start to the next, which pairing evens out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp

from bench.clients import sequential, throughput
from bench.platform import CODE, platform, without_stem_cells

SANDBOXED = "sandboxed"
UNSANDBOXED = "unsandboxed"
BASE = {SANDBOXED: "process://", UNSANDBOXED: "process://?sandbox=off"}


class Server:
    """One standalone server under measurement, with its session."""

    def __init__(self, name: str, session: aiohttp.ClientSession, api: str) -> None:
        self.name = name
        self.session = session
        self.api = api
        self.rps: list[float] = []
        self.cold: list[float] = []
        self._actions = 0

    async def warm_up(self) -> None:
        async with self.session.put(f"{self.api}/noop?overwrite=true", json=CODE) as r:
            assert r.status == 200, await r.text()
        await sequential(self.session, f"{self.api}/noop?blocking=true&result=true", 300, {})

    async def throughput(self, clients: int, seconds: float) -> None:
        url = f"{self.api}/noop?blocking=true&result=true"
        self.rps.append(await throughput(self.session, url, clients, seconds, {}))

    async def cold_start(self) -> None:
        """The first invoke of a new action."""
        name = f"cold{self._actions}"
        self._actions += 1
        async with self.session.put(f"{self.api}/{name}", json=CODE) as r:
            assert r.status == 200, await r.text()
        url = f"{self.api}/{name}?blocking=true&result=true"
        self.cold += await sequential(self.session, url, 1, {})


@asynccontextmanager
async def servers(
    tmp: Path, urls: dict[str, str], prewarm: bool, suffix: str
) -> AsyncIterator[list[Server]]:
    async with AsyncExitStack() as stack:
        started = []
        for name, url in urls.items():
            env = {"PYWHISK_CONTAINERS_URL": url} if prewarm else without_stem_cells(url)
            session, api = await stack.enter_async_context(
                platform(tmp, f"{name.replace(' ', '-')}-{suffix}", **env)
            )
            started.append(Server(name, session, api))
        yield started


def in_turns(servers: list[Server], round_: int) -> list[Server]:
    return servers if round_ % 2 == 0 else servers[::-1]


def quartiles(samples: list[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return samples[0], samples[0]
    q = statistics.quantiles(samples, n=4)
    return q[0], q[2]


async def run(args: argparse.Namespace) -> None:
    variants = dict(v.split("=", 1) for v in args.variant)
    warm_urls = {**BASE, **variants}
    cold_urls = {**BASE, "no spares": "process://?spares=0", **variants}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with (
            servers(tmp, warm_urls, True, "warm") as warm,
            servers(tmp, cold_urls, False, "cold") as cold,
        ):
            for server in warm:
                await server.warm_up()
            for round_ in range(args.rounds):
                for server in in_turns(warm, round_):
                    await server.throughput(args.clients, args.seconds)
                for turn in range(args.cold):  # one start per server in turn: neighbours pair
                    for server in in_turns(cold, round_ + turn):
                        await server.cold_start()
    load = os.getloadavg()[0]
    print(
        f"process containers through the platform, sandboxed vs not, {args.rounds} rounds in "
        f"turns, {os.cpu_count()} cores, load {load:.1f} at the end"
    )
    base = next(s for s in warm if s.name == UNSANDBOXED)
    print(f"warm throughput, {args.clients} clients, {args.seconds:g} s a round, invokes/s:")
    for s in warm:
        ratios = [a / b for a, b in zip(s.rps, base.rps, strict=True)]
        print(
            f"  {s.name:12} p50 {statistics.median(s.rps):6.0f}  [{min(s.rps):5.0f} – "
            f"{max(s.rps):5.0f}]   /unsandboxed p50 {statistics.median(ratios):4.2f}x "
            f"[{min(ratios):4.2f} – {max(ratios):4.2f}]"
        )
    cold_base = next(s for s in cold if s.name == UNSANDBOXED).cold
    print(f"cold start, no stem cell ({args.cold} new actions a round each, in turns), ms:")
    extras = {}
    for s in cold:
        q1, q3 = quartiles(s.cold)
        differences = [a - b for a, b in zip(s.cold, cold_base, strict=True)]
        extras[s.name] = statistics.median(differences)
        d1, d3 = quartiles(differences)
        print(
            f"  {s.name:12} p50 {statistics.median(s.cold):6.1f}  [q1 {q1:6.1f}, q3 {q3:6.1f}]"
            f"   minus unsandboxed, paired: p50 {extras[s.name]:+6.1f} [q1 {d1:+6.1f}, "
            f"q3 {d3:+6.1f}]"
        )
    sandboxed = next(s for s in warm if s.name == SANDBOXED)
    ratio = statistics.median([a / b for a, b in zip(sandboxed.rps, base.rps, strict=True)])
    extra = extras[SANDBOXED]
    print(
        f"sandboxed/unsandboxed warm throughput {ratio:4.2f}x (budget >= 0.90x); the sandbox "
        f"adds {extra:+.1f} ms to a cold start (budget <= 5 ms)"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench sandbox", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME=URL", help="another server"
    )
    asyncio.run(run(parser.parse_args(argv)))
