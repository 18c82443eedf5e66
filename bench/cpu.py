"""CPU time of this process and everything it started, grouped by the part each process
plays (client, controller, invoker, action containers, tansu, …), from Linux's /proc.

A process takes the part its command line names, else its parent's: the launchers an action
runtime starts count as containers, the runtimes an invoker starts too. Time of processes
that exit between two samples is lost, which warm runs (no container starts) do not notice.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# The first of these found in a command line names the process's part.
PARTS = [
    ("action_runtime", "containers"),
    ("deploy.commands standalone", "standalone"),
    ("deploy.commands controller", "controller"),
    ("deploy.commands invoker", "invokers"),
    ("tansu", "tansu"),
    ("pouchdb-server", "pouchdb"),
]


def processes() -> dict[int, tuple[int, str, float]]:
    """Every readable process: pid -> (parent pid, command line, CPU seconds so far)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        # The command name (2nd field) is in parentheses and may hold spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (
            int(fields[1]),
            command,
            (int(fields[11]) + int(fields[12])) / TICK,
        )
    return found


def cpu_by_part() -> dict[str, float]:
    """CPU seconds used so far by this process ("client") and its live descendants, by part;
    empty where /proc cannot be read."""
    if not Path("/proc/self/stat").exists():
        return {}
    found = processes()
    me = os.getpid()
    parts: dict[int, str] = {me: "client"}
    totals: dict[str, float] = defaultdict(float)

    def part_of(pid: int) -> str | None:
        if pid in parts:
            return parts[pid]
        if pid not in found or pid <= 1:
            return None
        parent, command, _ = found[pid]
        inherited = part_of(parent)
        if inherited is None:  # not started by this process
            return None
        named = next((part for word, part in PARTS if word in command), None)
        part = inherited if named is None or inherited == "containers" else named
        parts[pid] = part
        return part

    for pid, (_, _, seconds) in found.items():
        part = part_of(pid)
        if part is not None:
            totals[part] += seconds
    return dict(totals)


def used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds each part used between two samples (parts seen in either)."""
    return {part: after.get(part, 0.0) - before.get(part, 0.0) for part in {*before, *after}}
