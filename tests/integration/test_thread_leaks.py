"""The test session's guard against threads that keep the process from exiting: a run whose
test leaves one fails, names the test, and ends, instead of hanging after its summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

LEAKY = """
import threading

def test_leaves_a_thread():
    threading.Thread(target=threading.Event().wait, name="forever").start()

def test_tidy():
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
"""

TIDY = """
import threading, time

def test_a_thread_that_ends_soon():
    threading.Thread(target=time.sleep, args=(0.5,), name="brief").start()
"""


def run_inner(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "tests.support.thread_leaks", "-c", str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_leftover_thread_fails_the_run_and_names_its_test(tmp_path: Path) -> None:
    done = run_inner(tmp_path, LEAKY)
    assert "2 passed" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    assert "forever, started during test_inner.py::test_leaves_a_thread" in done.stderr
    assert "outlived the tests" in done.stderr


def test_threads_that_end_by_themselves_pass(tmp_path: Path) -> None:
    done = run_inner(tmp_path, TIDY)
    assert done.returncode == 0, done.stdout + done.stderr
