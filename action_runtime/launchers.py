"""Starting a language launcher and exchanging JSON lines with it.

The launcher is one long-lived interpreter per container, started before /init so that neither
/init nor any /run pays for an interpreter start. It is spawned with:

    fd 0  /dev/null          user code that reads stdin must not eat our protocol
    fd 1  proxy's stdout     inherited: user prints reach the container log directly
    fd 2  proxy's stderr     inherited
    fd 3  reply pipe         launcher -> proxy, one line per request (as OpenWhisk's ActionLoop)
    fd 4  command pipe       proxy -> launcher, one line per request

and stays in the proxy's process group, so killing the group (or the Docker container) ends
both. The line protocol itself is documented in launcher.py.

Death is noticed through a pidfd as well as EOF on fd 3: a process the user's code forked may
keep fd 3 open after the launcher is gone, and then EOF would never come.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal

# posix_spawn's dup2 actions misbehave when a source fd is also a target (0, 3, 4), so every
# fd we hand over is first moved above this.
_FIRST_FREE_FD = 10
_READ_CHUNK = 1 << 20


class LauncherGone(Exception):
    """The launcher exited (or closed its pipes) before answering."""


def _high_fd(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_FREE_FD)
    os.close(fd)
    return moved


class Launcher:
    """A running launcher: send one line, await one reply line."""

    def __init__(self, argv: list[str]) -> None:
        """Spawn `argv` in the proxy's cwd (the work dir) and environment."""
        self._loop = asyncio.get_running_loop()
        cmd_r, cmd_w = (_high_fd(fd) for fd in os.pipe())
        reply_r, reply_w = (_high_fd(fd) for fd in os.pipe())
        devnull = _high_fd(os.open(os.devnull, os.O_RDONLY))
        try:
            self.pid = _spawn(argv, stdin=devnull, reply=reply_w, commands=cmd_r)
        finally:
            for fd in (cmd_r, reply_w, devnull):
                os.close(fd)
        self._cmd = cmd_w
        self._reply = reply_r
        os.set_blocking(cmd_w, False)
        os.set_blocking(reply_r, False)
        self.returncode: int | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[bytes] | None = None
        self._outgoing = memoryview(b"")
        self._eof = False
        self._pidfd = os.pidfd_open(self.pid)
        self._loop.add_reader(self._reply, self._on_reply_readable)
        self._loop.add_reader(self._pidfd, self._on_exit)

    @property
    def alive(self) -> bool:
        return self.returncode is None and not self._eof

    async def request(self, line: bytes) -> bytes:
        """Send `line` (no newline inside) and return the launcher's reply line.

        Raises LauncherGone when the launcher died or closed its reply pipe first.
        """
        if self._waiter is not None:
            raise RuntimeError("one request at a time")
        if not self.alive:
            raise LauncherGone
        self._waiter = self._loop.create_future()
        try:
            self._send(line + b"\n")
            return await self._waiter
        finally:
            self._waiter = None

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """Kill the launcher and release our fds (on proxy shutdown)."""
        self.kill()
        if self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                pass
        for fd in (self._reply, self._pidfd, self._cmd):
            self._loop.remove_reader(fd)
            self._loop.remove_writer(fd)
            try:
                os.close(fd)
            except OSError:
                pass

    # -- writing commands ------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        # Almost every line fits in the pipe buffer and leaves in one write(); big payloads go
        # out as the launcher drains the pipe, without blocking the event loop.
        self._outgoing = memoryview(data)
        self._on_cmd_writable()

    def _on_cmd_writable(self) -> None:
        try:
            while self._outgoing:
                written = os.write(self._cmd, self._outgoing)
                self._outgoing = self._outgoing[written:]
        except BlockingIOError:
            self._loop.add_writer(self._cmd, self._on_cmd_writable)
            return
        except OSError:  # EPIPE: the launcher is gone; the pidfd/EOF path answers the waiter
            self._outgoing = memoryview(b"")
        self._loop.remove_writer(self._cmd)

    # -- reading replies -------------------------------------------------------------------

    def _on_reply_readable(self) -> None:
        self._drain_replies()
        self._deliver()

    def _drain_replies(self) -> None:
        while not self._eof:
            try:
                data = os.read(self._reply, _READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._eof = True
                self._loop.remove_reader(self._reply)
                return
            self._buffer += data
            if len(data) < _READ_CHUNK:
                return

    def _take_line(self) -> bytes | None:
        end = self._buffer.find(b"\n")
        if end < 0:
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return line

    def _deliver(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        line = self._take_line()
        if line is not None:
            waiter.set_result(line)
        elif not self.alive:
            waiter.set_exception(LauncherGone())

    def _on_exit(self) -> None:
        self._loop.remove_reader(self._pidfd)
        try:
            _, status = os.waitpid(self.pid, os.WNOHANG)
            self.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            self.returncode = -1
        # A reply written just before exiting is still in the pipe: read it before giving up.
        self._drain_replies()
        self._deliver()


def _spawn(argv: list[str], *, stdin: int, reply: int, commands: int) -> int:
    # posix_spawn rather than subprocess: it puts the pipes exactly on fds 3 and 4, and it is
    # a vfork-speed start with no Python code running in the child.
    return os.posix_spawn(
        argv[0],
        argv,
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_DUP2, stdin, 0),
            (os.POSIX_SPAWN_DUP2, reply, 3),
            (os.POSIX_SPAWN_DUP2, commands, 4),
        ],
        # Python ignores SIGPIPE and SIGXFSZ; the launcher should not inherit that.
        setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
    )
