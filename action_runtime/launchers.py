"""Talking to a spawned launcher (see spawn.py) from the event loop: one line out, one back.

Death is noticed through a pidfd as well as EOF on the reply pipe: a process the user's code
forked may keep the launcher's fd 3 open after the launcher is gone, and then EOF never comes.
A death between requests is also told to `on_idle_exit` (see proxy.py for what it does).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

from .spawn import LauncherProcess

_READ_CHUNK = 1 << 20


class LauncherGone(Exception):
    """The launcher exited (or closed its pipes) before answering."""


class Launcher:
    """A running launcher: send one line, await one reply line."""

    def __init__(
        self, process: LauncherProcess, on_idle_exit: Callable[[], None] | None = None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_idle_exit = on_idle_exit
        self._failed_a_request = False  # its death was a request's answer (LauncherGone)
        self.pid = process.pid
        self._cmd = process.commands
        self._reply = process.replies
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
            self._failed_a_request = True
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
        # Died between requests (or just after answering one), not in one it left unanswered.
        waiter = self._waiter
        answered = waiter is None or (waiter.done() and not self._failed_a_request)
        if answered and not self._failed_a_request and self._on_idle_exit is not None:
            self._on_idle_exit()
