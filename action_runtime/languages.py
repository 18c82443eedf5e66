"""What the proxy needs to know about each action language, and how to find its interpreter.

Everything language-specific on the proxy side lives here: the interpreter to start, the flags
it gets, the launcher file it runs, and the file a single-file action is written to. The rest of
the proxy is language-neutral.

Imported before the launcher is spawned, so it sticks to os: no dataclasses, no pathlib (each
costs milliseconds of imports on the cold-start path).
"""

from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))


class Language:
    __slots__ = (
        "candidates",
        "command",
        "entry",
        "flags",
        "install",
        "kind",
        "launcher",
        "name",
    )

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        command: str,
        candidates: tuple[str, ...],
        install: str,
        entry: str,
        launcher: str,
        flags: tuple[str, ...] = (),
    ) -> None:
        self.name = name  # the --language value
        self.kind = kind  # the kind named in messages, e.g. "php:8.2"
        self.command = command  # the command users know, named when it is missing
        self.candidates = candidates  # tried in order: absolute paths or names on PATH
        self.install = install  # how to get the command on Debian
        self.entry = entry  # file a single-file action is written to (a zip must have it)
        self.launcher = launcher  # launcher file next to this module
        self.flags = flags  # interpreter flags placed before the launcher path

    def with_kind(self, kind: str) -> Language:
        copy = Language(**{slot: getattr(self, slot) for slot in self.__slots__})
        copy.kind = kind
        return copy

    def missing_message(self) -> str:
        return (
            f"The {self.kind} runtime needs the '{self.command}' command, "
            f"which is not installed ({self.install})."
        )

    def argv(self, interpreter: str) -> list[str]:
        return [interpreter, *self.flags, os.path.join(HERE, self.launcher)]


LANGUAGES: dict[str, Language] = {
    "python": Language(
        name="python",
        kind="python:3.11",
        command="python3",
        # Debian's interpreter first: process containers run as `nobody`, which cannot read a
        # developer's pyenv, and Docker images only have /usr/bin/python3 anyway.
        candidates=("/usr/bin/python3", "python3"),
        install="apt-get install python3",
        entry="__main__.py",
        launcher="launcher.py",
        # -E: the container's PYTHON* variables are not the action's business; -s: no user
        # site-packages of whoever owns $HOME.
        flags=("-E", "-s"),
    ),
    "php": Language(
        name="php",
        kind="php:8.2",
        command="php",
        candidates=("php", "php8.2"),
        install="apt-get install php-cli",
        entry="index.php",
        launcher="launcher.php",
        # Warnings belong in the activation's stderr, once (log_errors would print them twice),
        # as text; the container's memory limit is the only memory limit, as in OpenWhisk.
        flags=(
            "-d",
            "display_errors=stderr",
            "-d",
            "log_errors=0",
            "-d",
            "html_errors=0",
            "-d",
            "memory_limit=-1",
        ),
    ),
    "nodejs": Language(
        name="nodejs",
        kind="nodejs:20",
        command="node",
        candidates=("node", "nodejs"),
        install="apt-get install nodejs",
        entry="index.js",
        launcher="launcher.js",
    ),
    # Lambda custom runtimes: the user's `bootstrap` is the program; our Python launcher serves
    # it the Lambda Runtime API (launcher_provided.py), so Python is what must be installed.
    "provided": Language(
        name="provided",
        kind="provided",
        command="python3",
        candidates=("/usr/bin/python3", "python3"),
        install="apt-get install python3",
        entry="bootstrap",
        launcher="launcher_provided.py",
        flags=("-E", "-s"),
    ),
}


def which(command: str, path: str | None = None) -> str | None:
    """Absolute path of an executable `command` (a path or a name looked up on PATH).

    Our own lookup instead of shutil.which, whose imports cost milliseconds at start-up.
    """
    if "/" in command:
        return command if _is_executable(command) else None
    search = os.environ.get("PATH", os.defpath) if path is None else path
    for directory in search.split(os.pathsep):
        candidate = os.path.join(directory or ".", command)
        if _is_executable(candidate):
            return os.path.abspath(candidate)
    return None


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_interpreter(language: Language, override: str | None = None) -> str | None:
    """The interpreter to run `language`'s launcher with, or None when none is installed."""
    for command in (override,) if override else language.candidates:
        found = which(command)
        if found:
            return found
    return None
