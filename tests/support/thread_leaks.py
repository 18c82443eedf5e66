"""A pytest plugin: threads that would keep the test process from exiting fail the run.

Python's exit joins every non-daemon thread, so one left running (an aiosqlite connection
never closed, a worker blocked on a socket) hangs the process after the last test has
passed: the run prints its summary and never ends. Each such thread is remembered with the
test during which it started; at the session's end any still alive (after a short grace)
are named with that test and their stacks, the run fails, and the process exits at once
rather than hang."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator

import pytest

GRACE = 5.0  # seconds a thread that is shutting down gets to end by itself

_started_during: dict[threading.Thread, str] = {}
_exit_status: int | None = None


def _lasting() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    for thread in _lasting():
        if thread not in before:
            _started_during.setdefault(thread, item.nodeid)


def _describe(thread: threading.Thread) -> str:
    where = _started_during.get(thread, "outside any test (collection or a session fixture)")
    frame = sys._current_frames().get(thread.ident or -1)
    stack = "".join(traceback.format_stack(frame)) if frame is not None else ""
    return f"{thread.name}, started during {where}\n{stack}"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    deadline = time.monotonic() + GRACE
    for thread in _lasting():
        thread.join(max(0.0, deadline - time.monotonic()))
    left = _lasting()
    if not left:
        return
    report = "\n".join(_describe(t) for t in left)
    sys.stderr.write(
        f"\n{len(left)} non-daemon thread(s) outlived the tests; the process could not exit:\n"
        f"{report}\n"
    )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    _exit_status = int(session.exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _exit_status is not None:  # joining those threads would wait forever
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
