"""What the runtime token costs on the activation hop: warm /run through the invoker's own
client (`invoker.http1`) to two runtimes started alike, one asking for a token and one not.

    python -m bench.runtime_token [--runs 3000] [--rounds 5]

Rounds alternate between the two so that the machine's load hits both alike; the figure is
the ratio of the medians measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pywhisk.invoker.http1 import Http1Connection

REPO = Path(__file__).resolve().parents[1]
INIT = json.dumps(
    {
        "value": {
            "name": "noop",
            "main": "main",
            "binary": False,
            "code": "def main(a):\n    return {}\n",
        }
    }
).encode()
RUN = json.dumps({"value": {}, "activation_id": "0" * 32, "deadline": "9999999999999"}).encode()


def start(work: Path, token: str | None) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if k != "PYWHISK_RUNTIME_TOKEN"}
    env["PYTHONPATH"] = str(REPO)
    if token:
        env["PYWHISK_RUNTIME_TOKEN"] = token
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "action_runtime",
            "--language",
            "python",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,  # the sentinels every run writes
        stderr=subprocess.DEVNULL,
    )
    return proc, port


async def runs(conn: Http1Connection, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        status, _, _ = await conn.post("/run", RUN, 10)
        samples.append(time.perf_counter() - began)
        assert status == 200
    return samples


async def main(args: argparse.Namespace) -> None:
    token = "t" * 32
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        plain, plain_port = start(Path(a), None)
        guarded, guarded_port = start(Path(b), token)
        conns: dict[str, Http1Connection] = {}
        try:
            conns = {
                "no token": Http1Connection("127.0.0.1", plain_port, 1 << 20, lambda: True),
                "token": Http1Connection("127.0.0.1", guarded_port, 1 << 20, lambda: True, token),
            }
            for conn in conns.values():
                status, body, _ = await conn.post("/init", INIT, 10, retry=True)
                assert status == 200, body
            samples: dict[str, list[float]] = {name: [] for name in conns}
            for _ in range(args.rounds):
                for name, conn in conns.items():
                    samples[name] += await runs(conn, args.runs)
        finally:
            for conn in conns.values():
                conn.close()
            plain.terminate()
            guarded.terminate()
    p50 = {name: statistics.median(s) * 1000 for name, s in samples.items()}
    for name, value in p50.items():
        print(f"  warm /run p50, {name:8}  {value:.3f} ms")
    print(f"  token / no token: {p50['token'] / p50['no token']:.3f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
