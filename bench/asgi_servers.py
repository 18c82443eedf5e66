"""`python -m bench asgi-servers`: which HTTP server to put in front of the same ASGI
application, measured on the application's own part of a warm invoke.

    python -m bench asgi-servers [--rounds R] [--requests N] [--seconds S]

The application (`app`) is what every API request crosses before the platform's work: a
FastAPI app with our `TransactionMiddleware` and a plain route that reads the JSON body and
answers `{}` as JSON (the invoke route's shape without the invoke). It is served by:
- `uvicorn`: httptools and uvloop, as the platform serves (`controller/api/serving.py`);
- `uvicorn-h11`: uvicorn's pure-Python HTTP parser, uvloop;
- `granian`: Granian's Rust HTTP server, ASGI, one worker with a single-threaded runtime and
  uvloop (skipped when granian is not installed).
Each in its own process, one worker, all started before the first measurement and driven in
turns from one aiohttp client (N sequential requests, then S seconds of 4 clients a round).
It prints each server's p50 and p99, CPU per request (the server's processes) and
throughput, and their ratios against `uvicorn`.

Note: the platform's standalone server runs the invoker on the API's event loop in the same
process; Granian runs an application on loops and workers of its own, so it could only front
a controller of its own process, the cluster's.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from bench.clients import percentile, sequential, throughput
from bench.framework import free_port, process_tree_cpu
from pywhisk.controller.api.middleware import TransactionMiddleware


def app() -> FastAPI:
    """The application under every server (a factory: nothing built at import time)."""

    async def run(request: Request) -> Response:
        await request.body()
        return Response(b"{}", media_type="application/json")

    application = FastAPI()
    application.add_route("/run", run, methods=["POST"])
    application.add_middleware(TransactionMiddleware)
    return application


ROOT = str(Path(__file__).resolve().parent.parent)  # the checkout: `bench` importable


def commands(port: int) -> dict[str, list[str]]:
    py = [sys.executable, "-m"]
    uvicorn = [*py, "uvicorn", "--factory", "bench.asgi_servers:app", "--port", str(port)]
    uvicorn += ["--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
    found = {
        "uvicorn": [*uvicorn, "--http", "httptools"],
        "uvicorn-h11": [*uvicorn, "--http", "h11"],
    }
    if importlib.util.find_spec("granian") is not None:
        found["granian"] = [
            *py,
            "granian",
            "--interface",
            "asgi",
            "--factory",
            "--port",
            str(port),
            "--workers",
            "1",
            "--runtime-mode",
            "st",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
            "bench.asgi_servers:app",
        ]
    return found


class Served:
    def __init__(self, name: str, url: str, pid: int) -> None:
        self.name = name
        self.url = url
        self.pid = pid
        self.latency: list[float] = []
        self.cpu_ms: list[float] = []
        self.rps: list[float] = []


@asynccontextmanager
async def serve(name: str, command: list[str], port: int) -> AsyncIterator[Served]:
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/run"
    try:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as s:
            while True:
                try:
                    async with s.post(url, json={}) as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start")
                await asyncio.sleep(0.1)
        yield Served(name, url, proc.pid)
    finally:
        proc.terminate()
        await proc.wait()


async def run(args: argparse.Namespace) -> None:
    async with AsyncExitStack() as stack:
        servers = []
        for name in commands(0):
            port = free_port()
            servers.append(await stack.enter_async_context(serve(name, commands(port)[name], port)))
        session = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        )
        for s in servers:
            await sequential(session, s.url, 300, {})
        load = os.getloadavg()[0]
        for round_ in range(args.rounds):
            for s in servers if round_ % 2 == 0 else servers[::-1]:
                before = process_tree_cpu(s.pid)
                s.latency += await sequential(session, s.url, args.requests, {})
                s.cpu_ms.append((process_tree_cpu(s.pid) - before) * 1000 / args.requests)
                s.rps.append(await throughput(session, s.url, 4, args.seconds, {}))
    print(
        f"the same ASGI app behind each server, {args.rounds} rounds in turns, "
        f"{os.cpu_count()} cores, load {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    base = servers[0]
    for s in servers:
        cpu = statistics.median(a / b for a, b in zip(s.cpu_ms, base.cpu_ms, strict=True))
        rps = [a / b for a, b in zip(s.rps, base.rps, strict=True)]
        print(
            f"  {s.name:12} p50 {statistics.median(s.latency):5.3f} ms  p99 "
            f"{percentile(s.latency, 0.99):5.2f} ms  CPU/request "
            f"{statistics.median(s.cpu_ms):5.3f} ms ({cpu:4.2f}x)  4 clients "
            f"{statistics.median(s.rps):5.0f}/s ({statistics.median(rps):4.2f}x "
            f"[{min(rps):4.2f}–{max(rps):4.2f}])"
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench asgi-servers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=2.0)
    asyncio.run(run(parser.parse_args(argv)))
