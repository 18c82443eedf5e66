"""The CouchDB store's hot path: JSON POSTs (`_bulk_docs`, `_bulk_get`) over kept-alive
HTTP/1.1 connections of its own, with the `/_session` cookie.

Every activation in a cluster costs the invoker a claim (`_bulk_docs` on the claims
database) and a share of a record write (`_bulk_docs` on the activations database). Through
httpx and couchdb3 each such request cost the invoker's event loop more than the request's
whole trip through tansu: py-spy put a third of the loop in them under load (the request
object graph, the transport layers, anyio's streams, the auth and redirect handling). Here a
request is one write of bytes made with orjson and one response parsed by httptools (as
`invoker.http1` talks to containers); everything else the store does (reads by id, deletes,
views, databases, design documents) still goes through couchdb3.

Login: a POST to `/_session` with the name and password; the `AuthSession` cookie it sets is
sent with every request, and replaced by any fresher one CouchDB sets on an answer (it does
past half the cookie's life). A 401, or pouchdb-server's 201 whose every item is
`unauthorized`, logs in again and sends the request once more.

A connection the server closed while it sat idle is noticed by the event loop (its
`connection_lost`) and not reused. One that it closes as it is reused fails before any
answer: a read is sent again on a new connection, once; a write might have been applied, so
it is not (the callers retry writes their own way: claims with their token, records by id).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote, urlsplit

from pywhisk.common import jsonio
from pywhisk.common.http1 import Answer, ConnectionLost, ResponseReader

CONNECT_TIMEOUT = 5.0  # s: a dead host
ANSWER_TIMEOUT = 60.0  # s: a busy server's bulk write
IDLE_KEPT = 8  # idle connections kept per server; more concurrent requests open more
_COOKIE = b"authsession="


class PostFailed(Exception):
    """CouchDB refused the login with something other than a 401."""


class _Answer(ResponseReader):
    """One connection's answers, with the AuthSession cookie each one sets, if any."""

    def __init__(self) -> None:
        super().__init__()
        self.cookie: str | None = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.cookie = None

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"set-cookie" and value[: len(_COOKIE)].lower() == _COOKIE:
            self.cookie = value.split(b";", 1)[0].decode("latin-1")


class CouchPoster:
    """JSON POSTs to one CouchDB server as one user: (status, decoded answer)."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 5984
        self._login = jsonio.dumps({"name": user, "password": password})
        self._credentials = bool(user)
        self._head = (
            f"Host: {self._host}:{self._port}\r\nAccept: application/json\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self._cookie: str | None = None
        self._idle: list[_Answer] = []
        self._login_lock = asyncio.Lock()

    def close(self) -> None:
        for proto in self._idle:
            if proto.transport is not None:
                proto.transport.close()
        self._idle.clear()

    async def post(self, db: str, target: str, body: Any, *, read: bool = False) -> tuple[int, Any]:
        """POST `body` (JSON) to `db/target`; the status and the decoded answer.
        ConnectionLost if no (whole) answer came, another OSError or TimeoutError if the
        server could not be reached, PostFailed if it refused the login oddly."""
        path = f"/{quote(db, safe='')}/{target}"
        try:
            payload = jsonio.dumps(body)
        except TypeError:  # orjson's limits (254 levels, int keys): as couchdb3 encoded it
            payload = json.dumps(body, separators=(",", ":")).encode()
        if self._credentials and self._cookie is None:
            await self._log_in(None)
        for attempt in (1, 2):
            cookie = self._cookie
            status, answer = await self._send(path, payload, cookie, retry=read)
            if status == 401 or (status < 300 and _all_unauthorized(answer)):
                if attempt == 1 and self._credentials:
                    await self._log_in(cookie)
                    continue
                return 401, answer
            return status, answer
        raise AssertionError("unreachable")

    async def _log_in(self, refused: str | None) -> None:
        """A new cookie, unless a concurrent request has replaced the refused one already."""
        async with self._login_lock:
            if self._cookie != refused:
                return
            status, answer = await self._send("/_session", self._login, None, retry=True)
            if status >= 300 and status != 401:
                raise PostFailed(f"login answered {status}: {answer}")
            # On a 401 the request goes unauthenticated and comes back 401 to its caller.

    async def _send(
        self, path: str, payload: bytes, cookie: str | None, *, retry: bool
    ) -> tuple[int, Any]:
        while True:
            while self._idle and self._idle[-1].closed:  # the server closed it while idle
                self._idle.pop()
            reused = bool(self._idle)
            proto = self._idle.pop() if reused else await self._connect()
            try:
                status, raw, _ = await self._exchange(proto, path, payload, cookie)
            except ConnectionLost as e:
                # A kept-alive connection closed as it was reused: once more, if harmless.
                if reused and retry and not e.answered:
                    continue
                raise
            if proto.cookie is not None:
                self._cookie = proto.cookie
            if not proto.closed and len(self._idle) < IDLE_KEPT:
                self._idle.append(proto)
            elif proto.transport is not None:
                proto.transport.close()
            return status, jsonio.loads(raw) if raw else None

    async def _connect(self) -> _Answer:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(CONNECT_TIMEOUT):
            _, proto = await loop.create_connection(_Answer, self._host, self._port)
        return proto

    async def _exchange(
        self, proto: _Answer, path: str, payload: bytes, cookie: str | None
    ) -> Answer:
        loop = asyncio.get_running_loop()
        assert proto.transport is not None
        waiter = proto.waiter = loop.create_future()
        proto.received = False
        # A timer handle instead of asyncio.timeout(): cheaper on the hot path.
        timer = loop.call_later(ANSWER_TIMEOUT, _expire, proto, waiter)
        line = f"Cookie: {cookie}\r\n".encode() if cookie else b""
        proto.transport.write(
            b"POST %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n\r\n"
            % (path.encode(), self._head, line, len(payload))
            + payload
        )
        try:
            return await waiter
        except BaseException:
            if proto.transport is not None:  # never reused: a late answer is not the next's
                proto.transport.abort()
            proto.closed = True
            raise
        finally:
            timer.cancel()
            proto.waiter = None


def _expire(proto: _Answer, waiter: asyncio.Future[Answer]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def _all_unauthorized(answer: Any) -> bool:
    """pouchdb-server refuses a stale cookie on `_bulk_docs` with a 201 whose every item is
    `unauthorized` (CouchDB with a 401)."""
    return (
        isinstance(answer, list)
        and bool(answer)
        and all(isinstance(a, dict) and a.get("error") == "unauthorized" for a in answer)
    )
