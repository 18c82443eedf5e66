"""What a crashed invoker left under the process containers' root, and the root's checks.

A directory `invoker<N>.<pid>.*` whose owning invoker pid is dead is a crashed invoker's:
the process groups named in its pid files are killed (after checking that their command
line points there, so a recycled pid is left alone) and the directory is removed. With the
sandbox the processes are already gone (bwrap's parent-death signal); without, this is
what stops them.
"""

from __future__ import annotations

import contextlib
import grp
import os
import shutil
import signal
from pathlib import Path

from invoker.containers.base import ContainerError


def group_id(name: str, fallback: int) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return fallback


def check_reachable(path: Path) -> None:
    """Container users must be able to walk down to their directories: every ancestor of
    the root needs o+x."""
    for directory in (path, *path.parents):
        if not directory.stat().st_mode & 0o001:
            raise ContainerError(
                f"{directory} is not searchable by others (mode o+x missing), so containers "
                f"running as their own users cannot reach their work dirs under {path}"
            )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(root: Path, invoker_id: int) -> list[int]:
    """Kill and remove what a dead invoker with this id left under `root`; returns the pids."""
    killed: list[int] = []
    for home in root.glob(f"invoker{invoker_id}.*"):
        try:
            owner = int(home.name.split(".")[1])
        except (IndexError, ValueError):
            continue
        if _alive(owner):  # a live invoker's (or this process's own other factory)
            continue
        marker = str(home / "runtime" / "action_runtime").encode()
        for pid_file in (home / "pids").glob("*"):
            try:
                pid = int(pid_file.read_text())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            if marker in cmdline:  # the pid was not reused by something else
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                    killed.append(pid)
        shutil.rmtree(home, ignore_errors=True)
    return killed
