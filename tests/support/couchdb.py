"""A real CouchDB HTTP API for tests: pouchdb-server, installed on first use and started here.

`ensure_pouchdb_server()` installs `pouchdb-server@4.2.0` with npm into the pywhisk cache
(`$PYWHISK_CACHE_DIR`, else /var/cache/pywhisk as root, else ~/.cache/pywhisk) under
`node/pouchdb-server-4.2.0`, once; later sessions find it there. `PouchDBServer` runs it
in memory on a free loopback port with an admin (couchdb3 logs in through `/_session`,
which needs one). `TcpGate` stands between a store and the server so a test can cut the
network and restore it. The session fixture `couchdb_server` is here; a test module uses it
by importing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pywhisk.deploy.baseimage import cache_dir  # pywhisk's one cache directory
from tests.support.polling import WaitTimeout, wait_until
from tests.support.server import free_port

POUCHDB_SERVER_VERSION = "4.2.0"
ADMIN = ("admin", "secret")


def _installed(prefix: Path) -> Path | None:
    package = prefix / "node_modules" / "pouchdb-server" / "package.json"
    with contextlib.suppress(OSError, ValueError):
        if json.loads(package.read_text())["version"] == POUCHDB_SERVER_VERSION:
            return prefix / "node_modules" / "pouchdb-server" / "bin" / "pouchdb-server"
    return None


def ensure_pouchdb_server() -> Path:
    """The pouchdb-server script, installed with npm if this cache does not have it yet
    (about a minute; one installer at a time, into a temporary directory then renamed, so
    an interrupted install leaves nothing half done)."""
    prefix = cache_dir() / "node" / f"pouchdb-server-{POUCHDB_SERVER_VERSION}"
    if script := _installed(prefix):
        return script
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if script := _installed(prefix):
            return script
        npm = shutil.which("npm")
        assert npm, "npm is needed to install pouchdb-server (Node.js 20 ships it)"
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=prefix.parent))
        try:
            done = subprocess.run(
                [
                    *(npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund"),
                    *("--save-exact", "--loglevel=error"),
                    f"pouchdb-server@{POUCHDB_SERVER_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                raise RuntimeError(f"npm install pouchdb-server failed:\n{done.stderr[-4000:]}")
            staging.chmod(0o755)  # mkdtemp's 0700 would hide a root-made cache from users
            shutil.rmtree(prefix, ignore_errors=True)
            staging.rename(prefix)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    script = _installed(prefix)
    assert script, f"pouchdb-server is not where npm was told to put it ({prefix})"
    return script


class PouchDBServer:
    """`pouchdb-server --in-memory` on a free loopback port, with an admin."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def store_url(self, prefix: str, port: int | None = None) -> str:
        user, password = ADMIN
        return f"couchdb://{user}:{password}@127.0.0.1:{port or self.port}/{prefix}"

    def client(self) -> httpx.Client:
        """An admin's client, for checking what the store wrote from outside it."""
        return httpx.Client(base_url=self.http_url, auth=ADMIN, timeout=30)

    def start(self, timeout: float = 60.0) -> None:
        script = ensure_pouchdb_server()
        node = shutil.which("node")
        assert node, "node is needed to run pouchdb-server"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        command = [node, str(script), "--in-memory", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--config", str(self.work_dir / "config.json")]
        with open(self.work_dir / "stdout.log", "ab") as out:  # the child keeps its own fd
            # Its request log (log.txt) goes to its working directory.
            self.process = subprocess.Popen(
                command, cwd=self.work_dir, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_until(
                self._welcome,
                f"pouchdb-server to answer on {self.http_url}",
                timeout=timeout,
                until=lambda status: status == 200,
                ignoring=(httpx.TransportError,),
                details=self.log,
            )
        except WaitTimeout:
            self.stop()
            raise
        user, password = ADMIN
        answer = httpx.put(f"{self.http_url}/_config/admins/{user}", json=password, timeout=10)
        answer.raise_for_status()

    def _welcome(self) -> int:
        assert self.process is not None
        if self.process.poll() is not None:  # no use waiting: say why at once
            raise RuntimeError(f"pouchdb-server exited:\n{self.log()}")
        return httpx.get(self.http_url, timeout=1).status_code

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        path = self.work_dir / "stdout.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def drop_databases(self, prefix: str) -> None:
        with self.client() as client:
            for name in client.get("/_all_dbs").json():
                if name.startswith(prefix):
                    client.delete(f"/{name}").raise_for_status()


@pytest.fixture(scope="session")
def couchdb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PouchDBServer]:
    server = PouchDBServer(tmp_path_factory.mktemp("pouchdb"))
    server.start()
    yield server
    server.stop()


class TcpGate:
    """A loopback TCP forwarder to `target_port`. `cut()` closes every connection through it
    and refuses new ones, as a network failure would; `restore()` opens the same port again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            self._pipes.discard(task)
            return
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        except (asyncio.CancelledError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                w.close()
            self._pipes.discard(task)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()
