"""ContainerClient against a real HTTP server on a loopback socket.

The server is a few lines of asyncio so each test can script exactly what the "container"
does on the wire: answer, answer chunked, hang, or drop the connection.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from pywhisk.common.entities.activation import Status
from pywhisk.invoker import outcomes
from pywhisk.invoker.client import ContainerClient

Behaviour = Callable[[str, bytes], Awaitable[tuple[int, bytes, bool] | None]]


@dataclass
class Server:
    behaviour: Behaviour
    peers: list[tuple[str, int]] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.peers.append(writer.get_extra_info("peername"))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                path = lines[0].split()[1]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                answer = await self.behaviour(path, body)
                if answer is None:  # drop the connection, as a dying container does
                    writer.transport.abort()
                    return
                status, payload, chunked = answer
                if chunked:
                    writer.write(
                        f"HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                    )
                    for i in range(0, len(payload), 1000):
                        part = payload[i : i + 1000]
                        writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    writer.write(b"0\r\n\r\n")
                else:
                    writer.write(
                        f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\n"
                        "Content-Type: application/json\r\n\r\n".encode()
                        + payload
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Behaviour], Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(behaviour: Behaviour) -> Server:
        server = Server(behaviour)
        srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        server.port = srv.sockets[0].getsockname()[1]
        servers.append(srv)
        return server

    yield start
    for srv in servers:
        srv.close()
        await srv.wait_closed()


@pytest.fixture
async def clients() -> AsyncIterator[list[ContainerClient]]:
    made: list[ContainerClient] = []
    yield made
    for c in made:
        await c.close()


def client_for(
    server: Server, clients: list[ContainerClient], limit: int = 1000
) -> ContainerClient:
    c = ContainerClient("127.0.0.1", server.port, payload_max=limit)
    clients.append(c)
    return c


async def echo(path: str, body: bytes) -> tuple[int, bytes, bool]:
    return 200, body if path == "/run" else b'{"ok":true}', False


async def test_init_and_runs_share_one_kept_alive_connection(serve, clients) -> None:
    server = await serve(echo)
    c = client_for(server, clients)
    init = await c.init(b'{"value":{}}', 1000)
    assert init.response is None and init.healthy
    for i in range(3):
        reply = await c.run(b'{"n":%d}' % i, 1000)
        assert reply.response is not None
        assert reply.response.status == Status.SUCCESS and reply.response.result == {"n": i}
        assert reply.start <= reply.end
    assert len(server.peers) == 1


async def test_a_run_is_recorded_at_least_as_long_as_the_container_took(serve, clients) -> None:
    """Lambda's billing: the time a run took rounded up to the millisecond. The container
    here works for 2.2 ms, then a reply with nothing to do: every run must record at least
    3 ms (two clock readings' milliseconds would often say 2) and the quick ones at least 1
    (the readings would often say 0)."""
    took: list[float] = []

    async def busy(path: str, body: bytes) -> tuple[int, bytes, bool]:
        if body == b'{"work":true}':
            began = time.perf_counter()
            while time.perf_counter() - began < 0.0022:
                pass
            took.append(time.perf_counter() - began)
        return 200, b"{}", False

    c = client_for(await serve(busy), clients)
    for _ in range(20):
        reply = await c.run(b'{"work":true}', 1000)
        assert reply.end - reply.start >= math.ceil(took[-1] * 1000) >= 3
        quick = await c.run(b"{}", 1000)
        assert quick.end - quick.start >= 1


async def test_tcp_nodelay_is_set(serve, clients) -> None:
    server = await serve(echo)
    c = client_for(server, clients)
    await c.run(b"{}", 1000)
    # The kept-alive connection (private, but it is the one to check).
    protocol = c._conn._proto
    assert protocol is not None and protocol.transport is not None
    sock = protocol.transport.get_extra_info("socket")
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def test_application_error_keeps_container(serve, clients) -> None:
    async def fail(path: str, body: bytes) -> tuple[int, bytes, bool]:
        return 200, b'{"error":"nope","x":1}', False

    c = client_for(await serve(fail), clients)
    reply = await c.run(b"{}", 1000)
    assert reply.response is not None and reply.response.status == Status.APPLICATION_ERROR
    assert reply.response.result == {"error": "nope"} and reply.healthy


async def test_developer_error_marks_container_unhealthy(serve, clients) -> None:
    async def bad(path: str, body: bytes) -> tuple[int, bytes, bool]:
        return 200, b"42", False

    c = client_for(await serve(bad), clients)
    reply = await c.run(b"{}", 1000)
    assert reply.response is not None and reply.response.status == Status.DEVELOPER_ERROR
    assert not reply.healthy


async def test_init_failure(serve, clients) -> None:
    async def fail(path: str, body: bytes) -> tuple[int, bytes, bool]:
        return 502, b'{"error":"SyntaxError"}', False

    c = client_for(await serve(fail), clients)
    reply = await c.init(b"{}", 1000)
    assert reply.response is not None and reply.response.result == {"error": "SyntaxError"}
    assert not reply.healthy


async def test_run_timeout(serve, clients) -> None:
    async def hang(path: str, body: bytes) -> tuple[int, bytes, bool]:
        await asyncio.sleep(10)
        return 200, b"{}", False

    c = client_for(await serve(hang), clients)
    reply = await c.run(b"{}", 200)
    assert reply.timed_out and not reply.healthy
    assert reply.response is not None and reply.response.result == {
        "error": "The action exceeded its time limits of 200 milliseconds."
    }
    assert 150 <= reply.end - reply.start < 1000


async def test_init_timeout(serve, clients) -> None:
    async def hang(path: str, body: bytes) -> tuple[int, bytes, bool]:
        await asyncio.sleep(10)
        return 200, b"{}", False

    c = client_for(await serve(hang), clients)
    reply = await c.init(b"{}", 100)
    assert reply.timed_out and reply.response is not None
    assert reply.response.result == {"error": outcomes.timed_out(100, during_init=True)}


async def test_dropped_connection(serve, clients) -> None:
    async def drop(path: str, body: bytes) -> None:
        return None

    c = client_for(await serve(drop), clients)
    run = await c.run(b"{}", 1000)
    assert run.response is not None and run.response.result == {"error": outcomes.ABNORMAL_RUN}
    assert not run.healthy and not run.timed_out
    init = await c.init(b"{}", 1000)
    assert init.response is not None and init.response.result == {"error": outcomes.ABNORMAL_INIT}


async def test_nothing_listening(clients) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = ContainerClient("127.0.0.1", port, 1000)
    clients.append(c)
    run = await c.run(b"{}", 1000)
    assert run.response is not None and run.response.result == {"error": outcomes.ABNORMAL_RUN}


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_result(serve, clients, chunked: bool) -> None:
    big = b'{"a":"' + b"x" * 5000 + b'"}'

    async def large(path: str, body: bytes) -> tuple[int, bytes, bool]:
        return 200, big, chunked

    c = client_for(await serve(large), clients, limit=100)
    reply = await c.run(b"{}", 1000)
    assert reply.response is not None and reply.response.status == Status.APPLICATION_ERROR
    assert reply.response.result == {"error": outcomes.truncated(len(big), 100, big[:100].decode())}
    assert reply.healthy
