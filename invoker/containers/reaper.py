"""The reaper: a small process beside the invoker that kills what its containers left when
the invoker dies, however it dies.

Parent-death signals take down every sandbox once it is set up (launch.py sets the first
one before bwrap runs; bwrap sets its own, and its child's, as it goes). One moment is out
of their reach: bwrap's own, between the clone of the sandbox's first process and its
release of it. The child has no parent-death signal yet (a clone never inherits one), and
if bwrap is killed there (with the invoker) the child waits for a release that never comes:
blocked, outside any cgroup, for as long as the host runs. The restart's sweep
(process_home.py) does not find it either, since its pid was never written. So each
factory starts one reaper, which waits on a pipe only the invoker holds open; when the
pipe closes (the factory closes it, or the kernel does as the invoker dies) it kills, until
none is left, every process

- whose command line names this factory's home directory (`invoker<N>.<pid>.<random>/`,
  so no other invoker's): every bwrap and sandbox not yet running its proxy, and the
  unsandboxed fallback's runtimes;
- in this invoker's cgroup branch (`pywhisk-invoker<N>.<pid>.<start time>`): every
  process of every sandboxed container; a paused container's are thawed, since a frozen
  process dies of its SIGKILL (the reaper's, or its parent-death signal) only once it runs.

Ours alone: neither another invoker's containers (their home and branch are their own),
nor anything that shares our containers' uid range on a host running two invokers of the
same id, is ever matched. It runs the file by its path with the containers' python
(`-I`, the standard library only, no import of ours): one interpreter per invoker, 11 MB
resident (6 MB of it its own), in its own session, so a signal to the invoker's process
group leaves it to do its work. Once the invoker closes its factory in order, the reaper
finds nothing and exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SWEEP_TIMEOUT = 10.0  # seconds: a process stuck in the kernel dies when it returns


class Reaper:
    """The invoker's side: the reaper process and the pipe that keeps it waiting."""

    def __init__(self, python: str, home: Path) -> None:
        # -I: nothing of the environment, and not this file's directory on the path either
        # (its neighbours' names would shadow the standard library's). The home with its
        # slash: no other home's name starts with this one's.
        self.proc = subprocess.Popen(
            [python, "-I", __file__, f"{home}/"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )

    def watch(self, pids: Path, freezer: Path) -> None:
        """Kill what is in the groups under the invoker's cgroup branch too, and thaw them:
        its directories in the pids and freezer hierarchies, once they are made."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{pids}\n{freezer}\n".encode())
        self.proc.stdin.flush()

    def close(self) -> None:
        """Let it sweep (nothing is left after an orderly close) and wait for it (blocking)."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


def _ours(pid: int, marker: bytes, branch_pids: set[int]) -> bool:
    if pid in branch_pids:
        return True
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes()  # empty once a zombie
    except OSError:
        return False


def _groups(branch: Path) -> list[Path]:
    try:
        return [g for g in branch.iterdir() if g.is_dir()]
    except OSError:
        return []


def _branch_pids(branches: list[Path]) -> set[int]:
    """Every process in the containers' cgroups under `branches`."""
    found: set[int] = set()
    for group in (g for branch in branches for g in _groups(branch)):
        try:
            found.update(int(p) for p in (group / "cgroup.procs").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def _thaw(branches: list[Path]) -> None:
    for group in (g for branch in branches for g in _groups(branch)):
        state = group / "freezer.state"
        if state.exists():
            try:
                state.write_text("THAWED")
            except OSError:
                continue


def sweep(marker: bytes, branches: list[Path], timeout: float = SWEEP_TIMEOUT) -> list[int]:
    """Kill every process of ours until a pass finds none; returns the pids killed."""
    skip = {os.getpid()}  # ourselves, and what we may not signal
    killed: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        in_branch = _branch_pids(branches)
        found = [
            pid
            for pid in (int(p) for p in os.listdir("/proc") if p.isdigit())
            if pid not in skip and _ours(pid, marker, in_branch)
        ]
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            except PermissionError:
                skip.add(pid)
                continue
            if pid not in killed:
                killed.append(pid)
        _thaw(branches)
        time.sleep(0.01)  # a bwrap killed between two reads may have cloned once more
    return killed


def main(argv: list[str]) -> int:
    home = argv[1]
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # our work starts when the invoker's ends
    # A line names a cgroup branch to sweep too; EOF: the invoker is gone (or closing).
    branches = [Path(line.strip()) for line in sys.stdin if line.strip()]
    killed = sweep(home.encode(), branches)
    if killed:
        print(
            f"pywhisk reaper: killed {len(killed)} processes the invoker's containers left",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
