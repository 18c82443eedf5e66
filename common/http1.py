"""Reading HTTP/1.1 responses on a kept-alive connection: the half the platform's two hot
clients share, the invoker's hop to its containers (`invoker/http1.py`) and the CouchDB
store's claims and records (`common/store/couchdb_post.py`).

One request at a time per connection: the caller writes a request, sets `waiter`, and gets
(status, body, full length) when httptools (uvicorn's parser) has read the whole response,
chunked or not. Measured on those paths this costs a fraction of a general client's CPU
(aiohttp's, httpx's), which build a request and response object graph per call.
"""

from __future__ import annotations

import asyncio
import socket
from typing import cast

import httptools

# (status, body kept, the body's whole length)
Answer = tuple[int, bytes, int]


class ConnectionLost(ConnectionError):
    """The connection ended before a whole response arrived.

    `answered`: some of a response had arrived (the request was certainly processed).
    """

    def __init__(self, message: str, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered


class ResponseReader(asyncio.Protocol):
    """One connection's responses, each handed to the `waiter` of the request before it.

    `cap`: keep at most this many bytes of a body (a runaway result must not exhaust the
    reader's memory), while counting all of it; None keeps everything. Subclasses may
    read headers through httptools' `on_header`."""

    def __init__(self, cap: int | None = None) -> None:
        self.cap = cap
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.body = bytearray()
        self.total = 0
        self.closed = False
        self.received = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Without it a small request can wait ~40 ms for the previous one's ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._fail(ConnectionLost(f"malformed response: {e}", answered=True))
            if self.transport is not None:  # what follows cannot be told from the next one
                self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionLost("connection closed", answered=self.received))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.body = bytearray()
        self.total = 0

    def on_body(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.cap is None:
            self.body += chunk
            return
        room = self.cap - len(self.body)
        if room > 0:
            self.body += chunk[:room]

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), bytes(self.body), self.total))
        if not self.parser.should_keep_alive() and self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
