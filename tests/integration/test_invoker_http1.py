"""The invoker's HTTP/1.1 client against real sockets: keep-alive, chunked replies, caps, drops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from pywhisk.invoker.http1 import ConnectionLost, Http1Connection

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> int:
        async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await handler(reader, writer)
                await reader.read()  # until the client hangs up
            finally:
                writer.close()

        server = await asyncio.start_server(closing, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return await reader.readexactly(length)


async def test_keeps_one_connection_and_reads_chunked(
    serve: Callable[[Handler], Awaitable[int]],
) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                body = await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:3], body[3:]))
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
            )
            await writer.drain()

    conn = Http1Connection("127.0.0.1", await serve(handler), cap=1000)
    for i in range(5):
        assert await conn.post("/run", b'{"n":%d}' % i, 5) == (200, b'{"n":%d}' % i, 7)
    assert connections == 1
    conn.close()


async def test_caps_the_kept_body_but_counts_it_all(
    serve: Callable[[Handler], Awaitable[int]],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        await writer.drain()

    conn = Http1Connection("127.0.0.1", await serve(handler), cap=10)
    status, body, total = await conn.post("/run", b"{}", 5)
    assert (status, body, total) == (200, b"x" * 10, 5000)
    conn.close()


async def test_dropped_connection_raises_and_next_request_reconnects(
    serve: Callable[[Handler], Awaitable[int]],
) -> None:
    calls = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        calls += 1
        await read_request(reader)
        if calls == 1:
            writer.transport.abort()  # dies mid-activation
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()

    conn = Http1Connection("127.0.0.1", await serve(handler), cap=100)
    with pytest.raises(ConnectionLost):
        await conn.post("/run", b"{}", 5)
    assert await conn.post("/run", b"{}", 5) == (200, b"{}", 2)
    conn.close()


async def test_refused_connection_is_an_os_error() -> None:
    conn = Http1Connection("127.0.0.1", 1, cap=100)
    with pytest.raises(OSError):
        await conn.post("/init", b"{}", 5)


def test_works_on_uvloop() -> None:
    """The standalone server runs on uvloop, whose transports differ from asyncio's."""
    import uvloop

    async def scenario() -> tuple[int, bytes, int]:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        conn = Http1Connection("127.0.0.1", server.sockets[0].getsockname()[1], cap=100)
        try:
            return await conn.post("/run", b"{}", 5)
        finally:
            conn.close()
            server.close()
            await server.wait_closed()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(scenario()) == (200, b"{}", 2)


async def test_timeout_closes_the_connection(serve: Callable[[Handler], Awaitable[int]]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(0.5)  # too late
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

    conn = Http1Connection("127.0.0.1", await serve(handler), cap=100)
    with pytest.raises(TimeoutError):
        await conn.post("/run", b"{}", 0.1)
    assert conn._proto is None  # the late reply can never be read as the next one's
