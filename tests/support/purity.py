"""What keeps tests/unit pure: no sockets, no processes, no servers (temporary files at most).

A Python audit hook (PEP 578) sees every socket bound or connected and every process started
in this interpreter; while a unit test runs (`watching`), each one is noted against it, and
the test fails at its teardown naming what it did: such a test belongs in tests/integration.
What a library does while it is being imported is not the test's doing (croniter runs
`file` to learn the architecture, urllib3 binds ::1 to learn whether IPv6 works), so events
under an import are let through.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

# audit event -> what the test did
IMPURE = {
    "socket.bind": "bound a socket",
    "socket.connect": "connected a socket",
    "subprocess.Popen": "started a process",
    "os.posix_spawn": "started a process",
    "os.fork": "forked",
    "os.exec": "ran another program",
}

_watched: list[list[str]] = []  # while a unit test runs: what it did, so far


def audit(event: str, args: tuple[Any, ...]) -> None:
    """The audit hook: notes an impure event against the unit test running, if any."""
    if event in IMPURE and _watched and not _importing(sys._getframe(1)):
        _watched[-1].append(f"{IMPURE[event]}: {event}{_describe(args)}")


@contextmanager
def watching() -> Iterator[list[str]]:
    """While the block runs, impure events are noted in the list it gives."""
    done: list[str] = []
    _watched.append(done)
    try:
        yield done
    finally:
        _watched.pop()


def install() -> None:
    """Once per interpreter: an audit hook cannot be removed, and watches only inside
    `watching` blocks."""
    if not getattr(sys, "_pywhisk_purity_hook", False):
        sys.addaudithook(audit)
        sys._pywhisk_purity_hook = True  # type: ignore[attr-defined]


def _importing(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _describe(args: tuple[Any, ...]) -> str:
    shown = repr(args[1]) if len(args) > 1 else repr(args)
    return f" {shown[:120]}"
