"""Churn: whisk internal errors and throughput with many actions sharing a small pool.

    python -m bench.churn [--seconds S] [--actions N] [--clients C]

Starts a real standalone server (process containers, pause grace 1 s), creates N small
actions in Python, PHP and Node.js (256 MB each, so the default 2 GB pool holds 8), and
has C client threads invoke them blocking with Zipf-like weights for S seconds. The
baseline, measured in the same run, is the same clients invoking one warm action. Printed:
invokes, invokes/s and their ratio to the baseline, and every whisk internal error with
the server's log line for it. Before invoker/containers/pipes.py, 2,161-2,452 invokes
in 240-300 s ended with 1-3 "Failed to provision resources" errors.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from tests.support import churn
from tests.support.server import StandaloneServer

LIMITS = {"invocationsPerMinute": 1_000_000, "concurrentInvocations": 100_000}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.churn")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--actions", type=int, default=60)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="churn") as tmp:
        server = StandaloneServer(Path(tmp) / "server", env={"PYWHISK_PAUSE_GRACE": "1"})
        server.start(120)
        try:
            ident = server.create_namespace("churn", **LIMITS)
            uuid, _, key = ident.auth.partition(":")

            def connect() -> httpx.Client:
                return httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=120)

            with connect() as api:
                names = churn.create_actions(api, args.actions, memory=256)
            baseline_seconds = min(30.0, args.seconds / 4)
            base = churn.run(connect, names[:1], args.clients, baseline_seconds)
            started = time.monotonic()
            result = churn.run(connect, names, args.clients, args.seconds)
            elapsed = time.monotonic() - started
            log = server.log()
        finally:
            server.stop()
    base_rate = base.invokes / baseline_seconds
    rate = result.invokes / elapsed
    print(f"one warm action : {base.invokes:6d} invokes, {base_rate:7.1f}/s (baseline)")
    print(
        f"{args.actions} actions churn: {result.invokes:6d} invokes, {rate:7.1f}/s "
        f"({rate / base_rate:.2f}x baseline), by language {dict(result.kinds)}"
    )
    print(f"failures: {len(result.failures)}  statuses: {dict(result.statuses)}")
    for status, body in result.failures[:20]:
        print(f"  {status} {body[:300]}")
    for line in log.splitlines():
        if "whisk internal error" in line:
            print(f"  log: {line}")


if __name__ == "__main__":
    main()
