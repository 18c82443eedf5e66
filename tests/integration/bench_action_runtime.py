"""Direct-to-runtime figures: cold start to first /init answer, and warm /run latency.

    python tests/integration/bench_action_runtime.py [--runs 20000] [--starts 10]

Starts the proxy as the process-container factory does (Debian's python3 -E -s, a listening
socket inherited through --listen-fd, a fresh work dir) and talks to it over one kept-alive
TCP connection with a plain blocking socket, so the client adds as little as possible.
Not collected by pytest; the figures go in reports, and are the baseline bench/ compares to.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "action_runtime"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
NOOP = {
    "python": "def main(args):\n    return {}\n",
    "php": "<?php\nfunction main(array $args): array { return []; }\n",
    "nodejs": "function main(args) { return {}; }\n",
}
RUN_BODY = json.dumps(
    {
        "value": {"name": "bench"},
        "namespace": "guest",
        "action_name": "/guest/noop",
        "action_version": "0.0.1",
        "activation_id": "0" * 32,
        "transaction_id": "tid",
        "deadline": "1700000060000",
    }
).encode()


class Connection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = f"POST {path} HTTP/1.1\r\nHost: r\r\nContent-Length: {len(body)}\r\n\r\n"
        self.sock.sendall(head.encode() + body)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(1 << 20)
        head_bytes, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head_bytes.split(b"\r\n")
        length = next(int(x.split(b":")[1]) for x in lines if x.lower().startswith(b"content-l"))
        while len(self.buffer) < length:
            self.buffer += self.sock.recv(1 << 20)
        payload, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(lines[0].split()[1]), payload

    def close(self) -> None:
        self.sock.close()


def start(language: str, work_dir: str) -> tuple[subprocess.Popen[bytes], int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    fd = listener.fileno()
    argv = [PYTHON, "-E", "-s", str(RUNTIME_DIR), "--language", language, "--listen-fd", str(fd)]
    # A container's environment, not this shell's: e.g. NODE_EXTRA_CA_CERTS alone makes every
    # node start parse a CA bundle, 60 ms here.
    env = {"PATH": os.environ["PATH"], "__OW_API_HOST": "https://localhost"}
    proc = subprocess.Popen(
        argv,
        cwd=work_dir,
        env=env,
        pass_fds=(fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = listener.getsockname()[1]
    listener.close()
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


def cold_start(language: str) -> tuple[float, float]:
    """Seconds from spawning the proxy to the /init answer, and to the first /run answer."""
    with tempfile.TemporaryDirectory() as work_dir:
        t0 = time.perf_counter()
        proc, port = start(language, work_dir)
        conn = Connection(port)  # accepted into the backlog at once: no polling
        init_body = json.dumps({"value": {"main": "main", "code": NOOP[language]}}).encode()
        status, _ = conn.post("/init", init_body)
        t_init = time.perf_counter() - t0
        assert status == 200
        status, _ = conn.post("/run", RUN_BODY)
        t_run = time.perf_counter() - t0
        assert status == 200
        conn.close()
        stop(proc)
    return t_init, t_run


def warm_runs(language: str, runs: int, body: bytes = RUN_BODY) -> list[float]:
    with tempfile.TemporaryDirectory() as work_dir:
        proc, port = start(language, work_dir)
        conn = Connection(port)
        init_body = json.dumps({"value": {"main": "main", "code": NOOP[language]}}).encode()
        assert conn.post("/init", init_body)[0] == 200
        for _ in range(min(1000, runs)):  # warm up both sides
            conn.post("/run", body)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            status, _ = conn.post("/run", body)
            times.append(time.perf_counter() - t)
            assert status == 200
        conn.close()
        stop(proc)
    return times


def percentile(sorted_times: list[float], q: float) -> float:
    return sorted_times[min(len(sorted_times) - 1, int(len(sorted_times) * q))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20000)
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--languages", default="python,php,nodejs")
    args = parser.parse_args()
    for language in args.languages.split(","):
        starts = [cold_start(language) for _ in range(args.starts)]
        init_ms = statistics.median(s[0] for s in starts) * 1e3
        run_ms = statistics.median(s[1] for s in starts) * 1e3
        times = sorted(warm_runs(language, args.runs))
        us = [percentile(times, q) * 1e6 for q in (0.5, 0.9, 0.99)]
        print(
            f"{language:7} cold: spawn->/init {init_ms:5.1f} ms, ->first /run {run_ms:5.1f} ms"
            f" (median of {args.starts}) | warm no-op /run: p50 {us[0]:.0f} us, p90 {us[1]:.0f}"
            f" us, p99 {us[2]:.0f} us, {len(times) / sum(times):.0f} req/s"
        )


if __name__ == "__main__":
    main()
