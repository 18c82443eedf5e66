"""Per-container cgroups (v1: memory, pids, cpu, freezer), written directly as root.

Each sandboxed process container gets one cgroup per controller, nested under the invoker's
own cgroup (so whatever limits the invoker lives under also bound its actions):

    <mount>/<invoker's cgroup>/pywhisk-invoker<N>.<pid>.<start time>/<container name>

Limits are Docker mode's: `memory.limit_in_bytes` = the action's memory (swap included, so
no escape to swap), `cpu.shares` = 1024 × memory / the invoker's user memory (at least 2),
`pids.max` = 1024. The branch itself weighs 1024 per live container, what its processes
would weigh outside any group: at a fixed 1024 the containers together competed as one
process against the rest of the host, and on a loaded machine (load 14, 2 cores) an /init
took 1,345 ms instead of 10 ms. The CPU group has a price on the hot path: CFS schedules
nested groups at every wake-up, and warm invokes through the platform ran at 0.74× the
unsandboxed throughput with it against 1.01× without (quiet machine, `python -m bench`), so
`process://?cpu=off` leaves containers in the invoker's own CPU group. The freezer pauses a container (every task, whatever session or process
group it put itself in; SIGSTOP to a process group missed a double-forked child), and
`memory.oom_control`'s `oom_kill` counter says whether the kernel's OOM killer struck.

A directory named for an invoker process that is gone (pid and start time no longer match,
see owners.py) is a crashed invoker's: `remove_leftovers` kills its tasks and removes it.
Everything here is cgroupfs writes: kernel calls of a few microseconds, no disk.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from pywhisk.invoker.containers.owners import start_time

CONTROLLERS = ("memory", "pids", "cpu", "freezer")
PREFIX = "pywhisk-invoker"
PIDS_MAX = 1024  # as Docker mode's --pids-limit
_RMDIR_TRIES = 50  # × 10 ms: the kernel reaps a killed task's cgroup membership quickly


class CgroupError(OSError):
    """The cgroup tree is unavailable or a write to it failed."""


def _mounts() -> dict[str, Path]:
    """Controller → its v1 hierarchy's mount point, from /proc/self/mountinfo."""
    found: dict[str, Path] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields = right.split()
            if len(fields) < 3 or fields[0] != "cgroup":
                continue
            mount_point = Path(left.split()[4])
            for option in fields[2].split(","):
                if option in CONTROLLERS:
                    found.setdefault(option, mount_point)
    return found


def _own_paths() -> dict[str, str]:
    """Controller → this process's cgroup path in its hierarchy, from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(","):
                paths[controller] = path
    return paths


def _write(path: Path, value: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as exc:
        raise CgroupError(f"cannot write {value!r} to {path}: {exc.strerror}") from exc


@dataclass(frozen=True)
class Cgroup:
    """One container's cgroups, one directory per controller."""

    dirs: dict[str, Path]
    user_memory_mb: int = 0  # the invoker's, for CPU shares by memory

    def resize(self, memory_mb: int) -> None:
        """Set the memory cap (swap included) and the CPU shares to those of `memory_mb`:
        a stem cell taken for an action of another size. The swap limit may never be below
        the memory limit, so the two are written in the order that keeps it so."""
        memory = self.dirs["memory"]
        value = str(memory_mb * 1024 * 1024)
        limits = [memory / "memory.limit_in_bytes"]
        if (memory / "memory.memsw.limit_in_bytes").exists():  # swap accounting on
            current = int((memory / "memory.limit_in_bytes").read_text())
            swap = memory / "memory.memsw.limit_in_bytes"
            limits = [swap, *limits] if int(value) > current else [*limits, swap]
        for path in limits:
            _write(path, value)
        if "cpu" in self.dirs:
            shares = max(1024 * memory_mb // max(self.user_memory_mb, 1), 2)
            _write(self.dirs["cpu"] / "cpu.shares", str(shares))

    def add(self, pid: int) -> None:
        for directory in self.dirs.values():
            _write(directory / "cgroup.procs", str(pid))

    def freeze(self) -> None:
        _write(self.dirs["freezer"] / "freezer.state", "FROZEN")

    def thaw(self) -> None:
        _write(self.dirs["freezer"] / "freezer.state", "THAWED")

    def oom_kills(self) -> int:
        with contextlib.suppress(OSError):
            for line in (self.dirs["memory"] / "memory.oom_control").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def tasks(self) -> list[int]:
        try:
            text = (self.dirs["pids"] / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def kill(self) -> None:
        """SIGKILL every task, then thaw: a frozen task only dies once it runs again."""
        for pid in self.tasks():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(CgroupError):
            self.thaw()

    def remove(self) -> None:
        """Kill what is left and remove the directories (blocking: waits for the reaping)."""
        for _ in range(_RMDIR_TRIES):
            self.kill()
            busy = False
            for directory in self.dirs.values():
                try:
                    directory.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:  # EBUSY: a task is still exiting
                    busy = True
            if not busy:
                return
            time.sleep(0.01)


class CgroupTree:
    """The invoker's branch of the cgroup tree: makes and removes its containers' cgroups."""

    def __init__(self, invoker_id: int, user_memory_mb: int, cpu_shares: bool = True) -> None:
        """`cpu_shares`: False leaves containers in the invoker's own CPU group."""
        controllers = CONTROLLERS if cpu_shares else tuple(c for c in CONTROLLERS if c != "cpu")
        mounts = _mounts()
        missing = [c for c in controllers if c not in mounts]
        if missing:
            raise CgroupError(f"cgroup v1 controllers not mounted: {', '.join(missing)}")
        own = _own_paths()
        self.bases = {c: mounts[c] / own.get(c, "/").lstrip("/") for c in controllers}
        pid = os.getpid()
        self.name = f"{PREFIX}{invoker_id}.{pid}.{start_time(pid)}"
        self.user_memory_mb = user_memory_mb

    def prepare(self) -> None:
        """Create this invoker's branch (raises CgroupError when not allowed to)."""
        for controller, base in self.bases.items():
            try:
                (base / self.name).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CgroupError(f"cannot create {base / self.name}: {exc.strerror}") from exc
            if controller == "memory":  # v1 children count towards parents only with it
                with contextlib.suppress(OSError):
                    (base / self.name / "memory.use_hierarchy").write_text("1")
        self.weigh(0)

    def weigh(self, containers: int) -> None:
        """Give the branch the CPU weight of `containers` processes outside any group."""
        if "cpu" not in self.bases:
            return
        with contextlib.suppress(CgroupError):
            _write(self.bases["cpu"] / self.name / "cpu.shares", str(max(1024 * containers, 2)))

    def create(self, name: str, memory_mb: int) -> Cgroup:
        dirs = {c: base / self.name / name for c, base in self.bases.items()}
        for directory in dirs.values():
            try:
                directory.mkdir()
            except FileExistsError:
                pass
            except OSError as exc:
                raise CgroupError(f"cannot create {directory}: {exc.strerror}") from exc
        cgroup = Cgroup(dirs, self.user_memory_mb)
        try:
            memory = str(memory_mb * 1024 * 1024)
            _write(dirs["memory"] / "memory.limit_in_bytes", memory)
            if (dirs["memory"] / "memory.memsw.limit_in_bytes").exists():  # swap accounting on
                _write(dirs["memory"] / "memory.memsw.limit_in_bytes", memory)
            _write(dirs["pids"] / "pids.max", str(PIDS_MAX))
            if "cpu" in dirs:
                shares = max(1024 * memory_mb // max(self.user_memory_mb, 1), 2)
                _write(dirs["cpu"] / "cpu.shares", str(shares))
        except CgroupError:
            cgroup.remove()
            raise
        return cgroup

    def close(self) -> None:
        for base in self.bases.values():
            with contextlib.suppress(OSError):
                (base / self.name).rmdir()

    def remove_leftovers(self) -> list[int]:
        """Kill and remove what invokers that are gone left behind; returns the pids killed."""
        killed: list[int] = []
        base = self.bases["pids"]
        if not base.is_dir():
            return killed
        for branch in base.glob(f"{PREFIX}*"):
            if not branch.is_dir() or branch.name == self.name or _owner_alive(branch.name):
                continue
            for container in branch.iterdir():
                if container.is_dir():
                    cgroup = Cgroup(
                        {c: b / branch.name / container.name for c, b in self.bases.items()}
                    )
                    killed += cgroup.tasks()
                    cgroup.remove()
            for b in self.bases.values():
                with contextlib.suppress(OSError):
                    (b / branch.name).rmdir()
        return killed


def _owner_alive(branch: str) -> bool:
    """`pywhisk-invoker<N>.<pid>.<start time>`: does that process still run?"""
    parts = branch.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    return start_time(int(parts[1])) == parts[2]
