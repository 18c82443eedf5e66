"""A container's stdout/stderr, cut into activations at the sentinels (docs/openwhisk-compatibility.md §4.4).

Container backends feed raw bytes as they arrive (`StreamLog.feed`); `ContainerLogs.collect`
hands out one activation's lines, formatted as OpenWhisk does:
`f"{iso8601_ns_time:<30} {stream}: {msg}"`, merged by time, sentinels dropped, cut at the
action's log limit with OW's truncation notice. Buffers are capped so that an action printing
in a loop cannot exhaust the invoker's memory.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from pywhisk.invoker import outcomes

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
_SENTINEL_BYTES = SENTINEL.encode()
_MIB = 1024 * 1024
EOF_WAIT = 1.0  # after a kill, how long the streams get to deliver their last bytes

Stream = Literal["stdout", "stderr"]


def format_time(ns: int) -> str:
    """ISO-8601 UTC with nanoseconds, e.g. `2024-01-01T00:00:00.000000000Z` (30 chars)."""
    seconds, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:09d}Z"


def format_line(ns: int, stream: str, message: str) -> str:
    return f"{format_time(ns):<30} {stream}: {message}"


class StreamLog:
    """One stream's lines since the last collected sentinel. `None` entries are sentinels."""

    def __init__(self, name: Stream, cap_bytes: int, changed: asyncio.Event) -> None:
        self.name = name
        self.cap_bytes = cap_bytes
        self.entries: deque[tuple[int, str] | None] = deque()
        self.sentinels = 0
        self.eof = False
        self._partial = bytearray()
        self._partial_ns = 0
        self._open_bytes = 0  # bytes kept since the last sentinel, bounded by cap_bytes
        self._changed = changed

    def feed(self, data: bytes, ns: int | None = None) -> None:
        ns = time.time_ns() if ns is None else ns
        if not self._partial:
            self._partial_ns = ns
        self._partial += data
        if b"\n" not in data and len(self._partial) <= self.cap_bytes:
            return
        *lines, rest = self._partial.split(b"\n")
        self._partial = bytearray(rest)
        for line in lines:
            self._line(bytes(line), self._partial_ns)
        if len(self._partial) > self.cap_bytes:  # a giant line without newline
            self._line(bytes(self._partial), ns)
            self._partial.clear()
        self._partial_ns = ns
        self._changed.set()

    def end(self) -> None:
        """EOF: the process is gone; whatever is left is its last line."""
        if self._partial:
            self._line(bytes(self._partial), self._partial_ns)
            self._partial.clear()
        self.eof = True
        self._changed.set()

    def _line(self, line: bytes, ns: int) -> None:
        # A sentinel may follow output printed without a trailing newline: keep that output.
        if line.endswith(_SENTINEL_BYTES):
            head = line[: -len(_SENTINEL_BYTES)]
            if head:
                self._keep(head, ns)
            self.entries.append(None)
            self.sentinels += 1
            self._open_bytes = 0
            return
        self._keep(line, ns)

    def _keep(self, line: bytes, ns: int) -> None:
        if self._open_bytes > self.cap_bytes:
            return  # over any log limit already: collect() will report the truncation
        self._open_bytes += len(line)
        self.entries.append((ns, line.decode("utf-8", errors="replace")))

    @property
    def complete(self) -> bool:
        return self.sentinels > 0 or self.eof

    def take(self) -> list[tuple[int, str]]:
        """Lines up to the first sentinel (consumed), or everything when there is none."""
        out: list[tuple[int, str]] = []
        while self.entries:
            entry = self.entries.popleft()
            if entry is None:
                self.sentinels -= 1
                break
            out.append(entry)
        return out


class ContainerLogs:
    """Both streams of one container and the collection of one activation's logs at a time."""

    def __init__(self, cap_bytes: int) -> None:
        self._changed = asyncio.Event()
        self.stdout = StreamLog("stdout", cap_bytes, self._changed)
        self.stderr = StreamLog("stderr", cap_bytes, self._changed)
        # Activations are collected in the order they ran: one collect at a time, FIFO.
        self._lock = asyncio.Lock()

    async def activation(self, limit_bytes: int, wait_for_sentinels: bool) -> list[str]:
        """`Container.logs` for every backend: OW waits for the sentinels up to
        max(log limit in MB, 5) × 2 s; without them (the container was just destroyed), the
        streams get EOF_WAIT to end."""
        patience = max(limit_bytes / _MIB, 5) * 2
        drain = 0.0 if wait_for_sentinels else EOF_WAIT
        return await self.collect(limit_bytes, wait_for_sentinels, patience, drain)

    async def collect(
        self, limit_bytes: int, wait_for_sentinels: bool, patience: float, drain: float = 0.0
    ) -> list[str]:
        """One activation's lines.

        wait_for_sentinels: wait (up to `patience` seconds) for both sentinels, noting missing data
        if they do not come. Otherwise take what is there, waiting up to `drain` seconds for
        end of file first (the container was just destroyed and its pipes are emptying).
        """
        async with self._lock:
            missing = False
            if wait_for_sentinels:
                missing = not await self._wait(self._both_complete, patience)
            elif drain > 0:
                await self._wait(self._both_eof, drain)
            lines = self._merge(self.stdout.take(), self.stderr.take())
            out, truncated = self._limit(lines, limit_bytes)
            now = time.time_ns()
            if truncated:
                out.append(format_line(now, "stderr", outcomes.logs_truncated(limit_bytes)))
            elif missing:
                out.append(format_line(now, "stderr", outcomes.LOG_FAILURE))
            return out

    def _both_complete(self) -> bool:
        return self.stdout.complete and self.stderr.complete

    def _both_eof(self) -> bool:
        return self.stdout.eof and self.stderr.eof

    async def wait_eof(self, seconds: float) -> bool:
        """Wait until both streams ended (the process is gone and its pipes are empty)."""
        return await self._wait(self._both_eof, seconds)

    async def _wait(self, ready: Callable[[], bool], seconds: float) -> bool:
        try:
            async with asyncio.timeout(seconds):
                while not ready():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return ready()
        return True

    @staticmethod
    def _merge(
        out: list[tuple[int, str]], err: list[tuple[int, str]]
    ) -> list[tuple[int, str, str]]:
        if not err:
            return [(ns, "stdout", m) for ns, m in out]
        if not out:
            return [(ns, "stderr", m) for ns, m in err]
        return list(
            heapq.merge(
                ((ns, "stdout", m) for ns, m in out),
                ((ns, "stderr", m) for ns, m in err),
                key=lambda e: e[0],
            )
        )

    @staticmethod
    def _limit(lines: list[tuple[int, str, str]], limit_bytes: int) -> tuple[list[str], bool]:
        out: list[str] = []
        total = 0
        for ns, stream, message in lines:
            total += len(message.encode()) + 1  # the line as written, newline included
            if total > limit_bytes:
                return out, True
            out.append(format_line(ns, stream, message))
        return out, False
