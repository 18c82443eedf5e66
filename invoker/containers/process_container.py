"""One started process container: its processes, output pipes, cgroup and socket.

The invoker speaks to it over the Unix socket at `socket_path`. Pausing freezes its cgroup
(every task, whatever process group or session it moved to) or, without cgroups, stops its
process group. Destroying kills every task of the cgroup and bwrap (whose death takes the
sandbox's PID namespace down), then removes its directory and cgroup; the logs stay readable.
Its action's layers are written by the invoker into a directory of the invoker's (process.py),
which the sandbox shows the action, read-only, as /opt.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from pywhisk.invoker.containers import layer_tree
from pywhisk.invoker.containers.base import Container, ContainerError
from pywhisk.invoker.containers.cgroups import Cgroup, CgroupError
from pywhisk.invoker.containers.layer_tree import LayerTree
from pywhisk.invoker.containers.logs import EOF_WAIT, ContainerLogs
from pywhisk.invoker.containers.pipes import PipeReader

_EXIT_WAIT = 5.0


class ProcessContainer(Container):
    host = "localhost"
    port = 0

    def __init__(
        self,
        name: str,
        socket_path: str,
        proc: subprocess.Popen[bytes],
        directory: Path,
        pid_file: Path,
        layers: tuple[Path, str],
        cgroup: Cgroup | None = None,
        uid: int | None = None,
    ) -> None:
        """`layers`: the host directory for the action's layers, and where the action sees it."""
        self.name = name
        self.socket_path = socket_path
        self.pid = proc.pid
        self.directory = directory
        self.work_dir = directory / "work"
        self.cgroup = cgroup
        self.uid = uid
        self.layer_dir, self.layer_path = layers
        self._proc = proc
        self._pid_file = pid_file
        self._returncode: int | None = None
        self._exit: asyncio.Future[None] | None = None
        self._readers: list[PipeReader] = []
        self._pidfd = -1
        self._destroyed: asyncio.Task[None] | None = None
        self.log: ContainerLogs | None = None
        self.on_gone: Any = None  # the factory's bookkeeping, called once destroyed

    def memory_used(self) -> int | None:
        """The cgroup's use; unsandboxed, the resident memory of the runtime's processes."""
        if self.cgroup is not None:
            return self.cgroup.memory_used()
        if self._returncode is not None:
            return None
        return tree_rss_mb(self.pid)

    async def attach(self, cap_bytes: int) -> None:
        """Start reading stdout/stderr and watching for exit (on the loop, after the spawn)."""
        loop = asyncio.get_running_loop()
        self._exit = loop.create_future()
        self.log = log = ContainerLogs(cap_bytes)
        for pipe, stream in ((self._proc.stdout, log.stdout), (self._proc.stderr, log.stderr)):
            assert pipe is not None
            # A descriptor of our own, closed once by its reader (`pipes.py`: uvloop's
            # connect_read_pipe closes a pipe's descriptor twice); the file object's goes now.
            fd = os.dup(pipe.fileno())
            pipe.close()
            self._readers.append(PipeReader(loop, fd, stream.feed, stream.end))
        # A pidfd tells us the moment the process is gone, even if a grandchild that the
        # action forked keeps the pipes open.
        self._pidfd = os.pidfd_open(self.pid)
        loop.add_reader(self._pidfd, self._on_exit)

    def _on_exit(self) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._pidfd = -1
        self._returncode = self._proc.poll()
        if self.cgroup is not None:
            # Sandboxed, this is bwrap gone; the runtime inside dies of the parent-death
            # signal a moment later and could still answer a request in between. Killed now,
            # "exited" means nothing of the container runs. (cgroupfs, no disk: fine here.)
            with contextlib.suppress(CgroupError, OSError):
                self.cgroup.kill()
        if self._exit is not None and not self._exit.done():
            self._exit.set_result(None)

    @property
    def exited(self) -> bool:
        return self._exit is not None and self._exit.done()

    @property
    def returncode(self) -> int | None:
        return self._returncode

    async def logs(self, limit_bytes: int, wait_for_sentinels: bool) -> list[str]:
        assert self.log is not None
        return await self.log.activation(limit_bytes, wait_for_sentinels)

    async def add_layers(self, layers: LayerTree) -> str:
        await asyncio.to_thread(layers.write_into, self.layer_dir)
        return self.layer_path

    # A cgroupfs write is a kernel call like kill(2), no disk: fine on the loop.
    async def pause(self) -> None:
        if self.cgroup is not None:
            self.cgroup.freeze()
        else:
            self._signal(signal.SIGSTOP)

    async def resume(self) -> None:
        if self.exited:
            raise ContainerError(f"container {self.name} is gone")
        if self.cgroup is not None:
            try:
                self.cgroup.thaw()
            except CgroupError as exc:
                raise ContainerError(str(exc)) from exc
        else:
            self._signal(signal.SIGCONT)

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    async def resize(self, memory_mb: int) -> None:
        # cgroupfs writes, no disk: fine on the loop (as freezing is). Without cgroups there
        # is no cap to change.
        if self.cgroup is not None:
            try:
                self.cgroup.resize(memory_mb)
            except CgroupError as exc:
                raise ContainerError(f"cannot resize {self.name}: {exc}") from exc

    async def out_of_memory(self) -> bool:
        if self.cgroup is None:
            return False
        return await asyncio.to_thread(self.cgroup.oom_kills) > 0

    async def destroy(self) -> None:
        if self._destroyed is None:
            self._destroyed = asyncio.get_running_loop().create_task(self._destroy())
        await asyncio.shield(self._destroyed)

    async def _destroy(self) -> None:
        if self.cgroup is not None:
            await asyncio.to_thread(self.cgroup.kill)
        # bwrap (or the proxy) leads its process group; in the sandbox, its death kills the
        # PID namespace's init and with it every process left in there.
        self._signal(signal.SIGKILL)
        if self._exit is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_EXIT_WAIT):
                    await asyncio.shield(self._exit)
        if self.log is not None:  # let the pipes deliver what was written before the kill
            await self.log.wait_eof(EOF_WAIT)
        for reader in self._readers:
            reader.close()
        if self._pidfd >= 0:  # never saw the exit (unkillable?): stop watching anyway
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
            self._proc.poll()
        await asyncio.to_thread(self._remove)
        if self.on_gone is not None:
            self.on_gone(self)

    def _remove(self) -> None:
        if self.cgroup is not None:
            self.cgroup.remove()  # only once empty: the uid is free for reuse after this
        shutil.rmtree(self.directory, ignore_errors=True)
        layer_tree.remove(self.layer_dir)
        with contextlib.suppress(FileNotFoundError):
            self._pid_file.unlink()


_PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss_mb(pid: int) -> int | None:
    """Resident memory of `pid` and its descendants (shared pages counted in each)."""
    total = 0
    todo = [pid]
    seen = 0
    while todo and seen < 256:
        current = todo.pop()
        seen += 1
        try:
            with open(f"/proc/{current}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE
            with open(f"/proc/{current}/task/{current}/children", "rb") as f:
                todo.extend(int(child) for child in f.read().split())
        except (OSError, ValueError):
            if current == pid:
                return None
    return total // (1024 * 1024)
