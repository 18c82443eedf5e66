"""Churn: many actions sharing a pool, under the pool's former policy and today's.

    python -m bench.churn [--seconds S] [--actions N] [--clients C] [--rounds R]
                          [--policies former,new]

For each round and each policy in turns (`bench/burst.py`'s `POLICIES`: OpenWhisk's
reservations with LRU eviction, and the measured budget with idle-time histograms), a real
standalone server (process containers, pause grace 1 s), N small actions in Python, PHP and
Node.js (256 MB each: the former policy's 2 GB pool holds 8), and C client threads invoking
them blocking with Zipf-like weights for S seconds. The baseline, measured in the same run,
is the same clients invoking one warm action. Printed per run: invokes/s and their ratio to
the baseline, p50 and p99, and every whisk internal error with the server's log line for it.
Before invoker/containers/pipes.py, 2,161-2,452 invokes in 240-300 s ended with 1-3 "Failed
to provision resources" errors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.burst import start_server
from bench.clients import percentile
from tests.support import churn

LIMITS = {"invocationsPerMinute": 1_000_000, "concurrentInvocations": 100_000}


def one_run(policy: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="churn") as tmp:
        server = start_server(Path(tmp) / "server", policy, {"PYWHISK_PAUSE_GRACE": "1"})
        try:
            ident = server.create_namespace("churn", **LIMITS)
            uuid, _, key = ident.auth.partition(":")

            def connect() -> httpx.Client:
                return httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=120)

            with connect() as api:
                names = churn.create_actions(api, args.actions, memory=256)
            baseline_seconds = min(10.0, args.seconds / 4)
            base = churn.run(connect, names[:1], args.clients, baseline_seconds)
            started = time.monotonic()
            result = churn.run(connect, names, args.clients, args.seconds)
            elapsed = time.monotonic() - started
            log = server.log()
        finally:
            server.stop()
    base_rate = base.invokes / baseline_seconds
    rate = result.invokes / elapsed
    lat = result.latencies
    print(
        f"{policy:6s} {args.actions} actions: {result.invokes:6d} invokes, {rate:7.1f}/s "
        f"({rate / base_rate:.2f}x one warm action's {base_rate:.1f}/s), "
        f"p50 {statistics.median(lat):6.1f} ms, p99 {percentile(lat, 0.99):6.1f} ms, "
        f"load {os.getloadavg()[0]:.1f}, failures {len(result.failures)}",
        flush=True,
    )
    for status, body in result.failures[:20]:
        print(f"  {status} {body[:300]}")
    for line in log.splitlines():
        if "whisk internal error" in line:
            print(f"  log: {line}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.churn")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--actions", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--policies", default="former,new")
    args = parser.parse_args(argv)
    for _ in range(args.rounds):
        for policy in args.policies.split(","):
            one_run(policy, args)


if __name__ == "__main__":
    main()
