"""HTTP to one action container: `/init` once, `/run` per activation (docs/openwhisk-compatibility.md §4.2, §4.3).

One kept-alive connection per container (concurrency is 1 per container) through
`invoker.http1`, a minimal HTTP/1.1 client: on this hop, the one every activation crosses,
it costs well under half of aiohttp's CPU per request (measured: ~100 µs vs ~245 µs).
Closing the connection with the container means a later container that happens to get the
same port can never be handed a stale connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pywhisk.common.entities.activation import ActivationResponse, Status
from pywhisk.invoker import outcomes
from pywhisk.invoker.http1 import ConnectionLost, Http1Connection

_CONNECT_AHEAD = 1.0  # seconds: a stem cell's socket listens from its start, or never will


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def span_end(start_ns: int, end_ns: int) -> int:
    """The epoch ms to record as the end of a span that began at `start_ns`: its start's
    millisecond plus its length rounded up to the millisecond, so that a record's `end -
    start`, the duration usage bills, is the time taken rounded up as Lambda bills it (a
    0.3 ms run is 1 ms, never 0; 2.1 ms is 3, whichever millisecond boundaries it spans).
    The difference of two truncated clock readings would be 2 or 3 for the same 2.1 ms."""
    return start_ns // 1_000_000 + max(0, -(-(end_ns - start_ns) // 1_000_000))


@dataclass(frozen=True, slots=True)
class Reply:
    """What one /init or /run exchange produced, and when (epoch ns, for the record)."""

    response: ActivationResponse | None  # None: /init succeeded
    start_ns: int
    end_ns: int
    timed_out: bool = False
    # False when the container must not be used again (developer error, timeout, crash).
    healthy: bool = True

    @property
    def start(self) -> int:
        """Epoch ms."""
        return self.start_ns // 1_000_000

    @property
    def end(self) -> int:
        """Epoch ms, `end - start` being the exchange's time rounded up (`span_end`)."""
        return span_end(self.start_ns, self.end_ns)


class ContainerClient:
    def __init__(
        self,
        host: str,
        port: int,
        payload_max: int,
        alive: Callable[[], bool] | None = None,
        token: str | None = None,
        unix_path: str | None = None,
    ) -> None:
        """`alive`: False once the container has exited (then nothing connects to it);
        `token`: the secret the container's runtime asks for; `unix_path`: the container's
        Unix socket, used instead of host:port."""
        self.payload_max = payload_max
        # Keep one byte past the limit so an oversized reply is recognised as such.
        self._conn = Http1Connection(host, port, payload_max + 1, alive, token, unix_path)

    async def close(self) -> None:
        self._conn.close()

    async def connect(self, time_limit: float = _CONNECT_AHEAD) -> bool:
        """Open the connection ahead of the first request; False if it could not be (the
        first request then connects, as without this)."""
        try:
            await self._conn.open(time_limit)
        except (OSError, TimeoutError):
            return False
        return True

    async def _exchange(
        self, path: str, body: bytes, timeout_ms: int, retry: bool = False
    ) -> tuple[int, bytes, int] | Reply:
        """The raw reply, or the failed Reply a timeout or a dropped connection makes."""
        start = time.time_ns()
        init = path == "/init"
        try:
            return await self._conn.post(path, body, timeout_ms / 1000, retry)
        except TimeoutError:
            message = outcomes.timed_out(timeout_ms, during_init=init)
            return Reply(outcomes.developer_error(message), start, time.time_ns(), True, False)
        except (ConnectionLost, OSError):
            abnormal = outcomes.ABNORMAL_INIT if init else outcomes.ABNORMAL_RUN
            return Reply(outcomes.developer_error(abnormal), start, time.time_ns(), False, False)

    async def init(self, body: bytes, timeout_ms: int) -> Reply:
        """/init; while the container is alive, unanswered attempts are retried until the
        timeout: its server may still be starting (a Docker container's is)."""
        start = time.time_ns()
        reply = await self._exchange("/init", body, timeout_ms, retry=True)
        if isinstance(reply, Reply):
            return reply
        failure = outcomes.init_reply(reply[0], reply[1])
        return Reply(failure, start, time.time_ns(), False, failure is None)

    async def run(self, body: bytes, timeout_ms: int) -> Reply:
        start = time.time_ns()
        reply = await self._exchange("/run", body, timeout_ms)
        if isinstance(reply, Reply):
            return reply
        status, data, length = reply
        end = time.time_ns()
        if length > self.payload_max:
            return Reply(outcomes.oversized_reply(length, self.payload_max, data), start, end)
        response = outcomes.run_reply(status, data)
        kept = response.status in (Status.SUCCESS, Status.APPLICATION_ERROR)
        return Reply(response, start, end, False, kept)
