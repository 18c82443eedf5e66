"""What a service checks before it opens anything, so a start-up failure is one line on
stderr and a non-zero exit at once, never a traceback or a process that lingers.

The listening socket is bound here, before the store, queue and containers are opened, and
handed to uvicorn: a port already in use is then known in a millisecond (uvicorn would find
out after the invoker started its stem cells, log a traceback and exit with its own code),
and nobody can take the port between the check and the serving. The data directory is
written to once (a probe file), because `mkdir` succeeding says nothing about writing: a
read-only mount or a directory owned by another user would otherwise fail on the first
activation record, minutes later.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit


class StartupError(Exception):
    """A service cannot start; the message says why and what to do, in one line."""


def one_line(exc: BaseException) -> str:
    """`exc`'s message as one line (the first one it has), or its type when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def prepare_data_dir(path: Path) -> None:
    """Create `path` if need be, its owner's alone (0700: it holds the store, every
    namespace's key), and prove it writable, or raise StartupError."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise StartupError(f"cannot use the data directory {path}: {reason}") from None


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A socket bound to host:port and listening, or StartupError naming the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn does: a restarted server may rebind while old connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.set_inheritable(False)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"cannot listen on {host}:{port}: the address is already in use "
                "(another pywhisk running? choose another port with --port)"
            ) from None
        reason = (exc.strerror or str(exc)).lower()
        raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def store_dir_of(store_url: str) -> Path | None:
    """The directory a `sqlite:///…` store file lives in (None for other stores)."""
    parts = urlsplit(store_url)
    if parts.scheme != "sqlite" or parts.netloc == ":memory:" or parts.path in ("", "/:memory:"):
        return None
    return Path(parts.path).parent
