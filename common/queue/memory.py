"""In-process queues for the standalone preset: one asyncio.Queue per (topic, group).

Messages never leave the process, so `send` is a put_nowait and delivery costs one
event-loop hop; there is nothing to commit. `publish` puts the message object itself: no
encoding on one side and no parsing on the other (see `common/messages.py`).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

from pywhisk.common.messages import Message
from pywhisk.common.queue.base import Consumer, Queue

Item = bytes | Message


class MemoryConsumer(Consumer):
    def __init__(self, queue: asyncio.Queue[Item | None], on_close: object) -> None:
        self._queue = queue
        self._on_close = on_close

    async def __aiter__(self) -> AsyncIterator[Item]:  # type: ignore[override]
        while True:
            item = await self._queue.get()
            if item is None:
                return
            yield item

    async def commit(self) -> None:
        return None

    # Waiting on an asyncio.Queue costs nothing: nothing to stop while none is expected.
    def pause(self) -> None:
        return None

    def resume(self) -> None:
        return None

    async def close(self) -> None:
        self._queue.put_nowait(None)
        if callable(self._on_close):
            self._on_close()


class MemoryQueue(Queue):
    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        # topic -> group -> queue; one queue per group gives each group every message.
        self._groups: dict[str, dict[str, asyncio.Queue[Item | None]]] = defaultdict(dict)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        for groups in self._groups.values():
            for queue in groups.values():
                queue.put_nowait(None)
        self._groups.clear()

    async def send(self, topic: str, payload: bytes) -> None:
        for queue in self._groups.get(topic, {}).values():
            queue.put_nowait(payload)

    async def publish(self, topic: str, message: Message) -> None:
        for queue in self._groups.get(topic, {}).values():
            queue.put_nowait(message)

    async def consumer(self, topic: str, group: str, *, prompt: bool = True) -> Consumer:
        groups = self._groups[topic]
        queue = groups.setdefault(group, asyncio.Queue())
        return MemoryConsumer(queue, lambda: groups.pop(group, None))
