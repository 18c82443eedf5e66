"""Pure ASGI middleware (BaseHTTPMiddleware costs ~100 µs a request on the hot path).

Assigns the transaction id (from `X-Request-ID` or fresh), echoes it back, adds the
REST API's CORS headers and answers any OPTIONS under /api/v1 without auth (§1.1).
Web action CORS (§5) is handled by the web routes themselves.

It also turns an unexpected exception into OW's 500: Starlette would answer it from its
ServerErrorMiddleware, outside every user middleware, so without the headers added here.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pywhisk.common import jsonio
from pywhisk.common.ids import new_transaction_id
from pywhisk.common.logcontext import TRANSACTION
from pywhisk.controller.core.errors import INTERNAL

log = logging.getLogger("pywhisk.controller")

_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, DELETE, POST, PUT, HEAD"),
    (
        b"access-control-allow-headers",
        b"Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent",
    ),
]


class TransactionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        transid = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                transid = value.decode("latin-1")
                break
        transid = transid or new_transaction_id()
        scope["transid"] = transid
        token = TRANSACTION.set(transid)
        try:
            await self._serve(scope, receive, send, transid)
        finally:
            TRANSACTION.reset(token)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, transid: str) -> None:
        path: str = scope["path"]
        rest_api = path.startswith("/api/v1") and not path.startswith("/api/v1/web/")
        extra: list[tuple[bytes, bytes]] = [(b"x-request-id", transid.encode("latin-1"))]
        if rest_api:
            extra.extend(_CORS)
            if scope["method"] == "OPTIONS":
                await send({"type": "http.response.start", "status": 200, "headers": extra})
                await send({"type": "http.response.body", "body": b""})
                return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers: list[Any] = list(message.get("headers", ()))
                headers.extend(extra)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:  # too late for an error response: let the server drop the connection
                raise
            log.exception("%s %s failed (transaction %s)", scope["method"], path, transid)
            body = jsonio.dumps({"error": INTERNAL, "code": transid})
            headers = [(b"content-type", b"application/json"), *extra]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
