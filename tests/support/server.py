"""A real `pywhisk standalone` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pywhisk.common.entities import Identity, NamespaceLimits
from pywhisk.common.ids import new_auth
from pywhisk.common.store.base import store_from_url
from tests.support.polling import wait_until

# Generous per-namespace throttles so tests don't trip the OW defaults (60/min) by volume;
# throttle tests create their own namespaces with low limits.
TEST_LIMITS = {"invocationsPerMinute": 100_000, "concurrentInvocations": 1_000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StandaloneServer:
    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """`command`: what runs `pywhisk` (default: this interpreter's installed one)."""
        self.data_dir = data_dir
        self.command = command or [sys.executable, "-m", "pywhisk.deploy.commands"]
        self.port = port or free_port()
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0, wait: bool = True) -> None:
        """Start the server and wait until it answers; `wait=False` returns once the process
        runs (a test that kills it while it is starting)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            # The server writes guest's credentials here instead of the user's ~/.wskprops.
            "WSK_CONFIG_FILE": str(self.data_dir / "server.wskprops"),
            **self.extra_env,
        }
        command = [*self.command, "standalone"]
        command += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the fd
            # Run from the data directory, as a user would: not from the checkout, where the
            # folders (common/, controller/, ...) would be importable under their bare names.
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir
            )
        if not wait:
            return
        wait_until(
            self._ping,
            f"the standalone server to answer /ping on {self.url}",
            timeout=timeout,
            interval=0.05,
            until=lambda answer: answer == "pong",
            ignoring=(httpx.TransportError,),
            details=self.log,
        )

    def _ping(self) -> str:
        assert self.process is not None
        if self.process.poll() is not None:  # no use waiting: say why at once
            raise RuntimeError(f"standalone server exited:\n{self.log()}")
        return httpx.get(f"{self.url}/ping", timeout=1).text

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def create_namespace(self, name: str, **limits: int) -> Identity:
        """Add a namespace straight into the store, as `pywhisk admin create` does."""
        return create_namespace(f"sqlite:///{self.data_dir / 'pywhisk.db'}", name, **limits)


def create_namespace(store_url: str, name: str, **limits: int) -> Identity:
    """Add a namespace with a fresh key to the store at `store_url` (any backend), as
    `pywhisk admin create` does; `limits` are NamespaceLimits fields."""

    async def go() -> Identity:
        store = store_from_url(store_url)
        await store.open()
        try:
            uuid, key = new_auth()
            identity = Identity(
                namespace=name, subject=name, uuid=uuid, key=key, limits=NamespaceLimits(**limits)
            )
            await store.subjects.put(identity)
            return identity
        finally:
            await store.close()

    return asyncio.run(go())


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[StandaloneServer]:
    """A standalone server of one test's own, for tests that stop and start it."""
    srv = StandaloneServer(tmp_path / "server")
    srv.start()
    yield srv
    srv.stop()
