"""Store figures on the hot path: entity get and identity lookup latency, activation
claims (a cluster invoker's one store request before each run), activation writes.

    python -m bench.store [--url couchdb://user:pw@host:5984/prefix_] [--gets N] [--records N]

Without `--url` it starts its own pouchdb-server (in memory, as the tests do) and also
measures the SQLite store on a temporary file, for comparison. Activation throughput is
records put by 8 concurrent writers until the write-behind queue is empty, so it counts the
`_bulk_docs` batches, not just the queueing. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.clients import percentile
from pywhisk.common.entities import Identity
from pywhisk.common.store.base import Store, store_from_url

_runs = itertools.count()


async def timed(n: int, work: Callable[[], Awaitable[Any]]) -> list[float]:
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        await work()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def concurrent_rate(
    seconds: float, clients: int, work: Callable[[], Awaitable[Any]]
) -> float:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await work()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.perf_counter() - started)


def record(aid: int) -> dict[str, Any]:
    start = 1_700_000_000_000 + aid
    return {
        "namespace": "bench",
        "name": "hello",
        "activationId": f"{aid:032x}",
        "start": start,
        "end": start + 3,
        "response": {"statusCode": 0, "result": {"payload": "Hello, world"}},
        "logs": ["2024-01-01T00:00:00.000000000Z stdout: hello"],
        "annotations": [{"key": "path", "value": "bench/hello"}, {"key": "waitTime", "value": 5}],
        "publish": False,
        "version": "0.0.1",
        "subject": "bench",
    }


async def measure(label: str, store: Store, gets: int, records: int) -> None:
    action = {
        "namespace": "bench",
        "name": "hello",
        "entityType": "action",
        "updated": 1,
        "exec": {"kind": "python:3.11", "code": "def main(a):\n    return a\n" * 20},
        "limits": {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1},
        "annotations": [{"key": "exec", "value": "python:3.11"}],
        "parameters": [],
    }
    found = await store.entities.get("bench/hello")
    await store.entities.put("bench/hello", action, found[1] if found else None)
    identity = Identity(namespace="bench", subject="bench", uuid="u" * 36, key="k" * 64)
    await store.subjects.put(identity)

    async def get_entity() -> None:
        assert await store.entities.get("bench/hello") is not None

    async def get_identity() -> None:
        assert await store.subjects.by_auth("u" * 36, "k" * 64) is not None

    await timed(50, get_entity)  # warm-up: connections, session cookie, view index
    await timed(50, get_identity)
    entity_ms = await timed(gets, get_entity)
    identity_ms = await timed(gets, get_identity)
    entity_rate = await concurrent_rate(2.0, 8, get_entity)

    # Claims as a cluster invoker makes them: one id a request when activations come one
    # by one, 32 a request in a burst.
    claimed = itertools.count(next(_runs) * 10_000_000)

    async def claim_one() -> None:
        aid = f"{next(claimed):032x}"
        assert await store.claims.start([aid], "invoker0", aid) == {aid}

    async def claim_burst() -> None:
        ids = [f"{next(claimed):032x}" for _ in range(32)]
        assert len(await store.claims.start(ids, "invoker0", ids[0])) == 32

    await timed(50, claim_one)
    claim_ms = await timed(gets, claim_one)
    burst_ms = await timed(max(gets // 32, 10), claim_burst)

    # 8 writers, as invokers storing records; then the write-behind queue is written out.
    base = next(_runs) * 10_000_000
    per_writer = records // 8

    async def writer(w: int) -> None:
        for i in range(per_writer):
            await store.activations.put(record(base + w * per_writer + i))
            if i % 50 == 0:
                await asyncio.sleep(0)  # let the flusher run between bursts

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(8)))
    await store.activations.settle()
    written = time.perf_counter() - started
    await store.activations.list("bench", limit=1)  # the views catch up with the records
    indexed = time.perf_counter() - started - written

    def line(ms: list[float]) -> str:
        return f"p50 {percentile(ms, 0.5):.2f} ms, p99 {percentile(ms, 0.99):.2f} ms"

    print(f"{label}")
    print(f"  entity get (sequential, {gets}):     {line(entity_ms)}")
    print(f"  identity by key (sequential, {gets}): {line(identity_ms)}")
    print(f"  entity get, 8 concurrent:            {entity_rate:,.0f} gets/s")
    ratio = percentile(claim_ms, 0.5) / percentile(entity_ms, 0.5)
    print(f"  claim one activation (sequential):   {line(claim_ms)} ({ratio:.1f}x an entity get)")
    per_claim = percentile(burst_ms, 0.5) / 32
    print(f"  claim 32 at once:                    {line(burst_ms)} ({per_claim:.2f} ms each)")
    print(
        f"  activation records via write-behind: {8 * per_writer / written:,.0f} records/s "
        f"({8 * per_writer} written in {written:.2f} s; the first list after them "
        f"waited {indexed:.2f} s for the views)"
    )


async def run(url: str, label: str, gets: int, records: int) -> None:
    store = store_from_url(url)
    await store.open()
    try:
        await measure(label, store, gets, records)
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a CouchDB store URL (default: a pouchdb-server of its own)")
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--records", type=int, default=5000)
    args = parser.parse_args()
    if args.url:
        asyncio.run(
            run(args.url, f"CouchDB at {args.url.rpartition('@')[2]}", args.gets, args.records)
        )
        return
    from tests.support.couchdb import PouchDBServer

    with tempfile.TemporaryDirectory() as tmp:
        server = PouchDBServer(Path(tmp) / "pouchdb")
        server.start()
        try:
            label = "CouchDB API: pouchdb-server 4.2.0, in memory"
            asyncio.run(run(server.store_url("bench_"), label, args.gets, args.records))
        finally:
            server.stop()
        sqlite = f"sqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(sqlite, "SQLite (standalone), for comparison", args.gets, args.records))


if __name__ == "__main__":
    main()
