"""The API gateway's cost: a route (`/api/<uuid>/b/x`) against the same web action called at
its own URL (`/api/v1/web/<ns>/default/noop.json`), on one standalone server.

    python -m bench apigw [--requests N] [--seconds S] [--clients C] [--rounds R]

Both run the same warm Python action; the difference is the gateway's work: one cached
read of the namespace's APIs, matching the route, the extra headers. Figures are printed
with the gateway's ratio to the web action's, measured in the same run (medians of rounds
that alternate between the two).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

import aiohttp

from bench.clients import percentile, sequential, session_for, throughput
from bench.platform import LIMITS, NOOP
from tests.support.server import StandaloneServer


async def _setup(s: aiohttp.ClientSession, base: str, namespace: str) -> tuple[str, str]:
    action = {
        "exec": {"kind": "python:3.11", "code": NOOP},
        "annotations": [{"key": "web-export", "value": True}],
    }
    async with s.put(f"{base}/api/v1/namespaces/_/actions/noop", json=action) as r:
        assert r.status == 200, await r.text()
    apidoc = {
        "namespace": "_",
        "gatewayBasePath": "/b",
        "gatewayPath": "/x",
        "gatewayMethod": "POST",
        "action": {
            "name": "noop",
            "namespace": "_",
            "backendMethod": "POST",
            "backendUrl": f"{base}/api/v1/web/_/default/noop.http",
            "authkey": "-",
        },
    }
    async with s.post(
        f"{base}/api/v1/web/whisk.system/apimgmt/createApi.http",
        params={"responsetype": "json"},
        json={"apidoc": apidoc},
    ) as r:
        assert r.status == 200, await r.text()
        route = (await r.json())["gwApiUrl"] + "/x"
    return f"{base}/api/v1/web/{namespace}/default/noop.json", route


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = StandaloneServer(Path(tmp) / "server")
        await asyncio.to_thread(server.start, 120.0)
        try:
            ns = await asyncio.to_thread(server.create_namespace, "bench", **LIMITS)
            async with session_for(ns.auth) as s:
                web, route = await _setup(s, server.url, ns.namespace)
            samples: dict[str, list[tuple[float, float, float]]] = {
                "web action": [],
                "API route": [],
            }
            # anonymous callers, as browsers and webhooks are; rounds alternate, so a load
            # spike from elsewhere on the machine hits both alike
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
                await sequential(s, web, 100, {})
                await sequential(s, route, 100, {})
                for _ in range(args.rounds):
                    for name, url in (("web action", web), ("API route", route)):
                        latency = await sequential(s, url, args.requests, {})
                        rps = await throughput(s, url, args.clients, args.seconds, {})
                        p50, p99 = statistics.median(latency), percentile(latency, 0.99)
                        samples[name].append((p50, p99, rps))
            figures = {
                name: tuple(statistics.median(column) for column in zip(*rows, strict=True))
                for name, rows in samples.items()
            }
        finally:
            await asyncio.to_thread(server.stop)
    base_p50, _, base_rps = figures["web action"]
    for name, (p50, p99, rps) in figures.items():
        print(
            f"{name:<11} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  {rps:7.0f} req/s "
            f"({args.clients} clients)  p50 x{p50 / base_p50:.2f}  req/s x{rps / base_rps:.2f}"
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench apigw")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(run(parser.parse_args(argv)))
