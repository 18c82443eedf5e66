"""`python -m bench cluster` with tiny counts: it starts every part it needs (standalone,
tansu, pouchdb-server, a controller, one then two invokers) and prints figures for all three
setups. Figures are not checked: only that the bench runs end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_cluster_bench_prints_a_row_per_setup() -> None:
    tiny = ["--requests", "5", "--seconds", "0.2", "--warmup", "2", "--clients", "2"]
    tiny += ["--split", "3", "--idle", "0.2", "--quiet", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "bench", "cluster", *tiny],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    number = r"\s+[\d,.]+"
    for label in ("standalone", "cluster, 1 invoker", "cluster, 2 invokers"):
        figures = rf"^{label}\s+[\d.]+{number}{number}x{number}{number}x$"
        assert re.search(figures, done.stdout, re.MULTILINE), (label, done.stdout)
    assert "tansu up at" in done.stderr and "pouchdb-server up at" in done.stderr
