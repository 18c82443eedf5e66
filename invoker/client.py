"""HTTP to one action container: `/init` once, `/run` per activation (OPENWHISK.md §4.2, §4.3).

One kept-alive connection per container (concurrency is 1 per container) through
`invoker.http1`, a minimal HTTP/1.1 client: on this hop, the one every activation crosses,
it costs well under half of aiohttp's CPU per request (measured: ~100 µs vs ~245 µs).
Closing the connection with the container means a later container that happens to get the
same port can never be handed a stale connection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from common.entities.activation import ActivationResponse, Status
from invoker import outcomes
from invoker.http1 import ConnectionLost, Http1Connection


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
        # Keep one byte past the limit so an oversized reply is recognised as such.
        self._conn = Http1Connection(host, port, payload_max + 1)

    async def close(self) -> None:
        self._conn.close()

    async def init(self, body: bytes, timeout_ms: int) -> Reply:
        start = now_ms()
        try:
            status, data, _ = await self._conn.post("/init", body, timeout_ms / 1000)
        except TimeoutError:
            message = outcomes.timed_out(timeout_ms, during_init=True)
            return Reply(outcomes.developer_error(message), start, now_ms(), True, False)
        except (ConnectionLost, OSError):
            response = outcomes.developer_error(outcomes.ABNORMAL_INIT)
            return Reply(response, start, now_ms(), False, False)
        failure = outcomes.init_reply(status, data)
        return Reply(failure, start, now_ms(), False, failure is None)

    async def run(self, body: bytes, timeout_ms: int) -> Reply:
        start = now_ms()
        try:
            status, data, length = await self._conn.post("/run", body, timeout_ms / 1000)
        except TimeoutError:
            message = outcomes.timed_out(timeout_ms, during_init=False)
            return Reply(outcomes.developer_error(message), start, now_ms(), True, False)
        except (ConnectionLost, OSError):
            response = outcomes.developer_error(outcomes.ABNORMAL_RUN)
            return Reply(response, start, now_ms(), False, False)
        end = now_ms()
        if length > self.payload_max:
            return Reply(outcomes.oversized_reply(length, self.payload_max, data), start, end)
        response = outcomes.run_reply(status, data)
        kept = response.status in (Status.SUCCESS, Status.APPLICATION_ERROR)
        return Reply(response, start, end, False, kept)
