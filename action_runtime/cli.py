"""Command line of the action proxy: arguments, the listening socket, start and shutdown.

    python3 -m action_runtime --language python|php|nodejs
                              [--host H --port P | --listen-fd N]
                              [--interpreter CMD] [--kind KIND]

--listen-fd N   an already bound and listening TCP socket inherited from the parent: the
                process-container factory creates it, so connections queue in its backlog
                until we accept (no readiness polling, no port races). Default: 0.0.0.0:8080.
--interpreter   the interpreter to run the launcher with (default: per language, see
                languages.py); --kind only changes how messages name the runtime.

The current directory is the action's private work dir: /init writes the code there.
Nothing is printed at start-up unless something is wrong: our stdout/stderr are the action's
logs, and whatever we print lands in the first activation's logs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import socket
import sys
from pathlib import Path

from .languages import LANGUAGES, find_interpreter
from .proxy import ActionProxy
from .server import Server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="action_runtime", description=__doc__.split("\n")[0])
    parser.add_argument("--language", required=True, choices=sorted(LANGUAGES))
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--listen-fd", type=int, default=None, help="inherited listening socket")
    parser.add_argument("--interpreter", default=None, help="interpreter command or path")
    parser.add_argument("--kind", default=None, help="runtime kind named in messages")
    return parser.parse_args(argv)


def forget_work_dir_imports(work_dir: Path) -> None:
    """Keep the user's files (a zip may hold `json.py`) from shadowing our lazy imports.

    `-m` puts the cwd first on sys.path; the cwd is the work dir, unless someone runs the proxy
    from the directory that holds the package itself.
    """
    package_parent = Path(__file__).resolve().parent.parent
    if package_parent == work_dir:
        return
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != work_dir]


async def serve(args: argparse.Namespace) -> None:
    language = LANGUAGES[args.language]
    if args.kind:
        language = dataclasses.replace(language, kind=args.kind)
    work_dir = Path.cwd().resolve()
    forget_work_dir_imports(work_dir)

    interpreter = find_interpreter(language, args.interpreter)
    if interpreter is None:
        # Keep serving: the invoker then gets this message from /init, where users see it.
        print(language.missing_message(), file=sys.stderr, flush=True)

    proxy = ActionProxy(language, interpreter, work_dir)
    proxy.start()
    server = Server(proxy.init, proxy.run)
    if args.listen_fd is not None:
        sock = socket.socket(fileno=args.listen_fd)
        # The launcher (and the user's code) must not inherit our listening socket.
        sock.set_inheritable(False)
        await server.start(sock=sock)
    else:
        await server.start(host=args.host, port=args.port)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        proxy.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except OSError as exc:  # e.g. the port is taken or the fd is not a socket
        print(f"action_runtime: {exc}", file=sys.stderr)
        return 1
    return 0
