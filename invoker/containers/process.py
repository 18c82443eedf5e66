"""Process containers (`process://`): one local `action_runtime` process per container.

The standalone preset's containers. Each one is

    python3 -E -s <runtime copy>/action_runtime --language L --listen-fd N --interpreter I

started in a private work dir (mode 700) with a minimal environment (PATH, HOME, LANG,
`__OW_API_HOST`; none of the platform's settings or secrets). The factory binds the listening
socket on 127.0.0.1:0 and hands it down as fd N, so the first request simply waits in the
backlog: no readiness polling, no port race. When the platform runs as root, containers run as
`nobody:nogroup` without supplementary groups; that is why the interpreter is Debian's
(`/root` and a pyenv under it are unreadable to `nobody`) and why `action_runtime` is copied
once per factory into a world-readable directory under the temp dir (and byte-compiled there,
since `nobody` cannot write its `__pycache__`).

Isolation is much weaker than Docker's (same kernel namespaces, network and file system as
the invoker; no memory limit): process containers are meant for a single trusted developer
machine. Use `docker://` for anything shared.

Layout under the root (`process:///some/dir`, default `<tmp>/pywhisk-containers`):

    invoker<N>.<pid>/runtime/action_runtime/   the copy the processes run
    invoker<N>.<pid>/pids/<name>               proxy pid of each live container
    invoker<N>.<pid>/<name>/                   the container's work dir

A directory whose owning invoker pid is dead is a crashed invoker's: `start()` kills the
process groups named in its pid files (after checking their command line points there) and
removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import action_runtime
from common.config import Settings
from common.runtimes import BLACKBOX, Runtime
from invoker.containers.base import (
    MIB,
    Container,
    ContainerError,
    ContainerFactory,
    RuntimeUnavailable,
)
from invoker.containers.logs import EOF_WAIT, ContainerLogs

MIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
UNPRIVILEGED_USER = "nobody"
UNPRIVILEGED_GROUP = "nogroup"
_RUNTIME_SOURCE = Path(action_runtime.__file__).resolve().parent
_EXIT_WAIT = 5.0
BLACKBOX_NEEDS_DOCKER = (
    "Blackbox actions run their own container image, which needs Docker containers: start "
    "the invoker with PYWHISK_CONTAINERS_URL=docker:// (pywhisk standalone --containers docker)."
)


class _PipeReader(asyncio.Protocol):
    """Feeds one of the container's output pipes into its StreamLog as data arrives."""

    def __init__(self, feed: Any, end: Any) -> None:
        self._feed = feed
        self._end = end

    def data_received(self, data: bytes) -> None:
        self._feed(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._end()


class ProcessContainer(Container):
    host = "127.0.0.1"

    def __init__(
        self, name: str, port: int, proc: subprocess.Popen[bytes], work_dir: Path, pid_file: Path
    ) -> None:
        self.name = name
        self.port = port
        self.pid = proc.pid
        self.work_dir = work_dir
        self._proc = proc
        self._pid_file = pid_file
        self._returncode: int | None = None
        self._exit = asyncio.get_running_loop().create_future()
        self._transports: list[asyncio.BaseTransport] = []
        self._pidfd = -1
        self._destroyed: asyncio.Task[None] | None = None
        self.log: ContainerLogs | None = None
        self.on_gone: Any = None  # the factory's bookkeeping, called once destroyed

    async def attach(self, cap_bytes: int) -> None:
        """Start reading stdout/stderr and watching for exit (on the loop, after the spawn)."""
        loop = asyncio.get_running_loop()
        self.log = log = ContainerLogs(cap_bytes)
        for pipe, stream in ((self._proc.stdout, log.stdout), (self._proc.stderr, log.stderr)):
            transport, _ = await loop.connect_read_pipe(
                lambda s=stream: _PipeReader(s.feed, s.end),  # type: ignore[misc]
                pipe,
            )
            self._transports.append(transport)
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
        if not self._exit.done():
            self._exit.set_result(None)

    @property
    def exited(self) -> bool:
        return self._exit.done()

    @property
    def returncode(self) -> int | None:
        return self._returncode

    async def logs(self, limit_bytes: int, wait_for_sentinels: bool) -> list[str]:
        assert self.log is not None
        return await self.log.activation(limit_bytes, wait_for_sentinels)

    # Keep-alive pausing: the whole process group (proxy and launcher) stops and continues.
    async def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    async def resume(self) -> None:
        if self.exited:
            raise ContainerError(f"container {self.name} is gone")
        self._signal(signal.SIGCONT)

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    async def destroy(self) -> None:
        if self._destroyed is None:
            self._destroyed = asyncio.get_running_loop().create_task(self._destroy())
        await asyncio.shield(self._destroyed)

    async def _destroy(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # the proxy leads its group: launcher too
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_EXIT_WAIT):
                await asyncio.shield(self._exit)
        if self.log is not None:  # let the pipes deliver what was written before the kill
            await self.log.wait_eof(EOF_WAIT)
        for transport in self._transports:
            transport.close()
        if self._pidfd >= 0:  # never saw the exit (unkillable?): stop watching anyway
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
            self._proc.poll()
        await asyncio.to_thread(_remove, self.work_dir, self._pid_file)
        if self.on_gone is not None:
            self.on_gone(self)


def _remove(work_dir: Path, pid_file: Path) -> None:
    shutil.rmtree(work_dir, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()


class ProcessContainerFactory(ContainerFactory):
    scheme = "process"

    def __init__(self, url: str, settings: Settings, invoker_id: int) -> None:
        parts = urlsplit(url)
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.root = Path(parts.path) if parts.path not in ("", "/") else _default_root()
        self.search_path = options.get("path", MIN_PATH)
        self.python = options.get("python") or shutil.which("python3", path=self.search_path)
        self.invoker_id = invoker_id
        self.api_host = settings.effective_api_host
        # Room for the largest log limit plus slack: beyond it lines are dropped, and the
        # activation's logs are reported truncated anyway.
        self.log_cap = settings.max_action_logs * MIB + 64 * 1024
        self.home: Path | None = None  # this factory's directory under root
        self._ids: tuple[int, int] | None = None  # uid/gid to run as, None: our own
        self._interpreters: dict[str, str] = {}
        self._containers: set[ProcessContainer] = set()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self.python is None:
            raise ContainerError(f"no python3 on {self.search_path} to run action containers")
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(UNPRIVILEGED_USER)
                self._ids = (user.pw_uid, _group_id(UNPRIVILEGED_GROUP, user.pw_gid))
            except KeyError as exc:
                raise ContainerError(f"running as root needs a '{UNPRIVILEGED_USER}' user") from exc
        self.home = await asyncio.to_thread(self._prepare)

    async def close(self) -> None:
        await asyncio.gather(*(c.destroy() for c in list(self._containers)))
        self._containers.clear()
        if self.home is not None:
            await asyncio.to_thread(shutil.rmtree, self.home, True)
            self.home = None

    def _prepare(self) -> Path:
        self.root.mkdir(mode=0o711, parents=True, exist_ok=True)
        if self.root.stat().st_uid != os.geteuid():
            raise ContainerError(f"{self.root} belongs to another user")
        os.chmod(self.root, 0o711)
        if self._ids is not None:
            _check_reachable(self.root)
        remove_leftovers(self.root, self.invoker_id)
        home = Path(
            tempfile.mkdtemp(prefix=f"invoker{self.invoker_id}.{os.getpid()}.", dir=self.root)
        )
        os.chmod(home, 0o711)
        (home / "pids").mkdir(mode=0o700)
        runtime = home / "runtime" / "action_runtime"
        shutil.copytree(
            _RUNTIME_SOURCE, runtime, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        # Byte-compile with the containers' own interpreter: they cannot write __pycache__.
        assert self.python is not None
        subprocess.run(
            [self.python, "-E", "-s", "-m", "compileall", "-q", str(runtime)],
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        for directory, _, files in os.walk(home / "runtime"):
            os.chmod(directory, 0o755)
            for file in files:
                os.chmod(os.path.join(directory, file), 0o644)
        return home

    # -- containers ------------------------------------------------------------------------

    def interpreter(self, runtime: Runtime) -> str:
        """The runtime's interpreter, or RuntimeUnavailable naming what to install."""
        if runtime.kind == BLACKBOX:
            raise RuntimeUnavailable(BLACKBOX_NEEDS_DOCKER)
        found = self._interpreters.get(runtime.kind)
        if found is None:
            for command in runtime.commands:
                found = shutil.which(command, path=self.search_path)
                if found:
                    break
            if not found:
                command = runtime.commands[-1] if runtime.commands else runtime.language
                raise RuntimeUnavailable(
                    f"The {runtime.kind} runtime needs the '{command}' command, which is not "
                    f"installed on this invoker ({runtime.install})."
                )
            self._interpreters[runtime.kind] = found
        return found

    async def create(self, name: str, runtime: Runtime, memory_mb: int) -> Container:
        if self.home is None:
            raise ContainerError("the process container factory is not started")
        interpreter = self.interpreter(runtime)
        work_dir = self.home / name
        pid_file = self.home / "pids" / name
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            port = sock.getsockname()[1]
            argv = [
                self.python or "python3",
                "-E",
                "-s",
                str(self.home / "runtime" / "action_runtime"),
                "--language",
                runtime.language,
                "--listen-fd",
                str(sock.fileno()),
                "--interpreter",
                interpreter,
                "--kind",
                runtime.kind,
            ]
            env = {
                "PATH": self.search_path,
                "HOME": str(work_dir),
                "LANG": "C.UTF-8",
                "__OW_API_HOST": self.api_host,
            }
            try:
                proc = await asyncio.to_thread(
                    self._spawn, argv, env, work_dir, pid_file, sock.fileno()
                )
            except OSError as exc:
                raise ContainerError(f"cannot start container {name}: {exc}") from exc
        finally:
            sock.close()  # the child holds its own copy; the port dies with it
        container = ProcessContainer(name, port, proc, work_dir, pid_file)
        container.on_gone = self._containers.discard
        self._containers.add(container)
        await container.attach(self.log_cap)
        return container

    def _spawn(
        self, argv: list[str], env: dict[str, str], work_dir: Path, pid_file: Path, fd: int
    ) -> subprocess.Popen[bytes]:
        work_dir.mkdir(mode=0o700)
        uid_gid: dict[str, Any] = {}
        if self._ids is not None:
            uid, gid = self._ids
            os.chown(work_dir, uid, gid)
            uid_gid = {"user": uid, "group": gid, "extra_groups": []}
        proc = subprocess.Popen(
            argv,
            cwd=work_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(fd,),
            start_new_session=True,  # own process group: destroy kills proxy and launcher
            **uid_gid,
        )
        pid_file.write_text(str(proc.pid))
        # As Docker's --ulimit nofile=1024:1024 (§3.1); the launcher inherits it.
        with contextlib.suppress(OSError, ValueError):
            resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (1024, 1024))
        return proc


def _default_root() -> Path:
    return Path(tempfile.gettempdir()) / "pywhisk-containers"


def _group_id(name: str, fallback: int) -> int:
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return fallback


def _check_reachable(path: Path) -> None:
    """`nobody` must be able to walk down to its work dir: every ancestor needs o+x."""
    for directory in (path, *path.parents):
        if not directory.stat().st_mode & 0o001:
            raise ContainerError(
                f"{directory} is not searchable by others (mode o+x missing), so containers "
                f"running as {UNPRIVILEGED_USER} cannot reach their work dirs under {path}"
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
