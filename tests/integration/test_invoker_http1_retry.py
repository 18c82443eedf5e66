"""/init's retry while a container's server starts: a request nothing answered is sent again
(refused, or accepted and dropped by a port forwarder with nobody behind it), an answered one
never, and never past the time limit or once the container is known dead."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest

from pywhisk.invoker.http1 import ConnectionLost, Http1Connection

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Forwarder:
    """Accepts like docker-proxy: the first `drops` connections are closed without a byte,
    later ones answered (`reply`) after reading the request."""

    def __init__(self, drops: int, reply: bytes = OK) -> None:
        self.drops = drops
        self.reply = reply
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.connections > self.drops:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.reply)
            await writer.drain()
            if self.reply == OK:
                await reader.read()  # keep-alive until the client hangs up
        writer.close()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def forwarders() -> AsyncIterator[list[Forwarder]]:
    made: list[Forwarder] = []
    yield made
    for f in made:
        if f.server is not None:
            f.server.close()
            await f.server.wait_closed()


async def start(made: list[Forwarder], drops: int, reply: bytes = OK) -> tuple[Forwarder, int]:
    f = Forwarder(drops, reply)
    made.append(f)
    return f, await f.start()


async def test_dropped_without_an_answer_is_retried(forwarders: list[Forwarder]) -> None:
    f, port = await start(forwarders, drops=3)
    conn = Http1Connection("127.0.0.1", port, 1024, alive=lambda: True)
    try:
        assert await conn.post("/init", b"{}", 5, retry=True) == (200, b"ok", 2)
        assert f.connections == 4
    finally:
        conn.close()


async def test_without_retry_the_drop_is_reported(forwarders: list[Forwarder]) -> None:
    _, port = await start(forwarders, drops=1)
    conn = Http1Connection("127.0.0.1", port, 1024, alive=lambda: True)
    with pytest.raises(ConnectionLost) as info:
        await conn.post("/init", b"{}", 5)
    assert not info.value.answered
    conn.close()


async def test_no_retry_once_the_container_is_dead(forwarders: list[Forwarder]) -> None:
    f, port = await start(forwarders, drops=100)
    conn = Http1Connection("127.0.0.1", port, 1024, alive=lambda: f.connections < 2)
    with pytest.raises(ConnectionLost):
        await conn.post("/init", b"{}", 5, retry=True)
    assert f.connections == 2
    conn.close()


async def test_no_retry_without_knowing_whether_the_server_lives(
    forwarders: list[Forwarder],
) -> None:
    f, port = await start(forwarders, drops=1)
    conn = Http1Connection("127.0.0.1", port, 1024)
    with pytest.raises(ConnectionLost):
        await conn.post("/init", b"{}", 5, retry=True)
    assert f.connections == 1
    conn.close()


async def test_nothing_connects_to_a_dead_server() -> None:
    # An address no host owns: connecting would take the kernel seconds to give up.
    conn = Http1Connection("192.0.2.1", 8080, 1024, alive=lambda: False)
    began = time.monotonic()
    with pytest.raises(ConnectionLost):
        await conn.post("/run", b"{}", 5)
    assert time.monotonic() - began < 0.1


async def test_refused_until_listening(forwarders: list[Forwarder]) -> None:
    with socket.socket() as s:  # a port nobody listens on, yet
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = Http1Connection("127.0.0.1", port, 1024, alive=lambda: True)

    async def listen_later() -> asyncio.Server:
        await asyncio.sleep(0.05)
        f = Forwarder(drops=0)
        forwarders.append(f)
        f.server = await asyncio.start_server(f.handle, "127.0.0.1", port)
        return f.server

    later = asyncio.ensure_future(listen_later())
    began = time.monotonic()
    try:
        assert (await conn.post("/init", b"{}", 5, retry=True))[0] == 200
        assert time.monotonic() - began < 0.2  # found within a retry pause of listening
    finally:
        conn.close()
        await later


async def test_retries_stop_at_the_time_limit(forwarders: list[Forwarder]) -> None:
    _, port = await start(forwarders, drops=10_000)
    conn = Http1Connection("127.0.0.1", port, 1024, alive=lambda: True)
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        await conn.post("/init", b"{}", 0.2, retry=True)
    assert 0.19 < time.monotonic() - began < 0.5
    conn.close()


async def test_an_answered_request_is_never_sent_again(forwarders: list[Forwarder]) -> None:
    # Half a response, then the connection drops: the request was processed.
    f, port = await start(
        forwarders, drops=0, reply=b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok"
    )
    conn = Http1Connection("127.0.0.1", port, 1024, alive=lambda: True)
    with pytest.raises(ConnectionLost) as info:
        await conn.post("/init", b"{}", 5, retry=True)
    assert info.value.answered and f.connections == 1
    conn.close()
