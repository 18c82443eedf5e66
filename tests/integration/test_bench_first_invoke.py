"""`python -m bench first-invoke` with two new actions and a baseline (this checkout itself):
both servers start, each first invoke's steps are timed by the server, and the ratio to the
baseline is printed. Figures are not checked (they are the machine's): only that the bench
runs end to end and says, step by step, where a first invoke's time went."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.prerequisites import program, require

REPO = Path(__file__).resolve().parents[2]


def test_first_invoke_bench_times_each_step_beside_a_baseline() -> None:
    require(os.geteuid() == 0, "sandboxed process containers with cgroups run as root")
    program("bwrap", "bubblewrap")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "first-invoke",
            "--actions",
            "2",
            "--warm",
            "1",
            "--settle",
            "0.3",
            "--baseline",
            str(REPO),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = done.stdout
    for name in ("today", "former"):
        assert re.search(rf"^{name} \(", out, re.M), out
    assert re.search(r"^  client, first invoke  p50\s+[\d.]+ \[", out, re.M), out
    for step in ("c.lane → c.auth", "i.handle → i.prepared", "i.acquired → i.init"):
        assert re.search(rf"^  {re.escape(step)}\s+[\d.]+ \[", out, re.M), out
    assert re.search(r"^first invoke p50, today / former: [\d.]+x$", out, re.M), out
