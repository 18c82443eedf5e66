"""`python -m bench cli --runs 1`: it starts its server, runs every command and prints a row
for each. Figures are not checked: only that the bench runs end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_cli_bench_prints_a_row_per_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "cli", "--runs", "1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    figures = r"\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+$"
    for label in ("wsk property get", "wsk --help", "wsk action list", "python -c pass"):
        assert re.search(rf"^{re.escape(label)}{figures}", done.stdout, re.MULTILINE), done.stdout
