"""The queue family: topics of byte messages between controllers and invokers.

Implementations: `MemoryQueue` (standalone, in-process), `KafkaQueue` (cluster, later).
Both pass `tests/contract/test_queue_contract.py`. Delivery is at-least-once per consumer
group: a consumer sees every message sent to its topic after it subscribed (Kafka also
replays uncommitted ones after a restart).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from common import plugins

QUEUES = {
    "memory": "common.queue.memory:MemoryQueue",
}


class Consumer(ABC):
    @abstractmethod
    def __aiter__(self) -> AsyncIterator[bytes]: ...

    @abstractmethod
    async def commit(self) -> None:
        """Mark every message yielded so far as processed."""

    @abstractmethod
    async def close(self) -> None: ...


class Queue(ABC):
    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def send(self, topic: str, payload: bytes) -> None: ...

    @abstractmethod
    async def consumer(self, topic: str, group: str) -> Consumer:
        """Subscribe; messages sent from now on are delivered (once per group)."""


def queue_from_url(url: str) -> Queue:
    cls = plugins.load("queue", url, QUEUES)
    return cls(url)  # type: ignore[no-any-return]
