"""The process containers' root: this invoker's home under it, and what crashed ones left.

`prepare_home` makes `invoker<N>.<pid>.<random>/` with the copy of `action_runtime` the
containers run (world-readable, byte-compiled: they cannot write its `__pycache__`).

A directory `invoker<N>.<pid>.*` whose owning invoker pid is dead is a crashed invoker's:
the process groups named in its pid files are killed (after checking that their command
line points there, so a recycled pid is left alone) and the directory is removed. The
processes are already gone (parent-death signals, the invoker's reaper); this is for an
invoker whose reaper was killed with it.
"""

from __future__ import annotations

import contextlib
import grp
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from pywhisk import action_runtime
from pywhisk.invoker.containers import layer_tree
from pywhisk.invoker.containers.base import ContainerError

_RUNTIME_SOURCE = Path(action_runtime.__file__).resolve().parent


def prepare_home(root: Path, invoker_id: int, python: str, other_users: bool) -> Path:
    """This invoker's home under `root` (after removing a dead one's leftovers)."""
    root.mkdir(mode=0o711, parents=True, exist_ok=True)
    if root.stat().st_uid != os.geteuid():
        raise ContainerError(f"{root} belongs to another user")
    os.chmod(root, 0o711)
    if other_users:
        check_reachable(root)
    remove_leftovers(root, invoker_id)
    home = Path(tempfile.mkdtemp(prefix=f"invoker{invoker_id}.{os.getpid()}.", dir=root))
    os.chmod(home, 0o711)
    (home / "pids").mkdir(mode=0o700)
    (home / "layers").mkdir(mode=0o711)  # each container's own is reachable, not listable
    runtime = home / "runtime" / "action_runtime"
    shutil.copytree(_RUNTIME_SOURCE, runtime, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    # Byte-compile with the containers' own interpreter: they cannot write __pycache__.
    subprocess.run(
        [python, "-E", "-s", "-m", "compileall", "-q", str(runtime)],
        check=False,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    for directory, _, files in os.walk(home / "runtime"):
        os.chmod(directory, 0o755)
        for file in files:
            os.chmod(os.path.join(directory, file), 0o644)
    return home


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
        layer_tree.remove(home / "layers")  # read-only trees
        shutil.rmtree(home, ignore_errors=True)
    return killed
