"""Real cluster processes, for tests and the cluster bench: one `pywhisk controller` and
`pywhisk invoker --id N`s (process containers) sharing a store and a queue given by URL,
each in its own process with its own log file.

The processes are `python -m pywhisk.deploy.commands` of the interpreter running this, with this
process's environment (PYTHONPATH included), so they run the code being tested.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.polling import wait_until
from tests.support.server import free_port


class Proc:
    """`pywhisk <command>` in a process of its own, its output in `log_path`."""

    def __init__(
        self, name: str, command: list[str], log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.log_path = log_path
        with open(log_path, "ab") as log:  # the child keeps its own copy of the fd
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pywhisk.deploy.commands", *command],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Cluster:
    """A controller on a free loopback port and invokers, started one by one; `env` is added
    to each process's environment (PYWHISK_* settings)."""

    def __init__(
        self, root: Path, store_url: str, queue_url: str, env: dict[str, str] | None = None
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.store_url = store_url
        self.queue_url = queue_url
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: dict[str, Proc] = {}
        self.controllers: list[str] = []  # every started controller's URL

    def backends(self) -> list[str]:
        return ["--store-url", self.store_url, "--queue-url", self.queue_url]

    def start_controller(self, n: int = 0, of: int = 1) -> str:
        """Controller `n` of `of` (0: on `self.port`, others on free ports); its URL."""
        port = self.port if n == 0 else free_port()
        command = ["controller", "--port", str(port), *self.backends()]
        if of > 1:
            command += ["--controller-id", str(n), "--controller-count", str(of)]
        name = "controller" if n == 0 else f"controller{n}"
        self.procs[name] = Proc(name, command, self.root / f"{name}.log", self.env)
        self.controllers.append(f"http://127.0.0.1:{port}")
        return self.controllers[-1]

    def start_invoker(self, n: int) -> None:
        # Process containers; a PYWHISK_CONTAINERS_URL in `env` says which and how.
        url = self.env.get("PYWHISK_CONTAINERS_URL")
        containers = [] if url else ["--containers", "process"]
        command = ["invoker", "--id", str(n), *containers, *self.backends()]
        log_path = self.root / f"invoker{n}.log"
        self.procs[f"invoker{n}"] = Proc(f"invoker{n}", command, log_path, self.env)

    def wait_for_controller(self, timeout: float = 30.0, url: str | None = None) -> None:
        """Until the controller (the first, or the one at `url`) answers /ping; the failure
        carries the processes' logs."""
        wait_until(
            lambda: self._get("/ping", url).text,
            f"the controller at {url or self.url} to answer /ping",
            timeout=timeout,
            until=lambda answer: answer == "pong",
            ignoring=(httpx.TransportError,),
            details=self.logs,
        )

    def wait_for_invokers(self, invokers: dict[str, str], timeout: float = 15.0) -> None:
        """Until every started controller's `GET /invokers` is `invokers` (e.g.
        {"invoker0": "up"}): each learns of the invokers from their own pings, so one seeing
        them says nothing of another, which would still answer 503 to an invoke."""
        for url in self.controllers or [self.url]:
            seen = functools.partial(self._seen_invokers, url)
            wait_until(
                seen,
                f"the controller at {url} to see {invokers}",
                timeout=timeout,
                until=lambda seen: seen == invokers,
                ignoring=(httpx.TransportError,),
                details=self.logs,
            )

    def _seen_invokers(self, url: str) -> object:
        return self._get("/invokers", url).json()

    def _get(self, path: str, url: str | None = None) -> httpx.Response:
        """GET from the controller, unless a process has exited: then no wait can succeed,
        and the failure says so at once."""
        exited = [p.name for p in self.procs.values() if p.process.poll() is not None]
        if exited:
            raise RuntimeError(f"{', '.join(exited)} exited:\n{self.logs()}")
        return httpx.get(f"{url or self.url}{path}", timeout=1)

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{p.log()[-4000:]}" for name, p in self.procs.items())

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()


def invoker_of(result: dict[str, Any]) -> int:
    """The invoker an action ran on, from the hostname it reported (`wsk<id>_…`)."""
    return int(result["home"].split("_")[0].removeprefix("wsk"))


def record(api: httpx.Client, activation_id: str, deadline: float) -> dict[str, Any]:
    """The stored record, polled for until `deadline` (a time.monotonic() shared by the
    records of one check); an answer other than 200 or 404 fails at once."""

    def read() -> httpx.Response:
        r = api.get(f"/activations/{activation_id}")
        assert r.status_code in (200, 404), (activation_id, r.text)
        return r

    found = wait_until(
        read,
        f"the record of {activation_id}",
        timeout=max(0.0, deadline - time.monotonic()),
        interval=0.2,
        until=lambda r: r.status_code == 200,
    )
    return found.json()  # type: ignore[no-any-return]
