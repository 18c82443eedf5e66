"""A journal write alone, on a SQLite file (the second half of `python -m bench.journal`).

A blocking invoke in standalone now waits for one journal write (`answered`) before its
answer, a non-blocking one for one (`accept`) before its 202 and its run for one (`start`).
This times that write on a temporary SQLite file, one at a time (p50/p99: each is committed
on the event loop, the committer being idle), beside two baselines measured in the same run:
a hop to a thread and back (`asyncio.to_thread` of a no-op, what the writer thread's path
costs at least) and an aiosqlite `SELECT 1` (what every store read already pays). Then
`clients` concurrent writers: writes per commit shows the group commit at work. A tight loop
keeps SQLite's code in the CPU's caches: inside a busy server the same commit costs about 3x
(`bench/journal.py` measures it there). Figures are printed, never asserted.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.clients import percentile
from pywhisk.common.messages import ActivationMessage, User
from pywhisk.common.store.sqlite import SqliteStore


def record(i: int) -> dict[str, Any]:
    return {
        "namespace": "bench",
        "name": "noop",
        "version": "0.0.1",
        "subject": "bench",
        "activationId": f"{i:032x}",
        "start": 1,
        "end": 2,
        "duration": 1,
        "response": {"status": "success", "statusCode": 0, "success": True, "result": {}},
        "logs": [],
        "annotations": [{"key": "path", "value": "bench/noop"}],
        "publish": False,
    }


def message(i: int) -> ActivationMessage:
    return ActivationMessage(
        transid="t",
        activation_id=f"{i:032x}",
        action="bench/noop",
        revision="1",
        version="0.0.1",
        user=User(namespace="bench", subject="bench", auth="u:k"),
        controller=0,
        blocking=False,
        content={},
        received=int(time.time() * 1000),
    )


async def timed(n: int, work: Callable[[int], Awaitable[Any]]) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        await work(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def line(name: str, ms: list[float], base: float) -> str:
    p50 = statistics.median(ms)
    return (
        f"  {name:34s} p50 {p50 * 1000:7.1f} µs  p99 {percentile(ms, 0.99) * 1000:8.1f} µs"
        f"  ({p50 / base:4.2f}× a thread hop)"
    )


async def run(n: int, clients: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(f"sqlite:///{Path(tmp) / 'bench.db'}")
        await store.open()
        journal = store.journal
        assert journal is not None and store._commits is not None
        db = store._db
        assert db is not None
        await timed(200, lambda i: asyncio.to_thread(int))

        async def select(i: int) -> None:
            async with db.execute("SELECT 1") as cur:
                await cur.fetchone()

        hop = await timed(n, lambda i: asyncio.to_thread(int))
        read = await timed(n, select)
        answered = await timed(n, lambda i: journal.answered(record(i)))
        accepted = await timed(n, lambda i: journal.accept(message(10**6 + i), 60_000))
        started = await timed(n, lambda i: journal.start(f"{10**6 + i:032x}"))

        before = store._commits.commits
        on_loop = store._commits.loop_commits
        per_client = n // clients
        began = time.perf_counter()

        async def client(c: int) -> None:
            for i in range(per_client):
                await journal.accept(message(10**7 + c * per_client + i), 60_000)

        await asyncio.gather(*(client(c) for c in range(clients)))
        elapsed = time.perf_counter() - began
        commits = store._commits.commits - before
        on_loop = store._commits.loop_commits - on_loop
        await store.close()

    base = statistics.median(hop)
    load = os.getloadavg()[0]
    print(f"journal writes on a SQLite file, {n} sequential each, load average {load:.1f}")
    print(line("thread hop (asyncio.to_thread)", hop, base))
    print(line("aiosqlite SELECT 1 (any read)", read, base))
    print(line("answered (blocking answer)", answered, base))
    print(line("accept (before a 202)", accepted, base))
    print(line("start (before a /run)", started, base))
    total = per_client * clients
    print(
        f"  {clients} concurrent writers: {total / elapsed:,.0f} accepts/s, "
        f"{total / max(commits, 1):.1f} accepts per commit, {on_loop} of {commits} commits on the loop"
    )
