"""`python -m bench framework`: the warm path through the platform against a bare function
framework serving the same no-op, same client, same run.

    python -m bench framework [--rounds R] [--requests N] [--seconds S] [--variant NAME=ENV ...]

The framework is Google's `functions-framework` (PyPI `functions-framework`), started as its
documentation says for production, `functions-framework --target noop --source FILE`: with
`debug` off it serves through gunicorn, one worker of 4 threads per core (`gthread`), Flask
behind it. The platform is a default standalone server (process containers, sandboxed, stem
cells on) invoking a no-op Python action blocking (`?blocking=true&result=true`). Both answer
`{}` as JSON to a `POST` with a `{}` body.

Each round drives every server in turn (the order reversed every other round, so that a
change in the machine's load hits them alike): N sequential requests (latency), then S seconds
of 1 client and of 4 clients (throughput), from one aiohttp client in this process (which
shares the cores with the servers). It prints each server's p50 and p99 over all rounds, its
throughput (median and range of the rounds), the CPU each server's processes used per
request, and the platform's ratios against the framework: the medians of the rounds' ratios.
`--variant NAME=ENV` adds another standalone server with environment `ENV` (`K=V,K=V`), e.g.
to compare server settings in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp

from bench.clients import percentile, sequential, session_for, throughput
from bench.cpu import processes
from bench.platform import CODE, LIMITS
from tests.support.server import StandaloneServer

FRAMEWORK = "functions-framework"
PLATFORM = "platform"
BARE = "def noop(request):\n    return {}\n"
CLIENTS = (1, 4)


class Server:
    """One server under measurement: its URL, the session to drive it, its figures."""

    def __init__(
        self, name: str, session: aiohttp.ClientSession, url: str, pid: Callable[[], int]
    ) -> None:
        self.name = name
        self.session = session
        self.url = url
        self.pid = pid
        self.latency: list[float] = []
        self.p50s: list[float] = []
        self.rps: dict[int, list[float]] = {c: [] for c in CLIENTS}
        self.cpu_ms: list[float] = []  # the server's CPU per request, a round at a time

    async def measured(self, work: Callable[[], Awaitable[int]]) -> None:
        """Run `work` (which says how many requests it sent), adding the CPU the server's
        processes used per request."""
        before = process_tree_cpu(self.pid())
        requests = await work()
        self.cpu_ms.append((process_tree_cpu(self.pid()) - before) * 1000 / requests)

    async def round(self, requests: int, seconds: float) -> None:
        async def latency() -> int:
            samples = await sequential(self.session, self.url, requests, {})
            self.latency += samples
            self.p50s.append(statistics.median(samples))
            return requests

        await self.measured(latency)
        for clients in CLIENTS:
            rps = await throughput(self.session, self.url, clients, seconds, {})
            self.rps[clients].append(rps)


def process_tree_cpu(pid: int) -> float:
    """CPU seconds used so far by `pid` and its live descendants."""
    found = processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in found.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in found:
            total += found[p][2]
        todo += children.get(p, [])
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def standalone(tmp: Path, name: str, env: dict[str, str]) -> AsyncIterator[Server]:
    """A standalone server with `env` and the no-op action, driven as a high-limit namespace."""
    server = StandaloneServer(tmp / name, env=env)
    await asyncio.to_thread(server.start, 120.0)
    try:
        ns = await asyncio.to_thread(server.create_namespace, "bench", **LIMITS)
        async with session_for(ns.auth) as session:
            api = f"{server.url}/api/v1/namespaces/_/actions"
            async with session.put(f"{api}/noop?overwrite=true", json=CODE) as r:
                assert r.status == 200, await r.text()
            assert server.process is not None
            pid = server.process.pid
            yield Server(name, session, f"{api}/noop?blocking=true&result=true", lambda: pid)
    finally:
        await asyncio.to_thread(server.stop)


@asynccontextmanager
async def functions_framework(tmp: Path) -> AsyncIterator[tuple[str, int]]:
    """The bare function served by functions-framework's production server: (URL, pid)."""
    source = tmp / "bare.py"
    source.write_text(BARE)
    port = free_port()
    command = shutil.which(FRAMEWORK, path=str(Path(sys.executable).parent)) or FRAMEWORK
    proc = await asyncio.create_subprocess_exec(
        *[command, "--target", "noop", "--source", str(source), "--port", str(port)],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as s:
            while True:
                try:
                    async with s.post(f"http://127.0.0.1:{port}/", json={}) as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{FRAMEWORK} did not start (exit {proc.returncode})")
                await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{port}/", proc.pid
    finally:
        proc.terminate()
        await proc.wait()


def parse_env(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(",") if pair)


async def run(args: argparse.Namespace) -> None:
    variants = (v.split("=", 1) for v in args.variant)
    platforms = {PLATFORM: {}, **{name: parse_env(env) for name, env in variants}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with AsyncExitStack() as stack:
            servers = []
            url, ff_pid = await stack.enter_async_context(functions_framework(tmp))
            ff_session = await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            )
            servers.append(Server(FRAMEWORK, ff_session, url, lambda: ff_pid))
            for name, env in platforms.items():
                servers.append(await stack.enter_async_context(standalone(tmp, name, env)))
            for server in servers:  # warm-up: JIT-free Python still fills caches and pools
                await sequential(server.session, server.url, 300, {})
            start_load = os.getloadavg()[0]
            for round_ in range(args.rounds):
                for server in servers if round_ % 2 == 0 else servers[::-1]:
                    await server.round(args.requests, args.seconds)
            end_load = os.getloadavg()[0]
    report(servers, args, start_load, end_load)


def report(servers: list[Server], args: argparse.Namespace, start: float, end: float) -> None:
    print(
        f"no-op function: {FRAMEWORK} (gunicorn gthread, Flask) against the platform "
        f"(standalone, sandboxed process containers); {args.rounds} rounds in turns, "
        f"{os.cpu_count()} cores, load {start:.1f} at the start, {end:.1f} at the end"
    )
    base = servers[0]
    for s in servers:
        line = (
            f"  {s.name:20} p50 {statistics.median(s.latency):5.2f} ms  p99 "
            f"{percentile(s.latency, 0.99):5.2f} ms  CPU/request {statistics.median(s.cpu_ms):5.2f} ms"
        )
        for c in CLIENTS:
            r = s.rps[c]
            line += f"  {c}c {statistics.median(r):5.0f}/s [{min(r):.0f}–{max(r):.0f}]"
        print(line)
    for s in servers[1:]:
        print("  " + _ratios(s, base))
    for s in servers[2:]:  # variants against the platform as it is
        print("  " + _ratios(servers[1], s))
    print("  targets: platform p50 <= 0.70 ms, throughput >= 1.25x the framework's")


def _ratios(s: Server, base: Server) -> str:
    """`s` over `base`: medians (and ranges) of the rounds' ratios."""
    p50 = statistics.median(a / b for a, b in zip(s.p50s, base.p50s, strict=True))
    cpu = statistics.median(a / b for a, b in zip(s.cpu_ms, base.cpu_ms, strict=True))
    line = f"{s.name} / {base.name}: p50 {p50:4.2f}x  CPU/request {cpu:4.2f}x"
    for c in CLIENTS:
        ratios = [a / b for a, b in zip(s.rps[c], base.rps[c], strict=True)]
        line += (
            f"  throughput {c}c {statistics.median(ratios):4.2f}x "
            f"[{min(ratios):4.2f}–{max(ratios):4.2f}]"
        )
    return line


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench framework", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME=ENV", help="another platform"
    )
    asyncio.run(run(parser.parse_args(argv)))
