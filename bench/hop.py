"""`python -m bench hop`: the invoker → runtime hop over TCP (the baseline) and over a Unix
socket (sandboxed process containers), same runtime code, same client, same run.

    python -m bench hop [--requests N] [--rounds R]

Starts one action runtime per transport, each with an already listening socket (as the
process container factory hands it down), and sends N sequential no-op /run requests through
`invoker.http1.Http1Connection`, alternating transports for R rounds so that a change in the
machine's load hits both. Prints the client's CPU time and the wall time per request.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pywhisk.common import eventloop
from pywhisk.invoker.http1 import Http1Connection

NOOP = "def main(args):\n    return {}\n"
RUNTIME = Path(__file__).resolve().parent.parent / "action_runtime"


def start(sock: socket.socket, work: Path) -> subprocess.Popen[bytes]:
    sock.listen(64)
    command = [sys.executable, "-E", "-s", str(RUNTIME), "--language", "python"]
    process = subprocess.Popen(
        [*command, "--listen-fd", str(sock.fileno())],
        cwd=work,
        pass_fds=[sock.fileno()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sock.close()
    return process


async def drive(conn: Http1Connection, n: int) -> tuple[float, float]:
    """(client CPU µs, wall µs) per request over n sequential /run requests."""
    body = json.dumps({"value": {}, "activation_id": "0" * 32, "deadline": "0"}).encode()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        status, _, _ = await conn.post("/run", body, 10)
        assert status == 200
    return (time.process_time() - cpu) * 1e6 / n, (time.perf_counter() - wall) * 1e6 / n


async def run(args: argparse.Namespace) -> None:
    init = json.dumps(
        {"value": {"name": "noop", "main": "main", "code": NOOP, "binary": False, "env": {}}}
    ).encode()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        tcp = socket.socket()
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
        unix = socket.socket(socket.AF_UNIX)
        unix.bind(str(tmp / "sock"))
        (tmp / "tcp").mkdir()
        (tmp / "unix").mkdir()
        procs = [start(tcp, tmp / "tcp"), start(unix, tmp / "unix")]
        conns = {
            "tcp": Http1Connection("127.0.0.1", port, 1 << 20),
            "unix": Http1Connection("localhost", 0, 1 << 20, unix_path=str(tmp / "sock")),
        }
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in conns}
        try:
            for conn in conns.values():
                status, _, _ = await conn.post("/init", init, 10, retry=False)
                assert status == 200
                await drive(conn, 200)  # warm-up
            for _ in range(args.rounds):
                for name, conn in conns.items():
                    figures[name].append(await drive(conn, args.requests))
        finally:
            for conn in conns.values():
                conn.close()
            for proc in procs:
                proc.terminate()
                proc.wait()
    cpu = {name: statistics.median(f[0] for f in rows) for name, rows in figures.items()}
    wall = {name: statistics.median(f[1] for f in rows) for name, rows in figures.items()}
    print(f"invoker → runtime hop, {args.requests} sequential no-op /run × {args.rounds} rounds")
    for name in conns:
        print(
            f"  {name:5} client CPU {cpu[name]:6.1f} µs/request   wall {wall[name]:6.1f} µs/request"
        )
    print(
        f"  unix/tcp: client CPU {cpu['unix'] / cpu['tcp']:4.2f}x, wall {wall['unix'] / wall['tcp']:4.2f}x"
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench hop", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    eventloop.run(run(parser.parse_args(argv)))  # the invoker's loop: uvloop when installed
