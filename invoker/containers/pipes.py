"""Reading a container's output pipe on the event loop, closing its descriptor exactly once.

`loop.connect_read_pipe` looked like the tool, but uvloop (0.23, MagicStack/uvloop#763)
closes a pipe transport's descriptor twice: libuv closes the number, then uvloop closes the
Python file object, which closes the same number again. If another thread opened a file in
between, and the number was reused, that file is closed behind its back. The invoker runs
threads that open files all the time (container spawns, work-dir removal, SQLite), so under
churn about one container start in 3,000 failed with `OSError: [Errno 9] Bad file
descriptor` (a whisk internal error, "Failed to provision resources to run the action."),
and any other file of the process could have been closed instead.

Here the descriptor stays a plain number we own: `add_reader`, `os.read` when readable, and
one `os.close` after `remove_reader` (uvloop's remove_reader takes the descriptor out of
epoll at once, so closing it next is safe, as with asyncio's own loop). Cost: one read
syscall per wake-up, as a transport does.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

_READ_SIZE = 256 * 1024


class PipeReader:
    """Feeds what arrives on `fd` to `feed`, calls `end` at EOF (or on close)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fd: int,
        feed: Callable[[bytes], None],
        end: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._fd = fd
        self._feed = feed
        self._end = end
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._readable)

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # e.g. EIO: nothing more will come
            data = b""
        if data:
            self._feed(data)
        else:
            self.close()

    def close(self) -> None:
        """Stop reading and close the descriptor; idempotent."""
        if self._fd < 0:
            return
        fd, self._fd = self._fd, -1
        self._loop.remove_reader(fd)
        os.close(fd)
        self._end()
