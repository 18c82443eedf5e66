"""`python -m bench cold-start` with one start per language: both factories start, every
language is measured booted and not, and the ratio is printed. Figures are not checked
(they are the machine's): only that the bench runs end to end and says what it measured."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.prerequisites import program, require

REPO = Path(__file__).resolve().parents[2]


def test_cold_start_bench_prints_both_paths_per_language() -> None:
    require(os.geteuid() == 0, "sandboxed factories with cgroups and spare sandboxes run as root")
    program("bwrap", "bubblewrap")
    for command in ("node", "php"):
        program(command, command)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "cold-start", "--starts", "1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = done.stdout
    for language in ("python", "nodejs", "php"):
        for name in ("booted", "not booted"):
            assert re.search(
                rf"^  {language}\s+{name}\s+create\+/init\+/run p50\s+[\d.]+ \[q1", out, re.M
            ), out
        assert re.search(rf"^  {language}\s+booted/not booted\s+[\d.]+x$", out, re.M), out
