"""What the Lambda Runtime API costs on a warm activation: /run through the invoker's own
client (`invoker.http1`) to a Python action (the baseline) and to a `provided` action whose
bootstrap is a minimal Python Runtime API loop (stdlib urllib, one request per call, as the
simplest custom runtimes are), both started alike; and /init (the cold part each adds).

    python -m bench.lambda_runtime [--runs 1000] [--rounds 5]

Rounds alternate between the two so that the machine's load hits both alike; the figures
are ratios of medians measured in this run. On the shared 2-core development machine:
warm /run p50 0.28 ms (python) against 2.2 ms (provided), 7.7x, most of it the bootstrap's
own urllib round trips (a fresh connection for each of its two calls); /init 670 against
920 ms, the bootstrap's interpreter starting after /init where a launcher starts before.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from pywhisk.invoker.http1 import Http1Connection

REPO = Path(__file__).resolve().parents[1]

BOOTSTRAP = """#!/usr/bin/python3 -s
import os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as event:
        rid = event.headers["Lambda-Runtime-Aws-Request-Id"]
        event.read()
    urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=b"{}")).read()
"""


def provided_code() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, BOOTSTRAP)
    return base64.b64encode(buffer.getvalue()).decode()


INITS = {
    "python": {"name": "noop", "main": "main", "code": "def main(a):\n    return {}\n"},
    "provided": {"name": "noop", "main": "h", "binary": True, "code": provided_code()},
}
RUN = json.dumps({"value": {}, "activation_id": "0" * 32, "deadline": "9999999999999"}).encode()


def start(work: Path, language: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "action_runtime",
            "--language",
            language,
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
    procs, conns, init_ms = [], {}, {}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        try:
            for language, work in (("python", a), ("provided", b)):
                proc, port = start(Path(work), language)
                procs.append(proc)
                conn = Http1Connection("127.0.0.1", port, 1 << 20, lambda: True)
                conns[language] = conn
                body = json.dumps({"value": INITS[language]}).encode()
                began = time.perf_counter()
                status, reply, _ = await conn.post("/init", body, 30, retry=True)
                init_ms[language] = (time.perf_counter() - began) * 1000
                assert status == 200, reply
            samples: dict[str, list[float]] = {name: [] for name in conns}
            for _ in range(args.rounds):
                for name, conn in conns.items():
                    samples[name] += await runs(conn, args.runs)
        finally:
            for conn in conns.values():
                conn.close()
            for proc in procs:
                proc.terminate()
    p50 = {name: statistics.median(s) * 1000 for name, s in samples.items()}
    for name, value in p50.items():
        print(f"  warm /run p50, {name:8}  {value:.3f} ms   (/init {init_ms[name]:.0f} ms)")
    print(f"  provided / python, warm: {p50['provided'] / p50['python']:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
