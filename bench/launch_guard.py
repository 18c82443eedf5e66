"""`python -m bench launch-guard`: what the parent-death guard costs a sandbox's launch.

    python -m bench launch-guard [--launches N] [--ballast MB]

The invoker launches each sandbox (bwrap, as a container's uid) from a spawn thread; the
guard (invoker/containers/launch.py) is a `preexec_fn`, which makes subprocess fork the
invoker instead of vfork-ing it, and holds the interpreter's lock across that fork. This
launches the same sandboxed `/bin/true` N times with the guard and N times without, in
turns, from one spawn thread, in a process made as large as an invoker (`--ballast` MB of
touched memory beside the imports), and prints per way the medians and quartiles of

- the fork: until Popen returns (the spawn thread's wait; the fork's page-table copy grows
  with the process),
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
    sandbox: Sandbox, scratch: Path, guard: Callable[[], None] | None
) -> tuple[float, float, float]:
    """ms until Popen returned, until bwrap exited, and the worst stall meanwhile."""
    command = sandbox.command(
        UID, UID, scratch / "proxy", scratch / "work", scratch / "opt", ["/bin/true"]
    )
    with Stalls() as stalls:
        began = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=scratch / "work",
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=guard,
            user=UID,
            group=UID,
            extra_groups=[],
        )
        forked = (time.perf_counter() - began) * 1000
        assert proc.wait() == 0
        done = (time.perf_counter() - began) * 1000
    return forked, done, stalls.worst


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
        ways: dict[str, Callable[[], None] | None] = {
            "guarded": dies_with(os.getpid()),
            "unguarded": None,
        }
        figures: dict[str, list[tuple[float, float, float]]] = {w: [] for w in ways}
        for i in range(args.launches):
            order = list(ways) if i % 2 == 0 else list(reversed(ways))
            for way in order:
                figures[way].append(launch(sandbox, scratch, ways[way]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rss = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    print(
        f"sandbox launches with and without the parent-death guard, {args.launches} each in "
        f"turns, process {rss >> 20} MB resident, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        "             fork ms p50 [q1, q3]     launch ms p50 [q1, q3]   worst stall ms p50 [q1, q3]"
    )
    for way, rows in figures.items():
        forks, launches, stalls = (list(column) for column in zip(*rows, strict=True))
        print(f"  {way:10} {spread(forks)}   {spread(launches)}   {spread(stalls)}")
    g, u = figures["guarded"], figures["unguarded"]
    for index, what in enumerate(("fork", "launch", "worst stall")):
        ratio = statistics.median(r[index] for r in g) / statistics.median(r[index] for r in u)
        print(f"  {what}: guarded/unguarded {ratio:4.2f}x")
    del ballast


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench launch-guard", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--launches", type=int, default=60)
    parser.add_argument("--ballast", type=int, default=100, help="MB to hold, as an invoker")
    run(parser.parse_args(argv))
