"""Docker's attach stream: the multiplexed stdout/stderr frames of a container, read by
asyncio (or by a thread for transports asyncio cannot adopt) into its ContainerLogs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from docker.utils.socket import read as read_socket

from pywhisk.invoker.containers.logs import ContainerLogs

FRAME_HEADER = 8  # stream (1 stdout, 2 stderr), 3 zero bytes, payload size (big endian)


class AttachStream(asyncio.Protocol):
    """Docker's multiplexed attach stream into a container's logs; its end is the exit."""

    def __init__(self, logs: ContainerLogs, ended: Callable[[], None]) -> None:
        self._logs = logs
        self._ended = ended
        self._buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        offset, end = 0, len(buffer)
        while end - offset >= FRAME_HEADER:
            size = int.from_bytes(buffer[offset + 4 : offset + 8], "big")
            start = offset + FRAME_HEADER
            if end - start < size:
                break
            stream = self._logs.stderr if buffer[offset] == 2 else self._logs.stdout
            stream.feed(bytes(buffer[start : start + size]))
            offset = start + size
        del buffer[:offset]

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._logs.stdout.end()
        self._logs.stderr.end()
        self._ended()


def pump(raw: Any, loop: asyncio.AbstractEventLoop, stream: AttachStream) -> None:
    """Read an attach stream asyncio cannot adopt (TLS, ssh) on a thread of its own."""
    try:
        while data := read_socket(raw, 65536):
            loop.call_soon_threadsafe(stream.data_received, bytes(data))
    except Exception:
        pass  # closed by destroy, or the engine went away: both end the stream
    finally:
        release(raw)
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(stream.connection_lost, None)


def release(raw: Any) -> None:
    """Close the SDK's side of an attach stream: its HTTP response, its file object and its
    socket (each holds a reference; the socket closes with the last)."""
    response = getattr(raw, "_response", None)
    for close in (getattr(response, "close", None), raw.close, getattr(raw, "_sock", raw).close):
        if close is not None:
            with contextlib.suppress(Exception):
                close()
