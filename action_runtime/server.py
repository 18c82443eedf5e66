"""A small HTTP/1.1 server on asyncio streams, just enough for the invoker's /init and /run.

Keep-alive, Content-Length and chunked request bodies, `Expect: 100-continue` (curl sends it
for bodies over 1 KB), JSON responses with Content-Length. Every accepted socket gets
TCP_NODELAY: the response goes out in one write, and without it Nagle plus delayed ACKs add
~40 ms to a request that otherwise takes a fraction of a millisecond.

With a token, a request whose X-Runtime-Token header differs is answered 403 before its body
is read: only the invoker that started the container knows it.

`drained()` waits until no request is being answered, so that a proxy that stops on its own
(its action's process died after answering) still sends the answer it has.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import socket
from collections.abc import Awaitable, Callable

Handler = Callable[[bytes], Awaitable[tuple[int, bytes]]]

MAX_BODY = 64 * 1024 * 1024  # OpenWhisk caps request entities at 50 MB; leave headroom
MAX_HEAD = 64 * 1024
READ_LIMIT = 1024 * 1024  # StreamReader buffer: big bodies arrive with fewer pause/resume
SMALL_BODY = 64 * 1024  # joined with the head into one write below this size

REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    411: "Length Required",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Request:
    __slots__ = ("body", "headers", "keep_alive", "method", "path")

    def __init__(self, method: str, path: str, headers: dict[str, str], keep_alive: bool):
        self.method = method
        self.path = path
        self.headers = headers
        self.keep_alive = keep_alive
        self.body = b""


def parse_head(head: bytes) -> Request:
    """Parse a request line and headers (`head` ends with the blank line)."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise BadRequest(400, "Bad request head") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "Bad request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(400, "Bad header line")
        headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.1":
        keep_alive = "close" not in connection
    else:
        keep_alive = "keep-alive" in connection
    path = target.split("?", 1)[0]
    return Request(method, path, headers, keep_alive)


def response_head(status: int, length: int, keep_alive: bool) -> bytes:
    reason = REASONS.get(status, "Unknown")
    connection = "keep-alive" if keep_alive else "close"
    return (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"Content-Type: application/json\r\n"
        f"Content-Length: {length}\r\n"
        f"Connection: {connection}\r\n\r\n"
    ).encode("ascii")


def error_body(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


async def read_body(request: Request, reader: asyncio.StreamReader) -> bytes:
    headers = request.headers
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await read_chunked(reader)
    length_text = headers.get("content-length")
    if length_text is None:
        return b""
    try:
        length = int(length_text)
    except ValueError:
        raise BadRequest(400, "Bad Content-Length") from None
    if length < 0:
        raise BadRequest(400, "Bad Content-Length")
    if length > MAX_BODY:
        raise BadRequest(413, f"Request body larger than {MAX_BODY} bytes")
    return await reader.readexactly(length) if length else b""


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest(400, "Bad chunk size") from None
        if size == 0:
            # Trailers (rarely sent) end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(chunks)
        total += size
        if total > MAX_BODY:
            raise BadRequest(413, f"Request body larger than {MAX_BODY} bytes")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


class Server:
    """Routes POST /init and POST /run to handlers; everything else is a JSON 404."""

    def __init__(self, init: Handler, run: Handler, token: str | None = None) -> None:
        self._token = token.encode() if token else None
        self._routes: dict[tuple[str, str], Handler] = {
            ("POST", "/init"): init,
            ("POST", "/run"): run,
        }
        self._server: asyncio.Server | None = None
        self._answering = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    async def drained(self) -> None:
        """Wait until no request is between its head and its answer."""
        await self._quiet.wait()

    async def start(
        self, *, sock: socket.socket | None = None, host: str = "0.0.0.0", port: int = 8080
    ) -> asyncio.Server:
        if sock is not None:
            self._server = await asyncio.start_server(self._serve, sock=sock, limit=READ_LIMIT)
        else:
            self._server = await asyncio.start_server(
                self._serve, host, port, limit=READ_LIMIT, reuse_address=True
            )
        return self._server

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away mid-request: nobody to answer
        finally:
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; False when the connection should be closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # clean close between requests
        except asyncio.LimitOverrunError:
            await self._send(writer, 431, error_body("Request head too large"), False)
            return False
        self._answering += 1
        self._quiet.clear()
        try:
            return await self._handle(head, reader, writer)
        finally:
            self._answering -= 1
            if not self._answering:
                self._quiet.set()

    async def _handle(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        try:
            if len(head) > MAX_HEAD:
                raise BadRequest(431, "Request head too large")
            request = parse_head(head)
            if self._token is not None and not hmac.compare_digest(
                request.headers.get("x-runtime-token", "").encode("latin-1"), self._token
            ):
                raise BadRequest(403, "Forbidden")
            if request.headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.body = await read_body(request, reader)
        except BadRequest as exc:
            await self._send(writer, exc.status, error_body(str(exc)), False)
            return False
        handler = self._routes.get((request.method, request.path))
        if handler is None:
            status, body = 404, error_body(f"No route for {request.method} {request.path}")
        else:
            try:
                status, body = await handler(request.body)
            except Exception as exc:  # a proxy bug must still get an answer, not a hang
                status, body = 500, error_body(f"Internal error in the action proxy: {exc!r}")
        await self._send(writer, status, body, request.keep_alive)
        return request.keep_alive

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, body: bytes, keep: bool) -> None:
        head = response_head(status, len(body), keep)
        if len(body) < SMALL_BODY:
            writer.write(head + body)
        else:
            writer.write(head)
            writer.write(body)
        await writer.drain()
