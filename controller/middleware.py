"""Pure ASGI middleware (BaseHTTPMiddleware costs ~100 µs a request on the hot path).

Assigns the transaction id (from `X-Request-ID` or fresh), echoes it back, adds the
REST API's CORS headers and answers any OPTIONS under /api/v1 without auth (§1.1).
Web action CORS (§5) is handled by the web routes themselves.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.ids import new_transaction_id

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
        path: str = scope["path"]
        rest_api = path.startswith("/api/v1") and not path.startswith("/api/v1/web/")
        extra: list[tuple[bytes, bytes]] = [(b"x-request-id", transid.encode("latin-1"))]
        if rest_api:
            extra.extend(_CORS)
            if scope["method"] == "OPTIONS":
                await send({"type": "http.response.start", "status": 200, "headers": extra})
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", ()))
                headers.extend(extra)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
