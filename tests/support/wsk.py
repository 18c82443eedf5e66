"""The real `wsk` as the end-to-end tests run it (the `wsk` fixture of tests/conftest.py: the
installed command in a subprocess, pointed at the session's server), and what several test
modules read from its output."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

# wsk("action", "invoke", "hello", check=False, cwd=..., input=...): the finished process.
Wsk = Callable[..., subprocess.CompletedProcess[str]]

# "ok: invoked /_/hello with id 0123…": the id wsk prints for an activation it started.
ACTIVATION_ID = re.compile(r"with id ([0-9a-f]{32})$", re.MULTILINE)

ECHO = "def main(args):\n    return args\n"


def echo_action(wsk: Wsk, tmp_path: Path) -> None:
    """An action `echo` that answers with its parameters, created with `wsk action create`."""
    path = tmp_path / "echo.py"
    path.write_text(ECHO)
    wsk("action", "create", "echo", str(path))


def split_feed_failure(stderr: str) -> tuple[dict[str, Any], str]:
    """When a feed action refuses, wsk prints the feed's activation, then its error line:
    (that activation, the error line)."""
    shown, _, error = stderr.rstrip("\n").rpartition("\n")
    return json.loads(shown), error
