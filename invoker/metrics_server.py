"""The invoker's own `/metrics`, on `PYWHISK_METRICS_PORT` (0: none).

An invoker has no HTTP server otherwise. Pushing its figures to the controllers on the
health pings was the alternative: it would make every controller re-export every invoker's
series (N copies to deduplicate, and a scrape showing figures up to a ping old), and a dead
invoker's last figures would linger. Prometheus' own model is one target per process, so
each invoker answers its scrape directly: a few dozen lines of asyncio, one request per
connection, the same operator check as the controller's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from pywhisk.common.metrics import Metrics, MetricsUnavailable
from pywhisk.common.metrics.access import is_operator
from pywhisk.common.startup import StartupError
from pywhisk.common.store.base import Store

log = logging.getLogger("pywhisk.invoker")

_MAX_HEAD = 16 * 1024
_READ_TIMEOUT = 10.0


def _response(status: str, body: bytes, content_type: str, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n{extra}connection: close\r\n\r\n"
    )
    return head.encode() + body


def _error(status: str, message: str, extra: str = "") -> bytes:
    code = status.split()[0]
    body = json.dumps({"error": message, "code": int(code)}).encode()
    return _response(status, body, "application/json", extra)


class MetricsPortError(StartupError):
    """The metrics port cannot be listened on: a start-up failure."""


class MetricsServer:
    def __init__(self, metrics: Metrics, store: Store, token: str) -> None:
        self.metrics, self.store, self.token = metrics, store, token
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        try:
            self._server = await asyncio.start_server(self._serve, host, port)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise MetricsPortError(f"cannot serve metrics on {host}:{port}: {reason}") from None

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
            writer.write(await self._answer(head))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # a client that sent no request, or one too big: nothing to answer
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _answer(self, head: bytes) -> bytes:
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        if path != "/metrics":
            return _error("404 Not Found", "The requested resource does not exist.")
        if method != "GET":
            return _error("405 Method Not Allowed", "Method not allowed.")
        auth = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "authorization":
                auth = value.strip()
        if not await is_operator(auth, self.token, self.store):
            challenge = 'www-authenticate: Basic realm="OpenWhisk secure realm"\r\n'
            return _error(
                "401 Unauthorized",
                "The supplied authentication is invalid.",
                challenge,
            )
        try:
            write = self.metrics.snapshot()
        except MetricsUnavailable as exc:
            return _error("501 Not Implemented", str(exc))
        body, content_type = await asyncio.to_thread(write)
        return _response("200 OK", body, content_type)
