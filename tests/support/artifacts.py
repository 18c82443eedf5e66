"""Files a test leaves for people to look at (the dashboard's screenshots): kept after the
run, unlike pytest's temporary directories, in `PYWHISK_TEST_ARTIFACTS` or else
`test-artifacts/` at the top of the checkout (ignored by git), one folder per test."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def artifact_dir(test_name: str) -> Path:
    root = Path(os.environ.get("PYWHISK_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder = root / re.sub(r"[^\w.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
