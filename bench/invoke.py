"""Invoke latency and throughput through the platform, against a direct /run baseline.

    python -m bench [--requests N] [--seconds S] [--clients C]

Starts a real standalone server (process containers) and, for the baseline, the same
action runtime on its own; drives both with a kept-alive aiohttp client from this process.
On a 2-core machine the client competes with the server for CPU, which this prints too.
Figures are printed, never asserted: targets live in the README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.server import StandaloneServer

NOOP = "def main(args):\n    return {}\n"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def sequential(
    session: aiohttp.ClientSession, url: str, n: int, body: dict[str, Any]
) -> list[float]:
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


def start_direct_runtime(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    repo = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [
            sys.executable,
            "-E",
            "-s",
            str(repo / "action_runtime"),
            "--language",
            "python",
            "--listen-fd",
            str(sock.fileno()),
        ],
        cwd=work,
        pass_fds=[sock.fileno()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sock.close()
    return process, port


async def run(args: argparse.Namespace) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        with tempfile.TemporaryDirectory() as tmp:
            # Baseline: the runtime alone.
            proc, port = start_direct_runtime(Path(tmp))
            try:
                base = f"http://127.0.0.1:{port}"
                init = {
                    "value": {
                        "name": "noop",
                        "main": "main",
                        "code": NOOP,
                        "binary": False,
                        "env": {},
                    }
                }
                async with session.post(f"{base}/init", json=init) as r:
                    assert r.status == 200, await r.text()
                run_body = {"value": {}, "activation_id": "0" * 32, "deadline": str(2**45)}
                await sequential(session, f"{base}/run", 200, run_body)
                direct = await sequential(session, f"{base}/run", args.requests, run_body)
                direct_rps = await throughput(
                    session, f"{base}/run", args.clients, args.seconds, run_body
                )
            finally:
                proc.terminate()
                proc.wait()

            # The platform: standalone server, blocking invokes with result=true.
            server = StandaloneServer(Path(tmp) / "server")
            server.start()
            try:
                ns = await asyncio.to_thread(
                    server.create_namespace,
                    "bench",
                    invocationsPerMinute=10**9,
                    concurrentInvocations=10**6,
                )
                uuid, _, key = ns.auth.partition(":")
                # A precomputed header: the client shares the 2 cores with the server, keep it lean.
                auth_header = {"Authorization": aiohttp.BasicAuth(uuid, key).encode()}
                api = f"{server.url}/api/v1/namespaces/_/actions"
                async with aiohttp.ClientSession(
                    headers=auth_header, connector=aiohttp.TCPConnector(limit=0)
                ) as s:
                    code = {"exec": {"kind": "python:3.11", "code": NOOP}}
                    async with s.put(f"{api}/noop?overwrite=true", json=code) as r:
                        assert r.status == 200, await r.text()
                    url = f"{api}/noop?blocking=true&result=true"
                    await sequential(s, url, 200, {})
                    platform = await sequential(s, url, args.requests, {})
                    platform_rps = await throughput(s, url, args.clients, args.seconds, {})
                    cold = []
                    for i in range(args.cold):
                        async with s.put(f"{api}/cold{i}", json=code) as r:
                            assert r.status == 200
                        cold.extend(
                            await sequential(s, f"{api}/cold{i}?blocking=true&result=true", 1, {})
                        )
            finally:
                server.stop()

    p50, p99 = statistics.median(platform), percentile(platform, 0.99)
    d50, d99 = statistics.median(direct), percentile(direct, 0.99)
    print(
        f"no-op python action, {args.requests} sequential blocking invokes, {os.cpu_count()} cores"
    )
    print(f"  warm latency  platform p50 {p50:6.2f} ms  p99 {p99:6.2f} ms   (target p50 <= 2 ms)")
    print(
        f"                direct   p50 {d50:6.2f} ms  p99 {d99:6.2f} ms   ratio p50 {p50 / d50:4.1f}x (target <= 5x)"
    )
    print(f"  throughput, {args.clients} clients, {args.seconds:.0f} s each")
    print(f"                platform {platform_rps:7.0f} invokes/s   (target >= 1000)")
    print(
        f"                direct   {direct_rps:7.0f} runs/s     ratio {platform_rps / direct_rps:4.2f}"
    )
    print(
        f"  cold start    p50 {statistics.median(cold):6.1f} ms over {len(cold)} new actions (new container + /init + /run; target <= 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--cold", type=int, default=20)
    asyncio.run(run(parser.parse_args()))
