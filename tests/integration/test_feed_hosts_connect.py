"""A changes feed connects to the address its host was checked at, over real HTTP: the
request goes to that address with the host's name in `Host`, so no second DNS answer is
consulted."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from pywhisk.controller.core.feeds.alarm_spec import FeedRefused
from pywhisk.controller.core.feeds.changes import current_seq
from pywhisk.controller.core.feeds.feed_hosts import HostPolicy, checked_address


async def test_the_checked_address_is_the_one_connected_to() -> None:
    policy = HostPolicy.parse("localhost")
    seen: list[str] = []

    async def couch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        seen.extend(line for line in head.split("\r\n") if line.lower().startswith("host:"))
        body = json.dumps({"db_name": "db", "update_seq": "7-abc"}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
        writer.close()

    address = await checked_address(policy, "localhost", 80)
    server = await asyncio.start_server(couch, address, 0)
    port = server.sockets[0].getsockname()[1]
    config = {"host": "localhost", "port": port, "protocol": "http", "dbname": "db"}
    async with server, httpx.AsyncClient(timeout=10) as client:
        assert await current_seq(client, config, policy) == "7-abc"
    assert [line.lower() for line in seen] == [f"host: localhost:{port}"]


async def test_a_refused_host_is_refused_before_any_connection() -> None:
    config = {"host": "127.0.0.1", "port": 9, "protocol": "http", "dbname": "db"}
    async with httpx.AsyncClient(timeout=10) as client:
        with pytest.raises(FeedRefused, match=r"host '127\.0\.0\.1' cannot be used"):
            await current_seq(client, config, HostPolicy())
