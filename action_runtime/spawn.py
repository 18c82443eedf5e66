"""Starting a launcher process, before anything heavy is imported.

The proxy spawns its launcher first thing, then imports asyncio (~40 ms on these machines)
while the interpreter boots on the other core: the launcher is ready by the time /init can be
served. So this module needs only os, fcntl and signal.

The launcher gets:

    fd 0  /dev/null          user code that reads stdin must not eat our protocol
    fd 1  proxy's stdout     inherited: user prints reach the container log directly
    fd 2  proxy's stderr     inherited
    fd 3  reply pipe         launcher -> proxy, one line per request (as OpenWhisk's ActionLoop)
    fd 4  command pipe       proxy -> launcher, one line per request

and stays in the proxy's process group, so killing the group (or the Docker container) ends
both. The line protocol itself is documented in launcher.py.
"""

from __future__ import annotations

import fcntl
import os
import signal

# posix_spawn's dup2 actions go wrong when a source fd is also a target (0, 3, 4), so every
# fd we hand over is first moved above this.
_FIRST_FREE_FD = 10


class LauncherProcess:
    """A spawned launcher: its pid and our ends of its two pipes (non-blocking)."""

    __slots__ = ("commands", "pid", "replies")

    def __init__(self, pid: int, commands: int, replies: int) -> None:
        self.pid = pid
        self.commands = commands  # we write command lines here (its fd 4)
        self.replies = replies  # we read reply lines here (its fd 3)


def _high_fd(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_FREE_FD)
    os.close(fd)
    return moved


def spawn_launcher(argv: list[str]) -> LauncherProcess:
    """Start `argv` in our cwd (the work dir) and environment, wired as described above.

    posix_spawn rather than subprocess: it puts the pipes exactly on fds 3 and 4, and starts
    at vfork speed with no Python code running in the child.
    """
    cmd_r, cmd_w = (_high_fd(fd) for fd in os.pipe())
    reply_r, reply_w = (_high_fd(fd) for fd in os.pipe())
    devnull = _high_fd(os.open(os.devnull, os.O_RDONLY))
    try:
        pid = os.posix_spawn(
            argv[0],
            argv,
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, reply_w, 3),
                (os.POSIX_SPAWN_DUP2, cmd_r, 4),
            ],
            # Python ignores SIGPIPE and SIGXFSZ; the launcher should not inherit that.
            setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
        )
    except BaseException:
        os.close(cmd_w)
        os.close(reply_r)
        raise
    finally:
        for fd in (cmd_r, reply_w, devnull):
            os.close(fd)
    os.set_blocking(cmd_w, False)
    os.set_blocking(reply_r, False)
    return LauncherProcess(pid, cmd_w, reply_r)
