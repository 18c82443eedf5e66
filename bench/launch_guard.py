"""`python -m bench launch-guard`: what the parent-death guard costs a sandbox's launch.

    python -m bench launch-guard [--launches N] [--ballast MB]

The invoker launches each sandbox (bwrap) from a spawn thread; the guard
(invoker/containers/launch.py) is a `preexec_fn`, which holds the interpreter's lock across
the fork and runs Python in the child. Launched as a container's own uid (an invoker run as
root), subprocess forks either way (it never vforks to change uid); as the invoker's own
user (not root: one uid for all), the guard turns a vfork into a fork, whose page-table copy
grows with the invoker. This launches the same sandboxed `/bin/true` N times each way (with
and without the guard, as a uid of its own and as ourselves), in turns, in a process made as
large as an invoker (`--ballast` MB of touched memory beside the imports), and prints per
way the medians and quartiles of

- the spawn: until Popen returns, once the child has exec'd bwrap (the spawn thread's wait;
  a fork's page-table copy grows with the process, a vfork has none),
- the launch: until the sandbox's `/bin/true` has run and bwrap exited,
- the longest stall a thread of the event loop's saw meanwhile (it wakes every 0.5 ms): what
  holding the interpreter's lock across the fork costs everything else in the process,

with the ratios of the guarded to the unguarded, and the load average. Run as root.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pywhisk.invoker.containers.launch import dies_with
from pywhisk.invoker.containers.sandbox import Sandbox, detect

UID = 1_400_000  # outside every invoker's pool: bench/ runs beside servers


class Stalls:
    """A thread that wakes every 0.5 ms and keeps the longest lateness it saw."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def _tick(self) -> None:
        while not self._stop.is_set():
            began = time.perf_counter()
            time.sleep(0.0005)
            self.worst = max(self.worst, (time.perf_counter() - began) * 1000 - 0.5)

    def __enter__(self) -> Stalls:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def launch(
    sandbox: Sandbox, scratch: Path, guard: Callable[[], None] | None, own_uid: bool
) -> tuple[float, float, float]:
    """ms until Popen returned (bwrap exec'd), until bwrap exited, and the worst stall."""
    uid = UID if own_uid else os.getuid()
    command = sandbox.command(
        uid, uid, scratch / "proxy", scratch / "work", scratch / "opt", ["/bin/true"]
    )
    ids: dict[str, Any] = {"user": UID, "group": UID, "extra_groups": []} if own_uid else {}
    with Stalls() as stalls:
        began = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=scratch / "work",
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=guard,
            **ids,
        )
        spawned = (time.perf_counter() - began) * 1000
        assert proc.wait() == 0
        done = (time.perf_counter() - began) * 1000
    return spawned, done, stalls.worst


def spread(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=4) if len(samples) > 1 else [samples[0]] * 3
    return f"{statistics.median(samples):7.2f} [{q[0]:6.2f}, {q[2]:6.2f}]"


def run(args: argparse.Namespace) -> None:
    ballast = bytearray(args.ballast * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1  # resident, as an invoker's heap is
    scratch = Path(tempfile.mkdtemp(prefix="pywhisk-bench-guard-"))
    try:
        scratch.chmod(0o711)
        for name in ("proxy", "work", "opt"):
            (scratch / name).mkdir()
        os.chown(scratch / "work", UID, UID)
        python = shutil.which("python3", path="/usr/bin:/bin") or "python3"
        sandbox = detect("/usr/bin:/bin", python, True, UID, scratch / "probe")
        guard = dies_with(os.getpid())
        ways: dict[str, tuple[Callable[[], None] | None, bool]] = {
            "own uid, guarded": (guard, True),
            "own uid, unguarded": (None, True),
            "our uid, guarded": (guard, False),
            "our uid, unguarded": (None, False),
        }
        figures: dict[str, list[tuple[float, float, float]]] = {w: [] for w in ways}
        for i in range(args.launches):
            order = list(ways) if i % 2 == 0 else list(reversed(ways))
            for way in order:
                figures[way].append(launch(sandbox, scratch, *ways[way]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rss = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    print(
        f"sandbox launches with and without the parent-death guard, {args.launches} each in "
        f"turns, process {rss >> 20} MB resident, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        "                       spawn ms p50 [q1, q3]    launch ms p50 [q1, q3]"
        "    worst stall ms p50 [q1, q3]"
    )
    for way, rows in figures.items():
        spawns, launches, stalls = (list(column) for column in zip(*rows, strict=True))
        print(f"  {way:20} {spread(spawns)}   {spread(launches)}   {spread(stalls)}")
    for uid in ("own uid", "our uid"):
        g, u = figures[f"{uid}, guarded"], figures[f"{uid}, unguarded"]
        ratios = [
            statistics.median(r[i] for r in g) / statistics.median(r[i] for r in u)
            for i in range(3)
        ]
        print(
            f"  {uid}: guarded/unguarded spawn {ratios[0]:4.2f}x, launch {ratios[1]:4.2f}x, "
            f"worst stall {ratios[2]:4.2f}x"
        )
    del ballast


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench launch-guard", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--launches", type=int, default=60)
    parser.add_argument("--ballast", type=int, default=100, help="MB to hold, as an invoker")
    run(parser.parse_args(argv))
