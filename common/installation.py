"""Which installation of pywhisk something belongs to, so that two of them sharing a Docker
engine (a standalone server beside a compose cluster, two developers' servers) never take
each other's containers for their own leftovers.

An invoker removes, when it starts, the containers a crashed earlier run of it left behind:
those with its invoker id whose owner process is gone. Without an installation id, every
installation's invoker 0 matched, and an owner on another host (an invoker in a container
has its own hostname) looked gone, so each installation deleted the other's running actions.
Now every container carries `pywhisk.installation`, and only an installation's own are
ever looked at.

The id is `PYWHISK_INSTALLATION_ID` when set (docker-compose.yml sets one: its invokers'
data directories live and die with their containers), else made once and kept in the data
directory's `installation-id` file, so a standalone server keeps it across restarts and
finds what it left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from pathlib import Path

from pywhisk.common.startup import StartupError

FILE_NAME = "installation-id"
# Usable in a Docker label and as the start of a container name.
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,47}")


def check(value: str, origin: str) -> str:
    if not _VALID.fullmatch(value):
        raise StartupError(
            f"invalid installation id {value!r} in {origin}: 1 to 48 letters, digits, "
            "'_', '.' or '-', starting with a letter or digit"
        )
    return value


def installation_id(configured: str, data_dir: Path) -> str:
    """`configured` if set, else the id kept in `data_dir` (made there the first time).
    Blocking file I/O: call it off the event loop."""
    if configured:
        return check(configured, "PYWHISK_INSTALLATION_ID")
    path = data_dir / FILE_NAME
    try:
        return check(path.read_text().strip(), str(path))
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StartupError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked: two processes starting at once on
        # one data directory both end up with whichever id was linked first.
        fd, staging = tempfile.mkstemp(prefix=f".{FILE_NAME}-", dir=data_dir)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(6) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(staging, path)
        finally:
            os.unlink(staging)
        return check(path.read_text().strip(), str(path))
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise StartupError(f"cannot keep the installation id in {path}: {reason}") from None
