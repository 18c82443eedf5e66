"""The guard that keeps tests/unit pure (tests/support/purity.py) sees what a test does, and
lets a library's import-time probes through. Each check runs inside a `watching` block of its
own, so that what it does on purpose is noted there and not against this test."""

from __future__ import annotations

import importlib
import socket
import sys
from pathlib import Path

import pytest

from tests.support import purity


def test_a_bound_socket_is_noted() -> None:
    with purity.watching() as done, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
    assert done == ["bound a socket: socket.bind ('127.0.0.1', 0)"]


def test_what_a_module_does_while_imported_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "probing_library.py").write_text(
        "import socket\nwith socket.socket() as s:\n    s.bind(('127.0.0.1', 0))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "probing_library", raising=False)
    with purity.watching() as done:
        importlib.import_module("probing_library")
    assert done == []


def test_a_process_started_is_noted_and_other_events_are_not() -> None:
    with purity.watching() as done:
        purity.audit("subprocess.Popen", ("/bin/true", ["/bin/true"], None, None))
        purity.audit("os.listdir", ("/",))  # not impure
    assert done == ["started a process: subprocess.Popen ['/bin/true']"]
