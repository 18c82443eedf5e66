"""HTTP to one action container: `/init` once, `/run` per activation (OPENWHISK.md §4.2, §4.3).

aiohttp, not httpx: measured here, a kept-alive aiohttp session forwards a request in about half
the time (DESIGN.md). Each container gets its own session holding its one kept-alive
connection: concurrency is 1 per container, and closing the session with the container means a
later container that happens to get the same port can never be handed a stale connection.
aiohttp's protocol sets TCP_NODELAY on every connection (tested in test_invoker_client.py), so
small requests are not held back by Nagle's algorithm.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
from yarl import URL

from common.entities.activation import ActivationResponse, Status
from invoker import outcomes

_JSON_HEADERS = {"Content-Type": "application/json"}
_CHUNK = 64 * 1024


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Reply:
    """What one /init or /run exchange produced, and when (epoch ms, for the record)."""

    response: ActivationResponse | None  # None: /init succeeded
    start: int
    end: int
    timed_out: bool = False
    # False when the container must not be used again (developer error, timeout, crash).
    healthy: bool = True


class ContainerClient:
    def __init__(self, host: str, port: int, payload_max: int) -> None:
        self.payload_max = payload_max
        self._init_url = URL.build(scheme="http", host=host, port=port, path="/init")
        self._run_url = URL.build(scheme="http", host=host, port=port, path="/run")
        # Long keep-alive: a warm container may sit idle for the whole idle timeout.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=24 * 3600.0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            auto_decompress=False,
        )

    async def close(self) -> None:
        await self._session.close()

    async def init(self, body: bytes, timeout_ms: int) -> Reply:
        start = now_ms()
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                async with self._session.post(
                    self._init_url, data=body, headers=_JSON_HEADERS
                ) as resp:
                    status, data = resp.status, await resp.read()
        except TimeoutError:
            message = outcomes.timed_out(timeout_ms, during_init=True)
            return Reply(outcomes.developer_error(message), start, now_ms(), True, False)
        except (aiohttp.ClientError, OSError):
            response = outcomes.developer_error(outcomes.ABNORMAL_INIT)
            return Reply(response, start, now_ms(), False, False)
        failure = outcomes.init_reply(status, data)
        return Reply(failure, start, now_ms(), False, failure is None)

    async def run(self, body: bytes, timeout_ms: int) -> Reply:
        start = now_ms()
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                async with self._session.post(
                    self._run_url, data=body, headers=_JSON_HEADERS
                ) as resp:
                    status = resp.status
                    length = resp.content_length
                    if length is not None and length <= self.payload_max:
                        data = await resp.read()
                    else:
                        data, length = await self._read_capped(resp)
        except TimeoutError:
            message = outcomes.timed_out(timeout_ms, during_init=False)
            return Reply(outcomes.developer_error(message), start, now_ms(), True, False)
        except (aiohttp.ClientError, OSError):
            response = outcomes.developer_error(outcomes.ABNORMAL_RUN)
            return Reply(response, start, now_ms(), False, False)
        end = now_ms()
        if length > self.payload_max:
            return Reply(outcomes.oversized_reply(length, self.payload_max, data), start, end)
        response = outcomes.run_reply(status, data)
        kept = response.status in (Status.SUCCESS, Status.APPLICATION_ERROR)
        return Reply(response, start, end, False, kept)

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> tuple[bytes, int]:
        """Keep at most payload_max + 1 bytes but count them all: a runaway result must not
        exhaust the invoker's memory, yet OW reports its full length."""
        kept = bytearray()
        total = 0
        while chunk := await resp.content.read(_CHUNK):
            total += len(chunk)
            room = self.payload_max + 1 - len(kept)
            if room > 0:
                kept += chunk[:room]
        return bytes(kept), total
