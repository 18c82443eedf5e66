"""`python -m bench queue` with tiny counts: it starts tansu, runs both Kafka clients in
turns and prints a row per figure with both clients' medians and their ratio. Figures
are not checked: only that the bench runs end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_queue_bench_prints_both_clients() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "queue",
            "--messages",
            "5",
            "--burst",
            "5",
            "--rounds",
            "2",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for row in ("send to delivery p50", "CPU µs per message, one by one"):
        figures = rf"^{row}.*\([\d.]+-[\d.]+\).*\([\d.]+-[\d.]+\)\s+[\d.]+x$"
        assert re.search(figures, done.stdout, re.MULTILINE), (row, done.stdout)
