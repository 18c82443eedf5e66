"""Per-container cgroups (v1: memory, pids, cpu, freezer), written directly as root.

Each sandboxed process container gets one cgroup per controller. Memory, pids and freezer
groups nest under a branch of the invoker's own cgroup (so whatever limits the invoker lives
under also bound its actions):

    <mount>/<invoker's cgroup>/pywhisk-invoker<N>.<pid>.<start time>/<container name>

Limits are Docker mode's: `memory.limit_in_bytes` = the action's memory (swap included, so
no escape to swap), `pids.max` = 1024, and CPU shares in proportion to memory.

The CPU group is flat, a sibling of the invoker's own tasks:

    <cpu mount>/<invoker's cgroup>/pywhisk-invoker<N>.<pid>.<start time>.<container name>

with `cpu.shares` = 1024 × memory / 256 MB: a default (256 MB) action weighs what one process
outside any group weighs, which is what an unsandboxed runtime weighs too (started in a
session of its own, it gets an autogroup of weight 1024 where autogroups are on, as on
Debian and Ubuntu kernels). So on the warm path the scheduler sees the same shape with or
without the sandbox: one group per runtime, one level deep, at one process's weight. Two
layouts before this one, each measured:
- a branch of fixed weight 1024 holding every container: the containers together competed
  as one process against the rest of the host; on a loaded machine (load 14, 2 cores) an
  /init took 1,345 ms instead of 10 ms.
- a branch weighing 1024 per live container (stem cells and idle warm containers counted,
  5 × 1024 with the default stem cells), each container inside it at 1024 × memory / user
  memory (128 for 256 MB): two levels of groups, and a waking runtime carrying the weight of
  every live container. Warm invokes through the platform ran at 0.74× the unsandboxed
  throughput on a quiet machine (1,096 against 1,485 invokes/s, `python -m bench`), and at
  1.01× with no CPU group at all (`?cpu=off`).
Measured against each other, servers in turns at load 4 to 5 (no quiet machine to be had):
this layout 0.93×, 0.95× and 1.04× the unsandboxed throughput in three runs, the former
1.06×, 0.76× and 0.99×, rounds spreading ±15 % or more; the README keeps the figures.
`process://?cpu=off` still leaves containers in the invoker's own CPU group.

The freezer pauses a container (every task, whatever session or process group it put itself
in; SIGSTOP to a process group missed a double-forked child), and `memory.oom_control`'s
`oom_kill` counter says whether the kernel's OOM killer struck.

Groups named for an invoker process that is gone (pid and start time no longer match, see
owners.py) are a crashed invoker's: `remove_leftovers` kills their tasks and removes them.
Everything here is cgroupfs writes: kernel calls of a few microseconds, no disk, except that
moving a task (`Cgroup.add`) waits for an RCU grace period when no move happened lately
(~10 ms; see process_spares.py for how that is kept off the cold-start path).
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
DEFAULT_MEMORY_MB = 256  # OpenWhisk's default action memory: weighs one process (1024 shares)
SHARES_MAX = 262144  # the kernel's cap on cpu.shares
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

    def add(self, pid: int) -> None:
        for directory in self.dirs.values():
            _write(directory / "cgroup.procs", str(pid))

    def resize(self, memory_mb: int) -> None:
        """Set the memory cap (swap included) and the CPU shares to those of `memory_mb`: a
        new container's, a spare sandbox adopted, a stem cell taken for an action of another
        size. The swap limit may never be below the memory limit, so the two are written in
        the order that keeps it so."""
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
            _write(self.dirs["cpu"] / "cpu.shares", str(cpu_shares(memory_mb)))

    def freeze(self) -> None:
        _write(self.dirs["freezer"] / "freezer.state", "FROZEN")

    def thaw(self) -> None:
        _write(self.dirs["freezer"] / "freezer.state", "THAWED")

    def memory_used(self) -> int | None:
        """MB the container uses: its charge less the page cache the kernel reclaims first
        (`total_inactive_file`, as `docker stats` and the kubelet's working set count it)."""
        memory = self.dirs["memory"]
        try:
            usage = int((memory / "memory.usage_in_bytes").read_bytes())
            inactive = 0
            with open(memory / "memory.stat", "rb") as f:
                for line in f:
                    if line.startswith(b"total_inactive_file "):
                        inactive = int(line.split()[1])
                        break
        except (OSError, ValueError):
            return None
        return max(usage - inactive, 0) // (1024 * 1024)

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
    """The invoker's groups: makes and removes its containers' cgroups."""

    def __init__(self, invoker_id: int, cpu_shares: bool = True) -> None:
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

    def _branched(self) -> list[str]:
        return [c for c in self.bases if c != "cpu"]

    def group(self, controller: str, container: str) -> Path:
        """A container's directory in one controller's hierarchy."""
        if controller == "cpu":
            return self.bases["cpu"] / f"{self.name}.{container}"
        return self.bases[controller] / self.name / container

    def prepare(self) -> None:
        """Create this invoker's branch (raises CgroupError when not allowed to)."""
        for controller in self._branched():
            branch = self.bases[controller] / self.name
            try:
                branch.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CgroupError(f"cannot create {branch}: {exc.strerror}") from exc
            if controller == "memory":  # v1 children count towards parents only with it
                with contextlib.suppress(OSError):
                    (branch / "memory.use_hierarchy").write_text("1")

    def create(self, name: str, memory_mb: int) -> Cgroup:
        dirs = {c: self.group(c, name) for c in self.bases}
        for directory in dirs.values():
            try:
                directory.mkdir()
            except FileExistsError:
                pass
            except OSError as exc:
                raise CgroupError(f"cannot create {directory}: {exc.strerror}") from exc
        cgroup = Cgroup(dirs)
        try:
            cgroup.resize(memory_mb)
            _write(dirs["pids"] / "pids.max", str(PIDS_MAX))
        except CgroupError:
            cgroup.remove()
            raise
        return cgroup

    def close(self) -> None:
        for controller in self._branched():
            with contextlib.suppress(OSError):
                (self.bases[controller] / self.name).rmdir()

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
                    if "cpu" in self.bases:
                        cgroup.dirs["cpu"] = self.bases["cpu"] / f"{branch.name}.{container.name}"
                    killed += cgroup.tasks()
                    cgroup.remove()
            for controller in self._branched():
                with contextlib.suppress(OSError):
                    (self.bases[controller] / branch.name).rmdir()
        if "cpu" in self.bases:  # CPU groups whose other groups are gone already, or empty
            for group in self.bases["cpu"].glob(f"{PREFIX}*"):
                owner = group.name.rsplit(".", 1)[0]
                if group.is_dir() and owner != self.name and not _owner_alive(owner):
                    with contextlib.suppress(OSError):
                        group.rmdir()
        return killed


def cpu_shares(memory_mb: int) -> int:
    """One process's weight (1024) per 256 MB of the action's memory."""
    return min(max(1024 * memory_mb // DEFAULT_MEMORY_MB, 2), SHARES_MAX)


def _owner_alive(branch: str) -> bool:
    """`pywhisk-invoker<N>.<pid>.<start time>`: does that process still run?"""
    parts = branch.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    return start_time(int(parts[1])) == parts[2]
