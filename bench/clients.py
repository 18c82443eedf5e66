"""Load generators shared by the benchmarks: sequential latency and concurrent throughput."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def sequential(
    session: aiohttp.ClientSession, url: str, n: int, body: dict[str, Any], status: int = 200
) -> list[float]:
    """Milliseconds per request, one request at a time (each answered `status`)."""
    timings = []
    for _ in range(n):
        started = time.perf_counter()
        async with session.post(url, json=body) as r:
            await r.read()
            assert r.status == status, (r.status, await r.text())
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def throughput(
    session: aiohttp.ClientSession, url: str, clients: int, seconds: float, body: dict[str, Any]
) -> float:
    """Requests per second with `clients` concurrent request loops for `seconds`."""
    return await spread_throughput(session, [url] * clients, seconds, body)


async def spread_throughput(
    session: aiohttp.ClientSession, urls: list[str], seconds: float, body: dict[str, Any]
) -> float:
    """Requests per second with one request loop per URL, all running for `seconds`."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def client(url: str) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            async with session.post(url, json=body) as r:
                await r.read()
                assert r.status == 200, r.status
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(url) for url in urls))
    return done / (time.perf_counter() - started)


@asynccontextmanager
async def session_for(auth: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A kept-alive session with no connection limit that sends `auth` (`uuid:key`)."""
    uuid, _, key = auth.partition(":")
    # A precomputed header: the client shares the 2 cores with the server, keep it lean.
    headers = {"Authorization": aiohttp.BasicAuth(uuid, key).encode()}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        yield session
