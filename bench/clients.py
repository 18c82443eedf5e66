"""Load generators shared by the benchmarks: sequential latency and concurrent throughput."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def sequential(
    session: aiohttp.ClientSession, url: str, n: int, body: dict[str, Any]
) -> list[float]:
    """Milliseconds per request, one request at a time."""
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        async with session.post(url, json=body) as r:
            await r.read()
            assert r.status == 200, (r.status, await r.text())
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def throughput(
    session: aiohttp.ClientSession, url: str, clients: int, seconds: float, body: dict[str, Any]
) -> float:
    """Requests per second with `clients` concurrent request loops for `seconds`."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            async with session.post(url, json=body) as r:
                await r.read()
                assert r.status == 200, r.status
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done / (time.perf_counter() - started)
