"""What the accepted-activations journal adds to an invoke: journal on against journal off.

    python -m bench.journal [--requests N] [--rounds R] [--seconds S] [--writes N] [--clients C]

Two standalone servers run side by side, the same in all but `PYWHISK_JOURNAL` (on: the
default; off: nothing journaled, records still written behind through the same committer),
each with a warm no-op Python action. Each round sends `--requests` blocking invokes to
each, alternating one by one (which server goes first flips every round), then a quarter as
many non-blocking ones (202), then `--clients` concurrent blocking invokers for `--seconds`
on each in turn (group commits at work). On a shared 2-core machine whatever else runs slows both
alike, so the difference of the two p50s in one round is the journal's cost; the rounds'
differences are printed with their median and spread. The budget (issue: "warm p50 may grow
by at most 0.2 ms") is checked against that median, never asserted.

Then the journal write alone on a temporary SQLite file (`bench/journal_writes.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench import journal_writes
from bench.clients import percentile, session_for, throughput
from bench.platform import CODE, LIMITS
from tests.support.server import StandaloneServer

BUDGET_MS = 0.2


@dataclass
class Side:
    name: str
    session: aiohttp.ClientSession
    api: str
    blocking: list[list[float]] = field(default_factory=list)  # ms, one list per round
    accepted: list[list[float]] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)  # invokes/s, one per round


@asynccontextmanager
async def server(tmp: Path, name: str, env: dict[str, str]) -> AsyncIterator[Side]:
    srv = StandaloneServer(tmp / name, env=env)
    await asyncio.to_thread(srv.start, 120.0)
    try:
        ns = await asyncio.to_thread(srv.create_namespace, "bench", **LIMITS)
        async with session_for(ns.auth) as session:
            api = f"{srv.url}/api/v1/namespaces/_/actions"
            async with session.put(f"{api}/noop?overwrite=true", json=CODE) as r:
                assert r.status == 200, await r.text()
            yield Side(name, session, api)
    finally:
        await asyncio.to_thread(srv.stop)


async def once(side: Side, blocking: bool) -> float:
    url = f"{side.api}/noop?blocking=true&result=true" if blocking else f"{side.api}/noop"
    started = time.perf_counter()
    async with side.session.post(url, json={}) as r:
        await r.read()
        assert r.status == (200 if blocking else 202), (r.status, await r.text())
    return (time.perf_counter() - started) * 1000


async def alternate(sides: list[Side], n: int, blocking: bool) -> list[list[float]]:
    out: list[list[float]] = [[] for _ in sides]
    for _ in range(n):
        for i, side in enumerate(sides):
            out[i].append(await once(side, blocking))
    return out


async def idle(sides: list[Side]) -> None:
    """Let the runs the 202s queued finish before blocking invokes are timed again."""
    for side in sides:
        await once(side, blocking=True)
    await asyncio.sleep(0.5)


def p50(ms: list[float]) -> float:
    return statistics.median(ms)


def flat(rounds: list[list[float]]) -> list[float]:
    return list(itertools.chain.from_iterable(rounds))


def row(label: str, on: list[float], off: list[float]) -> str:
    return (
        f"  {label:10s} on p50 {p50(on):5.2f} p99 {percentile(on, 0.99):6.2f}   "
        f"off p50 {p50(off):5.2f} p99 {percentile(off, 0.99):6.2f}   "
        f"on-off p50 {p50(on) - p50(off):+6.3f} p99 {percentile(on, 0.99) - percentile(off, 0.99):+6.2f}"
    )


def spread(label: str, diffs: list[float]) -> str:
    return (
        f"  {label:24s} median {statistics.median(diffs):+6.3f} ms  "
        f"range {min(diffs):+6.3f} .. {max(diffs):+6.3f}  ({len(diffs)} rounds)"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with AsyncExitStack() as stack:
            on = await stack.enter_async_context(server(tmp, "on", {}))
            off = await stack.enter_async_context(server(tmp, "off", {"PYWHISK_JOURNAL": "0"}))
            await alternate([on, off], 200, blocking=True)  # warm both, JIT-free but caches
            loads = []
            for r in range(args.rounds):
                order = [on, off] if r % 2 == 0 else [off, on]
                timed = await alternate(order, args.requests, blocking=True)
                for side, ms in zip(order, timed, strict=True):
                    side.blocking.append(ms)
                timed = await alternate(order, args.requests // 4, blocking=False)
                for side, ms in zip(order, timed, strict=True):
                    side.accepted.append(ms)
                await idle(order)
                for side in order:
                    url = f"{side.api}/noop?blocking=true&result=true"
                    side.rps.append(
                        await throughput(side.session, url, args.clients, args.seconds, {})
                    )
                loads.append(os.getloadavg()[0])

    print(
        f"warm no-op Python action, journal on vs off, {args.rounds} rounds of {args.requests} "
        f"blocking + {args.requests // 4} non-blocking invokes per server, alternating; "
        f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores (ms)"
    )
    for r in range(args.rounds):
        print(row(f"round {r + 1}", on.blocking[r], off.blocking[r]))
    diffs = [p50(a) - p50(b) for a, b in zip(on.blocking, off.blocking, strict=True)]
    accepted = [p50(a) - p50(b) for a, b in zip(on.accepted, off.accepted, strict=True)]
    print(row("all", flat(on.blocking), flat(off.blocking)) + "  (blocking)")
    print(row("all", flat(on.accepted), flat(off.accepted)) + "  (202)")
    print(spread("blocking p50, on-off:", diffs))
    print(spread("202 p50, on-off:", accepted))
    ratios = [a / b for a, b in zip(on.rps, off.rps, strict=True)]
    print(
        f"  throughput, {args.clients} clients:  on {statistics.median(on.rps):,.0f}/s  "
        f"off {statistics.median(off.rps):,.0f}/s  on/off median {statistics.median(ratios):.2f} "
        f"range {min(ratios):.2f} .. {max(ratios):.2f}"
    )
    verdict = "within" if statistics.median(diffs) <= BUDGET_MS else "over"
    print(f"  budget: warm p50 + {BUDGET_MS} ms at most: {verdict}")
    print()
    await journal_writes.run(args.writes, args.clients)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.journal", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--requests", type=int, default=500, help="per server and round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=2.0, help="of throughput per round")
    parser.add_argument("--clients", type=int, default=4, help="concurrent invokers, writers")
    parser.add_argument("--writes", type=int, default=2000, help="journal writes alone")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
