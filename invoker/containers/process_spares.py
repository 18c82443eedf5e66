"""Spare sandboxes: process-container sandboxes set up ahead, each waiting for its action.

Where a sandboxed cold start's time went, beyond the unsandboxed start's (10 starts traced
with `perf record -e sched:sched_switch -g`, the kernel stack of every wait summed; 2
cores, load 5): bwrap's own work (exec, a clone of six namespaces, ~30 mounts, pivot_root,
~0.7 ms of CPU against a bare start), and waits for RCU grace periods that the unsandboxed
start never meets. Moving the sandbox's first process into its cgroups takes the cgroup
threadgroup lock for writing (`rcu_sync_enter` from `cgroup.procs`): 12.5 ms each time it
waited, 2 starts in 10 (kernels without CONFIG_CGROUP_FAVOR_DYNMODS; cgroup v1 cannot start
a process straight into a group). Detaching the host's root (`umount2(MNT_DETACH)` →
`synchronize_rcu_expedited`): 9 ms once. Through the platform, those made a cold start
17–26 ms slower than without the sandbox. None of it depends on the action, so it is done
before there is one: a spare is a container directory (work dir, socket bound), a uid,
cgroups at a default limit, and bwrap held on its block pipe (launch.py) with its namespaces
and mounts made and its first process already in the cgroups.

Taking a spare (`Spare.adopt`) writes the action's memory limit and CPU shares, the proxy's
options (language, interpreter, kind) down a pipe the proxy reads at start
(`--options-fd`), and releases bwrap: what is left on the cold path is what an unsandboxed
start has, less its fork of the invoker (start the interpreter, /init, /run). No runtime runs before the adoption: a spare
is not a stem cell (no interpreter, no language), but it is processes started ahead, so
`PYWHISK_PREWARM=false` turns spares off as it does stem cells (unless the URL counts
them); `process://?spares=0` turns them off alone (each create then makes its sandbox and
adopts it at once, the same code). Booted spares (process_boot.py) are spares of this same kind in
which a language's runtime has started too; these plain ones serve the rest.
Through the platform (`python -m bench sandbox`, neighbouring starts paired), the sandbox
added −6.2 ms to a cold start with spares and +14.6 ms without at load 2 to 5; −2.3 and
+9.6 ms with spares (refilled at once), +37 and +41 ms without, at load 5.

Spares are refilled on the factory's spawn threads, REFILL_DELAY after each adoption (bwrap's
`--die-with-parent` ties a sandbox to the thread that started it, and those threads live as
long as the factory). A spare holds two processes (bwrap outside and the sandbox's first,
blocked; ~2 MB resident each, mostly shared library pages, ~160 kB their own), one uid of
the pool, a directory and its cgroups.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from pywhisk.invoker.containers.cgroups import Cgroup
from pywhisk.invoker.containers.launch import Held
from pywhisk.invoker.containers.process_container import tree_rss_mb

DEFAULT_SPARES = 2
# How long after an adoption its replacement is started. Made at once, the replacement's
# bwrap start (and the invoker's fork for it) competed with the adopted runtime's own boot
# on the 2 cores: at the factory, 50 cold starts each in turns at load 3, the sandbox added
# +3.7 and +1.9 ms to a cold start with the refill at once, −7.7 and −5.2 ms with it 0.3 s
# later. A cold start takes ~100 ms; creates closer together than this take the other
# spare, or make their own sandbox.
REFILL_DELAY = 0.3


@dataclass
class Spare:
    name: str  # its directory's (and pid file's) name, and the sandbox's hostname
    directory: Path
    layers: Path  # the invoker's directory for its action's layers, /opt in the sandbox
    socket_path: str
    pid_file: Path
    uid: int | None
    cgroup: Cgroup | None
    held: Held
    options_w: int  # write end of the pipe the proxy reads its options from
    # The language and interpreter whose runtime (proxy and launcher) already runs in it,
    # waiting for its adoption; None: bwrap held, nothing running yet (see process_boot.py).
    booted: tuple[str, str] | None = None

    @property
    def alive(self) -> bool:
        return self.held.proc.poll() is None

    def memory_used(self) -> int | None:
        """MB it uses now: its cgroup's use, or without cgroups its processes' resident
        memory (bwrap's and, booted, its runtime's)."""
        if self.cgroup is not None:
            return self.cgroup.memory_used()
        return tree_rss_mb(self.held.proc.pid)

    def adopt(self, options: Iterable[str], memory_mb: int) -> subprocess.Popen[bytes]:
        """Limit it to the action's memory, hand the proxy its options and let it run
        (a booted one runs already: its proxy starts serving once it has the options).

        Raises OSError (CgroupError, BrokenPipeError when bwrap is gone); then `discard`.
        """
        if self.cgroup is not None:
            self.cgroup.resize(memory_mb)
        data = "\0".join(options).encode()
        try:
            # A few hundred bytes into an empty pipe: never blocks.
            os.write(self.options_w, data)
        finally:
            os.close(self.options_w)
            self.options_w = -1
        if self.booted is None:
            self.held.release()
        return self.held.proc

    def discard(self) -> None:
        """Kill the held sandbox and remove its cgroups, directory and pid file (blocking)."""
        self.held.abandon()
        if self.options_w >= 0:
            os.close(self.options_w)
            self.options_w = -1
        if self.cgroup is not None:
            self.cgroup.remove()
        shutil.rmtree(self.directory, ignore_errors=True)
        shutil.rmtree(self.layers, ignore_errors=True)  # nothing written there yet
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()


class SparePool:
    """Keeps up to `count` spares ready, built by `build(name)` on `executor` (blocking).

    Everything but the build runs on the event loop. A build that fails is logged once and
    not retried until the next adoption: a create then builds its own sandbox, and reports
    the failure as the container's.
    """

    def __init__(
        self,
        count: int,
        build: Callable[[str], Spare],
        executor: Executor,
        gone: Callable[[Spare], None],
        log: logging.Logger,
        prefix: str = "",
        room: Callable[[], bool] | None = None,
    ) -> None:
        """`gone(spare)` is called on the loop once a discarded spare's processes are dead;
        `prefix` starts every spare's name (the invoker's, as its containers' names do);
        `room()`: may one more be made now (the pool's budget has room for it)?"""
        self.count = count
        self._room = room
        self._build = build
        self._executor = executor
        self._gone = gone
        self._log = log
        self._ready: list[Spare] = []
        self._building: set[asyncio.Future[Spare]] = set()
        self._refills: set[asyncio.TimerHandle] = set()
        self._discarding: set[asyncio.Task[None]] = set()
        self._names = itertools.count()
        self._prefix = prefix
        self._failing = False
        self._closed = False

    @property
    def ready(self) -> tuple[Spare, ...]:
        return tuple(self._ready)

    def name(self) -> str:
        return f"{self._prefix}spare{next(self._names)}"

    def take(self) -> Spare | None:
        """A ready spare whose sandbox is still there, or None; refilled REFILL_DELAY later."""
        spare = None
        while self._ready and spare is None:
            candidate = self._ready.pop(0)
            if candidate.alive:
                spare = candidate
            else:
                self._discard(candidate)
        handle = asyncio.get_running_loop().call_later(REFILL_DELAY, self._refill)
        self._refills.add(handle)
        return spare

    def _refill(self) -> None:
        now = asyncio.get_running_loop().time()
        self._refills = {h for h in self._refills if h.when() > now}  # those still to come
        self.fill()

    def fill(self) -> None:
        """Start building spares until ready and building ones make `count`."""
        loop = asyncio.get_running_loop()
        while (
            not self._closed
            and len(self._ready) + len(self._building) < self.count
            and (self._room is None or self._room())
        ):
            future = loop.run_in_executor(self._executor, self._build, self.name())
            self._building.add(future)
            future.add_done_callback(self._built)

    async def wait(self) -> None:
        """Until the spares being built are ready (or failed); refills waiting for their
        turn are started now."""
        if self._refills:
            for handle in self._refills:
                handle.cancel()
            self._refills.clear()
            self.fill()
        if self._building:
            await asyncio.wait(list(self._building))

    def _built(self, future: asyncio.Future[Spare]) -> None:
        self._building.discard(future)
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            if not self._failing:
                self._log.warning("cannot prepare a spare sandbox: %s", exc)
            self._failing = True
            return
        self._failing = False
        spare = future.result()
        if self._closed:
            self._discard(spare)
        else:
            self._ready.append(spare)

    def _discard(self, spare: Spare) -> None:
        task = asyncio.get_running_loop().create_task(self._discarded(spare))
        self._discarding.add(task)
        task.add_done_callback(self._discarding.discard)

    async def _discarded(self, spare: Spare) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, spare.discard)
        self._gone(spare)

    def shed(self) -> None:
        """Discard the ready spares (their memory is needed); those being built are kept,
        and refills come as before: after the next take."""
        ready, self._ready = self._ready, []
        for spare in ready:
            self._discard(spare)

    async def close(self) -> None:
        """Discard every spare, those still being built included."""
        self._closed = True
        for handle in self._refills:
            handle.cancel()
        self._refills.clear()
        await self.wait()
        ready, self._ready = self._ready, []
        for spare in ready:
            self._discard(spare)
        if self._discarding:
            await asyncio.wait(list(self._discarding))
