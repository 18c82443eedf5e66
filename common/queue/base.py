"""The queue family: topics of byte messages between controllers and invokers.

Implementations: `MemoryQueue` (standalone, in-process), `KafkaQueue` (cluster). Both pass
`tests/contract/queue_behavior.py`. Delivery is at-least-once per consumer group: a consumer
sees every message sent to its topic after it subscribed (Kafka also delivers what its group
has not committed, including messages sent before the group's first consumer started).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from pywhisk.common import plugins
from pywhisk.common.messages import Message

log = logging.getLogger(__name__)

QUEUES = {
    "memory": "pywhisk.common.queue.memory:MemoryQueue",
    "kafka": "pywhisk.common.queue.kafka:KafkaQueue",
}


class QueueError(RuntimeError):
    """A send, subscription or commit the backend could not complete (e.g. the broker stayed
    unreachable for the backend's time limit, or the message is too large)."""


class Consumer(ABC):
    @abstractmethod
    def __aiter__(self) -> AsyncIterator[bytes | Message]:
        """Each message's bytes, or the message itself where it was `publish`ed in-process
        (`Message.from_bytes` takes both)."""

    @abstractmethod
    async def commit(self) -> None:
        """Mark every message yielded so far as processed."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def pause(self) -> None:
        """Its owner expects no message for now (a controller with no activation in
        flight expects no completion): a consumer that asks a broker for messages stops
        asking. What is sent meanwhile is delivered after `resume()`. Nothing to stop for
        a consumer that waits at no cost (in-process)."""

    @abstractmethod
    def resume(self) -> None:
        """Messages are expected again; called before what will answer is sent."""


class Queue(ABC):
    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def send(self, topic: str, payload: bytes) -> None: ...

    async def publish(self, topic: str, message: Message) -> None:
        """Send `message`; a queue within one process may hand the object itself over."""
        await self.send(topic, message.to_bytes())

    @abstractmethod
    async def consumer(self, topic: str, group: str, *, prompt: bool = True) -> Consumer:
        """Subscribe; messages sent from now on are delivered (once per group).

        `prompt`: each message is awaited (activations, completions) and delivered within
        milliseconds; False: within about a second is soon enough (health pings, cache
        invalidations), so a consumer that polls its broker may poll seldom."""


class Committer:
    """Commits a consumer's progress at most once per `interval` seconds.

    A commit per message would cost a broker round trip each (Kafka); committing once a
    second bounds what a restart replays to about a second of messages.
    """

    def __init__(self, consumer: Consumer, what: str, interval: float = 1.0) -> None:
        self.consumer = consumer
        self.what = what
        self.interval = interval
        self.dirty = False

    def mark(self) -> None:
        self.dirty = True

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.dirty:
                self.dirty = False
                try:
                    await self.consumer.commit()
                except Exception:
                    log.exception("committing consumed %s failed", self.what)


def queue_from_url(url: str) -> Queue:
    cls = plugins.load("queue", url, QUEUES)
    return cls(url)  # type: ignore[no-any-return]
