"""Burst: 128 concurrent callers of one 50 ms action, the pool's policies side by side.

    python -m bench burst [--callers 128] [--seconds 10] [--rounds 2] [--policies former,new]

For each round and each policy (in turns, so load on the shared machine falls on both), a
fresh standalone server (process containers, sandboxed where the machine allows) with that
policy's containers URL (`POLICIES`), one action that sleeps 50 ms, and `--callers` aiohttp
request loops invoking it blocking. Measured twice: from the first call (the pool grows
from nothing: cold starts) for `--seconds`, then as many seconds more (warm). Printed per
run: invokes/s, p50 and p99 of each phase, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.clients import percentile, session_for
from tests.support.server import StandaloneServer

# The former policy (OpenWhisk's reservations, LRU, no cap on cold starts) and today's.
POLICIES = {"former": "process://?pool=former", "new": "process://"}
LIMITS = {"invocationsPerMinute": 1_000_000, "concurrentInvocations": 100_000}
CODE = {
    "exec": {
        "kind": "python:3.11",
        "code": "import time\ndef main(args):\n    time.sleep(0.05)\n    return {'ok': True}\n",
    }
}


def start_server(
    directory: Path, policy: str, env: dict[str, str] | None = None
) -> StandaloneServer:
    server = StandaloneServer(
        directory, env={"PYWHISK_CONTAINERS_URL": POLICIES[policy], **(env or {})}
    )
    server.start(120)
    return server


async def _phase(
    session: aiohttp.ClientSession, url: str, callers: int, seconds: float
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def caller() -> None:
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            async with session.post(url, json={}) as r:
                await r.read()
                assert r.status == 200, (r.status, await r.text())
            latencies.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return len(latencies) / (time.perf_counter() - began), latencies


async def _measure(server: StandaloneServer, auth: str, callers: int, seconds: float) -> list[str]:
    api = f"{server.url}/api/v1/namespaces/_/actions"
    out = []
    async with session_for(auth) as session:
        async with session.put(f"{api}/sleep50?overwrite=true", json=CODE) as r:
            assert r.status == 200, await r.text()
        url = f"{api}/sleep50?blocking=true&result=true"
        for phase in ("from cold", "warm"):
            rate, lat = await _phase(session, url, callers, seconds)
            p50, p99 = statistics.median(lat), percentile(lat, 0.99)
            out.append(
                f"{phase:9s} {rate:7.1f} invokes/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms "
                f"(p99/p50 {p99 / p50:4.2f})"
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench burst")
    parser.add_argument("--callers", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--policies", default="former,new")
    args = parser.parse_args(argv)
    for round_ in range(args.rounds):
        for policy in args.policies.split(","):
            with tempfile.TemporaryDirectory(prefix="burst") as tmp:
                server = start_server(Path(tmp) / "server", policy)
                try:
                    auth = server.create_namespace("burst", **LIMITS).auth
                    lines = asyncio.run(_measure(server, auth, args.callers, args.seconds))
                finally:
                    server.stop()
            load = os.getloadavg()[0]
            for line in lines:
                print(f"round {round_} {policy:6s} {line}  load {load:.1f}", flush=True)


if __name__ == "__main__":
    main()
