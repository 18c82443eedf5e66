"""`python -m bench sandbox` with one tiny round: its servers start, every one is measured and
the verdict against the budget is printed. Figures are not checked (they are the machine's):
only that the bench runs end to end and says what it measured."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.prerequisites import program, require

REPO = Path(__file__).resolve().parents[2]


def test_sandbox_bench_prints_each_server_and_the_budget() -> None:
    require(os.geteuid() == 0, "sandboxed servers with cgroups and spare sandboxes run as root")
    program("bwrap", "bubblewrap")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "sandbox", "--rounds", "1", "--seconds", "0.5"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = done.stdout
    for name in ("sandboxed", "unsandboxed"):
        assert re.search(rf"^  {name}\s+p50\s+\d+\s+\[", out, re.MULTILINE), out
    assert re.search(r"^  no spares\s+p50\s+[\d.]+\s+\[q1", out, re.MULTILINE), out
    assert re.search(
        r"^sandboxed/unsandboxed warm throughput [\d.]+x \(budget >= 0\.90x\); the sandbox "
        r"adds [-+][\d.]+ ms to a cold start \(budget <= 5 ms\)$",
        out,
        re.MULTILINE,
    ), out
