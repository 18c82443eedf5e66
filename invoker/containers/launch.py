"""Starting one process container's processes (blocking: runs on the factory's spawn threads).

Sandboxed, the start is a handshake with bubblewrap: it is started with an info pipe and a
block pipe, reports the pid of the sandbox's first process on the first, and waits on the
second before running anything else. In between, that process is put in the container's
cgroups, so every process the action ever starts is born inside them (a
pid written to cgroup.procs moves only that process, not children it already has).
`start_sandbox` goes as far as that (bwrap's child then sets up the namespaces and mounts
and waits); `Held.release` lets it run the command. A spare sandbox (process_spares.py) is
one held between the two.

The threads that start containers must outlive them: `--die-with-parent` is the kernel's
parent-death signal, which fires when the *thread* that forked the process ends. The
factory's spawn threads live until the factory closes, after its containers are gone.

bwrap sets that signal only after it has made its namespaces (the clone of the sandbox's
first process, its uid maps), a few milliseconds after our fork. An invoker SIGKILLed in
between left bwrap running on: killed in turn as it wrote its info to a pipe nobody read,
it never released its child, and the sandbox's first process stayed, blocked, in no cgroup
yet and under no pid file, out of reach of the next start's sweep (2 kills in 4 in the
middle of a burst of launches, tests/integration/test_process_launch_window.py; a booted
runtime released just before went on serving a socket nobody would use, see
action_runtime/adoption.py). So the forked child sets the parent-death signal
itself, after its change of uid (a change of uid clears it) and just before the exec, and
then checks that its parent is still the invoker: one that died before the signal was set
cannot send it, and the child exits instead. The signal survives the exec of bwrap (not
set-uid here: a set-uid bwrap would clear it, and its own would again come late). What is
left is bwrap's own, between its clone and its child's release (reaper.py sweeps it).

That check runs as a `preexec_fn`, in the forked child of a threaded process: it calls
nothing that could wait for a lock another thread held at the fork (a prctl through a
ctypes function bound at import, getppid, _exit). What it costs (`python -m bench
launch-guard`): the interpreter's lock is held across the fork and Python runs in the
child, ~2 ms more per launch on the spawn thread as root (subprocess forks to change uid
anyway) and ~1 ms more of stall for the other threads; not root, it also turns subprocess's
vfork into a fork of the whole invoker, ~7 ms at 117 MB resident.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import resource
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pywhisk.invoker.containers.cgroups import Cgroup
from pywhisk.invoker.containers.sandbox import Sandbox

NOFILE = (1024, 1024)  # as Docker mode's --ulimit nofile=1024:1024
_CHILD_PID = re.compile(rb'"child-pid"\s*:\s*(\d+)')
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
ORPHANED = 126  # the exit status of a child whose invoker died before its exec

_prctl = ctypes.CDLL(None, use_errno=True).prctl
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_prctl.restype = ctypes.c_int


class LaunchError(OSError):
    """The container's processes could not be started."""


def _ids(uid: int | None, gid: int | None) -> dict[str, Any]:
    if uid is None or gid is None:
        return {}
    return {"user": uid, "group": gid, "extra_groups": []}


def dies_with(parent: int) -> Callable[[], None]:
    """The forked child's last step before its exec: SIGKILL when the thread that forked it
    ends, and exit at once if `parent` (the invoker's pid) is already gone."""

    def guard() -> None:
        if _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # reparented: the invoker died before the signal was set
            os._exit(ORPHANED)

    return guard


def _popen(
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    fds: tuple[int, ...],
    ids: dict[str, Any],
    guard: Callable[[], None] | None = None,
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=fds,
        start_new_session=True,  # its own process group: destroy kills it whole
        preexec_fn=guard,
        **ids,
    )


def _limit_files(pid: int) -> None:
    with contextlib.suppress(OSError, ValueError):
        resource.prlimit(pid, resource.RLIMIT_NOFILE, NOFILE)


def launch_plain(
    argv: list[str],
    env: dict[str, str],
    work_dir: Path,
    listen_fd: int,
    uid: int | None,
    gid: int | None,
) -> subprocess.Popen[bytes]:
    """The unsandboxed fallback: the proxy runs directly, in the work dir."""
    proc = _popen(argv, env, work_dir, (listen_fd,), _ids(uid, gid))
    _limit_files(proc.pid)
    return proc


@dataclass
class Held:
    """A sandbox started and put in its cgroups, waiting on its block pipe."""

    proc: subprocess.Popen[bytes]
    child: int  # the sandbox's first process (outside pid)
    block_w: int

    def release(self) -> None:
        """Let bwrap go on to run the command (BrokenPipeError if it is gone)."""
        try:
            os.write(self.block_w, b"1")
        finally:
            self.close()

    def abandon(self) -> None:
        """Kill the waiting sandbox (its pid namespace dies with it) and reap bwrap."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.close()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def close(self) -> None:
        if self.block_w >= 0:
            os.close(self.block_w)
            self.block_w = -1


def start_sandbox(
    sandbox: Sandbox,
    argv: list[str],
    env: dict[str, str],
    proxy_dir: Path,
    work_dir: Path,
    layer_dir: Path,
    fds: tuple[int, ...],
    uid: int,
    gid: int,
    cgroup: Cgroup | None,
    as_root: bool,
) -> Held:
    """bwrap set up to run `argv` (inheriting `fds`) in a sandbox, held before it runs it."""
    info_r, info_w = os.pipe()
    block_r, block_w = os.pipe()
    try:
        command = sandbox.command(uid, gid, proxy_dir, work_dir, layer_dir, argv, (info_w, block_r))
        ids = _ids(uid, gid) if as_root else {}
        guard = dies_with(os.getpid())
        proc = _popen(command, env, work_dir, (*fds, info_w, block_r), ids, guard)
    except BaseException:
        for fd in (info_r, info_w, block_r, block_w):
            os.close(fd)
        raise
    os.close(info_w)
    os.close(block_r)
    held = Held(proc, 0, block_w)
    try:
        child = _child_pid(info_r)
        if child is None:
            raise LaunchError("bwrap exited before starting the sandbox")
        held.child = child
        if cgroup is not None:
            # The sandbox's first process only: bwrap's own (outside, waiting for it) needs
            # no limit, and a move costs ~0.3 ms per controller.
            cgroup.add(child)
        _limit_files(child)
    except BaseException:
        held.abandon()
        raise
    finally:
        os.close(info_r)
    return held


def _child_pid(fd: int) -> int | None:
    """`child-pid` from bwrap's info JSON; None when bwrap failed before writing it.

    Read to the end: bwrap writes the whole document (pid, then namespace ids) and closes
    its end before it blocks, and closing ours early would kill it with SIGPIPE.
    """
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    match = _CHILD_PID.search(data)
    return int(match.group(1)) if match else None
