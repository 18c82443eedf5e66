"""Booted spares: a spare sandbox per language with its runtime already running in it.

A spare (process_spares.py) is a sandbox held before anything runs in it; adopting one still
starts the proxy's interpreter, the launcher's interpreter beside it, and the proxy's imports
(asyncio and its server) on the cold path. Traced at the factory (`python -m bench
cold-start`, 2 cores, load 0.4): create 0.7 ms, then /init answered after 65–72 ms for
Python, Node.js and PHP alike, /run 0.6–1.2 ms. Nearly all of it is those two interpreter
starts and the imports, none of which depends on the action.

So for each language an invoker runs (Python, Node.js, PHP; `BOOTABLE`), `?booted=N` spares
(1 each) are started ahead *as that language's runtime*: bwrap released at once, the proxy
started with `--adopt-fd` (action_runtime/cli.py), which spawns its launcher, imports
everything, makes its event loop and then waits on that pipe. Taking one writes the
memory limit into its cgroups and the action's kind down the pipe: the proxy then serves
its socket, and /init only writes the code and has the waiting launcher load it.

Isolation is exactly a spare's: each booted spare is its own bwrap sandbox (PID, mount,
IPC, UTS namespaces), with a uid of its own from the pool and cgroups of its own, and its
processes are born in those cgroups before they run anything. Nothing is shared between
containers: no process outlives its container, none is forked from a parent that serves
another. That is why this is chosen over a zygote (one pre-imported interpreter per
language forking every container's runtime): a fork would have to enter a fresh user, PID
and mount namespace and drop to the container's uid (bwrap's work, redone in the zygote as
a privileged process the containers' code sits next to), and every child would inherit the
zygote's memory image, its ASLR layout, and its random state (Python's hash seed, Node's
Math.random and V8's heap layout), shared by all containers of that language. Here every
runtime is a fresh exec in its own sandbox.

What it costs: the interpreters' start is not saved, only moved off the cold path: the
replacement boots REFILL_DELAY after an adoption, on the factory's spawn threads. Creates
closer together than a boot (~70 ms of CPU) take a generic spare, as before. Held memory:
a booted spare is the proxy (21 MB resident, 11 MB proportional set size: much of it is
the interpreter's pages, shared) plus its launcher (resident: Python 10 MB, PHP 22 MB,
Node.js 40 MB; proportional 4, 6 and 8 MB), in the spare's cgroups at the default memory
limit until its adoption resizes them. `?booted=0` turns them off (every
create then adopts a generic spare, as before), and so does `PYWHISK_PREWARM=false` unless
the URL counts them: they are runtimes started ahead, as stem cells are.

Under the pool's budget (invoker/pool.py): what the booted spares' cgroups use is counted
against the invoker's user memory (`held_memory`), beside the containers, with either
budget policy. A new one is booted only when the budget has room for what the last of its
language used (`budget`), and they are the first to go when room is short (`shed`): a
container that fits only without them, or a sample that finds the pool over its budget,
discards them before any warm container. A language's booted spare comes back after its
next create, if there is room then.
"""

from __future__ import annotations

import os
import select

from pywhisk.invoker.containers.launch import LaunchError
from pywhisk.invoker.containers.sandbox import PROXY_DIR

DEFAULT_BOOTED = 1
BOOT_TIMEOUT = 30.0  # seconds for the proxy's boot, more than any loaded machine needed
# The languages whose launcher waits for its /init without running anything of the
# action's: `provided` runs the user's bootstrap, which only exists after /init.
BOOTABLE = ("python", "nodejs", "php")


def booted_argv(
    python: str,
    language: str,
    interpreter: str,
    unzip_max: int,
    listen_fd: int,
    adopt_fd: int,
    ready_fd: int,
) -> list[str]:
    """The proxy's command line in a booted spare: everything but the kind, which the
    adoption writes to `adopt_fd`; it says on `ready_fd` when it has booted."""
    return [
        python,
        *("-E", "-s", PROXY_DIR),
        *("--language", language, "--interpreter", interpreter),
        *("--unzip-max", str(unzip_max), "--listen-fd", str(listen_fd)),
        *("--adopt-fd", str(adopt_fd), "--ready-fd", str(ready_fd)),
    ]


def wait_booted(ready_r: int) -> None:
    """Until the proxy says it has booted (its launcher spawned, its imports done), so a
    spare is only offered once taking it skips all of that; LaunchError if it died first."""
    readable, _, _ = select.select([ready_r], [], [], BOOT_TIMEOUT)
    if not readable:
        raise LaunchError(f"the runtime did not boot in {BOOT_TIMEOUT:.0f} s")
    if not os.read(ready_r, 1):
        raise LaunchError("the runtime exited while booting")
