"""Command line of the action proxy.

    python3 -m action_runtime --language python|php|nodejs|provided
                              [--host H --port P | --listen-fd N]
                              [--interpreter CMD] [--kind KIND] [--unzip-max BYTES]
    python3 -m action_runtime --listen-fd N --options-fd M
    python3 -m action_runtime --language L --listen-fd N [--interpreter CMD] --adopt-fd M
                              [--ready-fd R]

--listen-fd N   an already bound and listening TCP socket inherited from the parent: the
                process-container factory creates it, so connections queue in its backlog
                until we accept (no readiness polling, no port races). Default: 0.0.0.0:8080.
--interpreter   the interpreter to run the launcher with (default: per language, see
                languages.py); --kind only changes how messages name the runtime.
--unzip-max     how many bytes a zipped action may unpack to (default 256 MB, see
                artifacts.py).
--options-fd M  more of these options, NUL-separated, read from the inherited descriptor M
                until EOF: a sandbox made before its action is known (a spare, see the
                invoker's process_spares.py) gets its language this way.
--adopt-fd M    boot now, serve later: spawn the launcher, import everything, then wait for
                EOF on descriptor M, which brings the options known only when an action
                takes the container (`--kind`, NUL-separated), and only then serve the
                socket. A spare sandbox booted ahead for a language (process_spares.py)
                is started this way, so taking it costs a pipe write, not two interpreter
                starts and the proxy's imports.
--ready-fd R    with --adopt-fd: a line is written to R, which is then closed, once all
                that is done and the proxy waits for its adoption.

The current directory is the action's private work dir: /init writes the code there.

PYWHISK_RUNTIME_TOKEN in the environment: requests without it in the X-Runtime-Token header
are refused (403), so other containers on a shared network cannot drive this runtime. It is
taken out of the environment before the launcher starts: the action never sees it there.

Start-up order is the point of this module: parse arguments and spawn the launcher using
nothing but os, and only then import asyncio and the server, which costs tens of
milliseconds that the launcher's interpreter spends booting on the other core.
"""

from __future__ import annotations

import os
import sys

from .languages import LANGUAGES, find_interpreter
from .options import Options

USAGE = (
    "usage: python3 -m action_runtime --language python|php|nodejs|provided "
    "[--host H --port P | --listen-fd N] [--interpreter CMD] [--kind KIND] "
    "[--unzip-max BYTES] [--options-fd M]"
)


class UsageError(Exception):
    pass


_NUMBERS = {
    "--port": "port",
    "--listen-fd": "listen_fd",
    "--unzip-max": "unzip_max",
    "--adopt-fd": "adopt_fd",
    "--ready-fd": "ready_fd",
}
_FLAGS = ("--language", "--host", "--interpreter", "--kind", "--options-fd", *_NUMBERS)


def read_options(fd: int) -> list[str]:
    """The NUL-separated arguments written to descriptor `fd`, until EOF (then closed)."""
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return [arg for arg in b"".join(chunks).decode().split("\0") if arg]


def parse_args(argv: list[str]) -> Options:
    """Parse our few flags (`--flag value` or `--flag=value`); argparse costs ~10 ms to import."""
    options = Options()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            raise UsageError("")
        flag, sep, value = arg.partition("=")
        if flag not in _FLAGS:
            raise UsageError(f"unknown argument: {arg}")
        if not sep:
            if not args:
                raise UsageError(f"{flag} needs a value")
            value = args.pop(0)
        if flag == "--options-fd":
            try:
                args[:0] = read_options(int(value))
            except (ValueError, OSError) as exc:
                raise UsageError(f"--options-fd {value}: {exc}") from None
            continue
        if flag in _NUMBERS:
            try:
                number = int(value)
            except ValueError:
                raise UsageError(f"{flag} needs a number, not {value!r}") from None
            setattr(options, _NUMBERS[flag], number)
        else:
            setattr(options, flag[2:], value)
    if options.language not in LANGUAGES:
        raise UsageError(f"--language must be one of: {', '.join(sorted(LANGUAGES))}")
    return options


def main(argv: list[str] | None = None) -> int:
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"{USAGE}\n{exc}" if str(exc) else f"{USAGE}\n\n{__doc__}", file=sys.stderr)
        return 0 if not str(exc) else 2

    if options.adopt_fd is not None:
        try:
            # The launcher must not hold them open.
            os.set_inheritable(options.adopt_fd, False)
            if options.ready_fd is not None:
                os.set_inheritable(options.ready_fd, False)
        except OSError as exc:
            print(f"action_runtime: --adopt-fd {options.adopt_fd}: {exc}", file=sys.stderr)
            return 2
    if options.listen_fd is not None:
        try:
            # Before the spawn: neither the launcher nor the action may inherit our socket.
            os.set_inheritable(options.listen_fd, False)
        except OSError as exc:
            print(f"action_runtime: --listen-fd {options.listen_fd}: {exc}", file=sys.stderr)
            return 2

    options.token = os.environ.pop("PYWHISK_RUNTIME_TOKEN", None) or None
    language = LANGUAGES[options.language]
    if options.kind:
        language = language.with_kind(options.kind)
    interpreter = find_interpreter(language, options.interpreter)
    process = None
    problem = None
    if interpreter is None:
        problem = language.missing_message()
    else:
        from .spawn import spawn_launcher

        try:
            process = spawn_launcher(language.argv(interpreter))
        except OSError as exc:
            problem = f"The {language.kind} runtime could not start {interpreter}: {exc}"
    if problem is not None:
        # Keep serving: the invoker then gets the message from /init, where users see it.
        print(problem, file=sys.stderr, flush=True)

    from .service import run  # asyncio and friends: imported while the launcher boots

    return run(options, language, process, problem)
