"""A Docker container's output without the engine in its path: two FIFOs (stdout, stderr) in a
directory of the container's own, bind-mounted read-only into it, which its entrypoint opens
in place of the engine's pipes before it starts the runtime. The invoker reads them as it reads
a process container's pipes (pipes.py), into the same ContainerLogs.

Why: through `docker attach` every write (each log line and the two sentinels of every
activation) went from the container's pipe to containerd's shim, to dockerd, to its HTTP
stream, framed, and into the invoker: two processes' work per line, on the warm path of every
activation. A FIFO has none; the reader learns the container's exit as a process container's
do: end of file once every process in it is gone (the kernel kills the rest with its pid 1).

Isolation: each container has its own directory (nothing else of the host is mounted), and
another container never sees it. The directory and FIFOs belong to the container's user
(the runtime images' `action`, 10001) with modes 0500 and 0200 when the invoker can set the
owner (it runs as root): the action can write its output and nothing else, not read it back,
not add files, not change modes (the mount is read-only; writing to a FIFO on a read-only mount
is allowed, it changes nothing on disk). An invoker that is not root cannot give files away:
then the FIFOs are 0622 and the host's other users are kept out by the parent directory
(0700, the invoker's).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from pywhisk.invoker.containers.logs import ContainerLogs
from pywhisk.invoker.containers.owners import owner_alive, start_time
from pywhisk.invoker.containers.pipes import PipeReader

MOUNT = "/run/pywhisk/output"  # where the container sees its directory
ACTION_UID = 10001  # the runtime images' `action` user and group (deploy/runtimes/Dockerfile)
STREAMS = ("stdout", "stderr")
# Run as the container's entrypoint: `$0` is MOUNT, the rest the image's own entrypoint and
# command. `exec` leaves no shell behind; opening a FIFO for writing waits for its reader,
# which the invoker opened before the container started.
_WRAP = 'exec >"$0/stdout" 2>"$0/stderr" && exec "$@"'


def entrypoint(command: list[str]) -> list[str]:
    """The entrypoint that sends `command`'s output into the FIFOs."""
    return ["/bin/sh", "-c", _WRAP, MOUNT, *command]


class OutputDirs:
    """The factory's directory of per-container output directories:
    `<base>/<host>.<pid>.<start time>/`, one per invoker process, so leftovers of a dead one
    can be told from a live one's."""

    def __init__(self, base: Path, host: str) -> None:
        self.root = base / f"{host}.{os.getpid()}.{start_time(os.getpid())}"
        self._host = host
        self._base = base
        self.as_root = os.geteuid() == 0

    def create(self) -> None:
        """Make the directory (0700) and remove what dead invokers of this host left."""
        self._base.mkdir(mode=0o700, parents=True, exist_ok=True)
        for entry in self._base.iterdir():
            host, pid, started = [*entry.name.rsplit(".", 2), "", ""][:3]  # hosts have dots
            if (
                host == self._host
                and entry != self.root
                and not owner_alive(f"{host}/{pid}/{started}")
            ):
                shutil.rmtree(entry, ignore_errors=True)
        self.root.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.root, 0o700)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def open(self, name: str) -> OutputChannel:
        """A new container's directory with its two FIFOs, their read ends open."""
        return OutputChannel(self.root / name, self.as_root)


class OutputChannel:
    """One container's FIFOs: made and opened before the container starts (a writer's open
    waits for a reader), read on the event loop once it runs, removed with it."""

    def __init__(self, path: Path, as_root: bool) -> None:
        self.path = path
        shutil.rmtree(path, ignore_errors=True)  # a leftover of a container of the same name
        path.mkdir(mode=0o700)
        self._fds: list[int] = []
        self._readers: list[PipeReader] = []
        try:
            for stream in STREAMS:
                fifo = path / stream
                os.mkfifo(fifo, 0o600)
                if as_root:
                    os.chown(fifo, ACTION_UID, ACTION_UID)
                    os.chmod(fifo, stat.S_IWUSR)
                else:
                    os.chmod(fifo, 0o622)
                # Non-blocking: no writer yet. Until one has come and gone, epoll reports
                # nothing, so the reader does not see an end of file before the start.
                self._fds.append(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC))
            if as_root:
                os.chown(path, ACTION_UID, ACTION_UID)
                os.chmod(path, 0o500)
            else:
                os.chmod(path, 0o755)
        except BaseException:
            self.close()
            raise

    @property
    def bind(self) -> dict[str, dict[str, str]]:
        """The container's only mount of the host: its own directory, read-only."""
        return {str(self.path): {"bind": MOUNT, "mode": "ro"}}

    def read(self, logs: ContainerLogs, ended: Callable[[], None]) -> None:
        """Feed both FIFOs into `logs`; `ended` once both reached end of file."""
        loop = asyncio.get_running_loop()
        streams = (logs.stdout, logs.stderr)
        left = len(self._fds)

        def end(stream_end: Callable[[], None]) -> None:
            nonlocal left
            stream_end()
            left -= 1
            if left == 0:
                ended()

        for fd, stream in zip(self._fds, streams, strict=True):
            self._readers.append(
                PipeReader(loop, fd, stream.feed, functools.partial(end, stream.end))
            )
        self._fds = []

    def close(self) -> None:
        """Stop reading (what is unread is lost: call after the streams ended, or when giving
        up on them) and remove the directory."""
        for reader in self._readers:
            reader.close()
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []
        shutil.rmtree(self.path, ignore_errors=True)
