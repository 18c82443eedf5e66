"""The action proxy's options, as its command line (`cli.py`) sets them and the service
(`service.py`) uses them."""

from __future__ import annotations


class Options:
    __slots__ = (
        "adopt_fd",
        "host",
        "interpreter",
        "kind",
        "language",
        "listen_fd",
        "port",
        "ready_fd",
        "token",
        "unzip_max",
    )

    def __init__(self) -> None:
        self.language = ""
        self.host = "0.0.0.0"
        self.port = 8080
        self.listen_fd: int | None = None
        self.interpreter: str | None = None
        self.kind: str | None = None
        self.token: str | None = None
        self.unzip_max: int | None = None  # artifacts.UNPACKED_MAX (not imported before the spawn)
        self.adopt_fd: int | None = None  # booted ahead: serve once the kind arrives here
        self.ready_fd: int | None = None  # booted ahead: say so here, then wait for adoption
