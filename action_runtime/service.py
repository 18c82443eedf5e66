"""The running proxy: event loop, listening socket, signals, and the proxy state."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

from . import artifacts
from .adoption import adopted
from .languages import Language
from .options import Options
from .proxy import ActionProxy
from .server import Server
from .spawn import LauncherProcess


def forget_work_dir_imports(work_dir: Path) -> None:
    """Keep the user's files (a zip may hold `json.py`) from shadowing our lazy imports.

    `-m` puts the cwd first on sys.path; the cwd is the work dir, unless someone runs the proxy
    from the directory that holds the package itself.
    """
    package_parent = Path(__file__).resolve().parent.parent
    if package_parent == work_dir:
        return
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != work_dir]


async def serve(
    options: Options, language: Language, process: LauncherProcess | None, problem: str | None
) -> None:
    work_dir = Path.cwd().resolve()
    forget_work_dir_imports(work_dir)
    unzip_max = options.unzip_max or artifacts.UNPACKED_MAX
    stop = asyncio.Event()
    proxy = ActionProxy(language, process, work_dir, problem, unzip_max, on_dead=stop.set)
    server = Server(proxy.init, proxy.run, options.token)
    if options.adopt_fd is not None:
        artifacts.preload()
        if options.ready_fd is not None:
            with contextlib.suppress(OSError):  # nobody waits for it any more: not ours to mind
                os.write(options.ready_fd, b"\n")
            os.close(options.ready_fd)
        # Booted ahead: everything above is done before an action takes the container; the
        # socket is served once it has (nobody connects before: the invoker adopts first).
        if not await adopted(options.adopt_fd, proxy):
            proxy.close()  # its launcher goes with it
            return
    if options.listen_fd is not None:
        await server.start(sock=socket.socket(fileno=options.listen_fd))
    else:
        await server.start(host=options.host, port=options.port)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await server.drained()  # an answer being sent still goes out
    finally:
        proxy.close()


def run(
    options: Options, language: Language, process: LauncherProcess | None, problem: str | None
) -> int:
    """Serve until SIGTERM/SIGINT, or until the loaded action's launcher dies between requests;
    `problem` says why there is no launcher, if there is none."""
    try:
        asyncio.run(serve(options, language, process, problem))
    except OSError as exc:  # e.g. the port is taken or the fd is not a socket
        print(f"action_runtime: {exc}", file=sys.stderr)
        return 1
    return 0
