"""Who owns a container: `host/pid/start time` of the invoker process that made it, so a
live invoker's containers are never taken for a crashed one's leftovers (a recycled pid has
another start time)."""

from __future__ import annotations

import socket


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot: with the pid, it names a process
    uniquely (a recycled pid has another start time)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[19].decode()
    except (OSError, IndexError):
        return ""


def owner_of(pid: int) -> str:
    return f"{socket.gethostname()}/{pid}/{start_time(pid)}"


def owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition("/")
    pid, _, started = rest.partition("/")
    if host != socket.gethostname() or not pid.isdigit() or not started:
        return False
    return start_time(int(pid)) == started
