"""Invoke latency, throughput and cold starts through the platform, against a direct /run.

    python -m bench [--requests N] [--seconds S] [--clients C] [--cold N] [--no-docker]

Starts real standalone servers (sandboxed process containers, the same without the sandbox
(`process://?sandbox=off`, the cost of isolation), and Docker containers when an engine
answers: bench/docker.py, beside process containers again, in turns) and, for the baseline, the same action runtime on its own; drives them with a
kept-alive aiohttp client from this process. On a 2-core machine the client competes with
the server for CPU. Figures are printed, never asserted: the targets live in the README.
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
from pathlib import Path
from typing import Any

import aiohttp

from bench.clients import percentile, sequential, throughput
from bench.platform import CODE, NOOP, platform, without_stem_cells


def start_direct_runtime(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    repo = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-E", "-s", str(repo / "action_runtime"), "--language", "python"]
    process = subprocess.Popen(
        [*command, "--listen-fd", str(sock.fileno())],
        cwd=work,
        pass_fds=[sock.fileno()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sock.close()
    return process, port


async def direct_figures(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The runtime alone: what the platform's overhead is measured against."""
    proc, port = start_direct_runtime(tmp)
    base = f"http://127.0.0.1:{port}"
    init = {"value": {"name": "noop", "main": "main", "code": NOOP, "binary": False, "env": {}}}
    body = {"value": {}, "activation_id": "0" * 32, "deadline": str(2**45)}
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            async with s.post(f"{base}/init", json=init) as r:
                assert r.status == 200, await r.text()
            await sequential(s, f"{base}/run", 200, body)
            latency = await sequential(s, f"{base}/run", args.requests, body)
            rps = await throughput(s, f"{base}/run", args.clients, args.seconds, body)
    finally:
        proc.terminate()
        proc.wait()
    return {"latency": latency, "rps": rps}


async def first_invokes(
    s: aiohttp.ClientSession, api: str, n: int, pause: float, memory: int | None = None
) -> list[float]:
    """Latency of the first invoke of `n` new actions; `pause` lets stem cells refill;
    `memory`: the actions' memory limit (the stem cells' is 256 MB)."""
    timings = []
    action = CODE if memory is None else {**CODE, "limits": {"memory": memory}}
    name = "cold" if memory is None else f"cold{memory}mb"
    for i in range(n):
        async with s.put(f"{api}/{name}{i}", json=action) as r:
            assert r.status == 200, await r.text()
        timings += await sequential(s, f"{api}/{name}{i}?blocking=true&result=true", 1, {})
        await asyncio.sleep(pause)
    return timings


async def warm_figures(
    s: aiohttp.ClientSession, api: str, args: argparse.Namespace, rps: bool
) -> dict[str, Any]:
    async with s.put(f"{api}/noop?overwrite=true", json=CODE) as r:
        assert r.status == 200, await r.text()
    url = f"{api}/noop?blocking=true&result=true"
    await sequential(s, url, 200, {})
    figures: dict[str, Any] = {"latency": await sequential(s, url, args.requests, {})}
    if rps:
        figures["rps"] = await throughput(s, url, args.clients, args.seconds, {})
        # Non-blocking: the 202 goes out once the activation is accepted (journaled, in
        # standalone); the runs go on behind. Fewer, so the runs' backlog stays short.
        accepted = f"{api}/noop"
        figures["accepted"] = await sequential(s, accepted, args.requests // 4, {}, status=202)
    return figures


async def web_figures(
    s: aiohttp.ClientSession, api: str, args: argparse.Namespace
) -> dict[str, Any]:
    """The same no-op as a web action (`.json`), called as a browser or webhook would."""
    web = {**CODE, "annotations": [{"key": "web-export", "value": True}]}
    async with s.put(f"{api}/noopweb?overwrite=true", json=web) as r:
        assert r.status == 200, await r.text()
    url = api.split("/api/v1/")[0] + "/api/v1/web/bench/default/noopweb.json"
    await sequential(s, url, 200, {})
    return {
        "latency": await sequential(s, url, args.requests, {}),
        "rps": await throughput(s, url, args.clients, args.seconds, {}),
    }


async def docker_available() -> bool:
    try:
        done = await asyncio.create_subprocess_exec(
            "docker", "info", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return await done.wait() == 0
    except FileNotFoundError:
        return False


def ms(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):6.2f} ms  p99 {percentile(samples, 0.99):6.2f} ms"


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        direct = await direct_figures(tmp, args)
        async with platform(tmp, "process") as (s, api):
            warm = await warm_figures(s, api, args, rps=True)
            web = await web_figures(s, api, args)
            stem = await first_invokes(s, api, args.cold, pause=0.3)
        async with platform(tmp, "process-cold", **without_stem_cells()) as (s, api):
            cold = await first_invokes(s, api, args.cold, pause=0.0)
        bare = {"PYWHISK_CONTAINERS_URL": "process://?sandbox=off"}
        async with platform(tmp, "unsandboxed", **bare) as (s, api):
            plain = await warm_figures(s, api, args, rps=True)
        cold_bare = without_stem_cells(bare["PYWHISK_CONTAINERS_URL"])
        async with platform(tmp, "unsandboxed-cold", **cold_bare) as (s, api):
            plain["cold"] = await first_invokes(s, api, args.cold, pause=0.0)
        docker = None
        if not args.no_docker and await docker_available():
            from bench import docker as docker_bench  # imports this module

            rounds = args.docker_rounds
            docker = await docker_bench.measure(
                tmp, rounds, args.requests // 4, max(1, args.cold // rounds)
            )

    p50 = statistics.median(warm["latency"])
    d50 = statistics.median(direct["latency"])
    print(
        f"no-op python action, {args.requests} sequential blocking invokes, {os.cpu_count()} cores"
    )
    print("process containers")
    print(f"  warm invoke       {ms(warm['latency'])}   (target p50 <= 2 ms)")
    print(
        f"  direct /run       {ms(direct['latency'])}   platform/direct p50 {p50 / d50:4.1f}x (target <= 5x)"
    )
    print(
        f"  throughput, {args.clients} clients: platform {warm['rps']:6.0f} invokes/s (target >= 1000), direct {direct['rps']:6.0f} runs/s"
    )
    print(
        f"  non-blocking 202  {ms(warm['accepted'])}   (accepted activations are journaled first)"
    )
    print(
        f"  web action (.json) {ms(web['latency'])}   {web['rps']:6.0f} requests/s with {args.clients} clients"
    )
    print(
        f"  first invoke, stem cell   p50 {statistics.median(stem):6.1f} ms over {len(stem)} new actions"
    )
    print(
        f"  cold start, no stem cell  p50 {statistics.median(cold):6.1f} ms (new container + /init + /run; target <= 100 ms)"
    )
    u50 = statistics.median(plain["latency"])
    cold_extra = statistics.median(cold) - statistics.median(plain["cold"])
    print("process containers without the sandbox (process://?sandbox=off), same run")
    print(
        f"  warm invoke       {ms(plain['latency'])}   sandboxed/unsandboxed p50 {p50 / u50:4.2f}x"
    )
    print(
        f"  throughput, {args.clients} clients: {plain['rps']:6.0f} invokes/s   sandboxed/unsandboxed {warm['rps'] / plain['rps']:4.2f}x (budget >= 0.90x)"
    )
    print(
        f"  cold start, no stem cell  p50 {statistics.median(plain['cold']):6.1f} ms   sandbox adds {cold_extra:+5.1f} ms (budget <= 5 ms)"
    )
    if docker is None:
        print("docker containers: skipped (no Docker engine answers `docker info`)")
        return
    from bench import docker as docker_bench

    docker_bench.report(docker, args.requests // 4)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--no-docker", action="store_true", help="process containers only")
    parser.add_argument(
        "--docker-rounds", type=int, default=4, help="rounds of the Docker part (bench/docker.py)"
    )
    asyncio.run(run(parser.parse_args()))
