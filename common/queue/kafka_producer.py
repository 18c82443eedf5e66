"""The queue's hot sends (activations, completions, pings) as Produce requests of our own.

`KafkaQueue.send` hands each message here; what is handed over in one turn of the event loop
goes out as one Produce request (one record batch per topic), so an invoker that finishes
several activations at once answers them all in one request, and a lone message waits for
nothing: the request is written at the start of the loop's next turn. While a request is in
flight to a broker, what comes meanwhile waits for its answer and goes in the next request
(aiokafka's producer does the same: one request in flight per broker), so under load the
requests carry more messages each instead of growing in number.

A message's `send` returns once the broker has it with acks=all, as aiokafka's
`send_and_wait` does, or raises an aiokafka `KafkaError`: the connection is lost or refused,
the request timed out, the broker refused the batch (its error code as aiokafka's class for
it). Nothing is retried here: `KafkaQueue.send` retries until its deadline, as it does for
aiokafka. A message whose request was lost may have been written all the same; a retry then
writes it twice (Kafka's producers without idempotence do the same), which the invoker's
claims make harmless.

Which broker leads a topic comes from aiokafka's metadata (the producer's client, which
`KafkaQueue` keeps for topics and subscriptions); partition 0 of each topic gets the
messages (`KafkaQueue` makes every topic with one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    UnknownTopicOrPartitionError,
    for_code,
)

from pywhisk.common.queue.kafka_link import KafkaLink, kept_or_opened
from pywhisk.common.queue.kafka_wire import (
    PRODUCE,
    PRODUCE_VERSION,
    WireError,
    produce_answer,
    produce_body,
    record_batch,
)

log = logging.getLogger("pywhisk.common.queue.kafka")

ACKS_ALL = -1
# What a record batch of one record adds around its value (batch header 61 bytes, the
# record's own header up to about 20): a value over `batch_bytes` less this cannot be sent.
RECORD_OVERHEAD = 100
# Error codes after which the topic's leader is looked up again.
_STALE_LEADER = {
    UnknownTopicOrPartitionError.errno,
    LeaderNotAvailableError.errno,
    NotLeaderForPartitionError.errno,
}

Pending = tuple[str, bytes, "asyncio.Future[None]"]


class LeanProducer:
    def __init__(self, client: AIOKafkaClient, *, timeout: float, batch_bytes: int) -> None:
        self._client = client
        self.timeout = timeout
        self.batch_bytes = batch_bytes
        self._leaders: dict[str, int] = {}  # topic -> broker node id
        self._queued: dict[int, deque[Pending]] = {}
        self._draining: dict[int, asyncio.Task[None]] = {}
        self._links: dict[int, KafkaLink] = {}
        self._closed = False

    async def send(self, topic: str, value: bytes) -> None:
        if len(value) + RECORD_OVERHEAD > self.batch_bytes:
            raise MessageSizeTooLargeError(
                f"{len(value)} bytes, more than a batch of {self.batch_bytes} holds"
            )
        if self._closed:
            raise KafkaConnectionError("the producer is closed")
        node = self._leaders.get(topic)
        if node is None:
            node = await self._leader(topic)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queued = self._queued.get(node)
        if queued is None:
            queued = self._queued[node] = deque()
        queued.append((topic, value, future))
        if node not in self._draining:
            # Starts at the loop's next turn: whatever else is sent in this one goes along.
            self._draining[node] = asyncio.get_running_loop().create_task(self._drain(node))
        await future

    async def _leader(self, topic: str) -> int:
        tp = TopicPartition(topic, 0)
        node = self._client.cluster.leader_for_partition(tp)
        if node is None or node < 0:
            # Not known yet (a topic just made) or lost (a broker gone): ask for metadata.
            self._client.add_topic(topic)
            async with asyncio.timeout(self.timeout):
                await self._client.force_metadata_update()
            node = self._client.cluster.leader_for_partition(tp)
            if node is None or node < 0:
                raise LeaderNotAvailableError(f"no leader known for {topic}")
        self._leaders[topic] = node
        return node

    async def _link(self, node: int) -> KafkaLink:
        link = self._links[node] = await kept_or_opened(
            self._client, self._links, node, self.timeout
        )
        return link

    async def _drain(self, node: int) -> None:
        """Send what is queued for `node`, one request at a time, until nothing is."""
        queued = self._queued[node]
        taken: dict[str, list[asyncio.Future[None]]] = {}
        try:
            while queued and not self._closed:
                link = await self._link(node)
                batches, taken = self._take(queued)
                body = produce_body(ACKS_ALL, int(self.timeout * 1000), batches)
                try:
                    async with asyncio.timeout(self.timeout):
                        answer = await link.request(PRODUCE, PRODUCE_VERSION, body)
                except TimeoutError as exc:
                    link.close()  # a late answer would be taken for the next request's
                    raise KafkaTimeoutError(
                        f"no answer to a produce in {self.timeout:g} s"
                    ) from exc
                self._settle(taken, answer)
                taken = {}
        except asyncio.CancelledError:  # closing: nobody is to wait for an answer
            for futures in taken.values():
                _fail(futures, KafkaConnectionError("producer closed"))
            raise
        except Exception as exc:
            # Everything queued fails with it: each sender retries on its own schedule
            # (`KafkaQueue.send`), rather than this task trying a broker that is away.
            if not isinstance(exc, (KafkaError, WireError)):
                log.exception("sending to Kafka failed")
            failure = exc if isinstance(exc, KafkaError) else KafkaConnectionError(repr(exc))
            # The next send looks its topic's leader up again: it may have moved.
            for topic in [t for t, led_by in self._leaders.items() if led_by == node]:
                del self._leaders[topic]
            for futures in taken.values():
                _fail(futures, failure)
            _fail([future for _, _, future in queued], failure)
            queued.clear()
            if isinstance(exc, WireError) and node in self._links:
                self._links.pop(node).close()
        finally:
            del self._draining[node]
            if queued and not self._closed:  # queued after the last request went
                self._draining[node] = asyncio.get_running_loop().create_task(self._drain(node))

    def _take(
        self, queued: deque[Pending]
    ) -> tuple[dict[str, bytes], dict[str, list[asyncio.Future[None]]]]:
        """What goes in the next request: per topic, as many of its queued values as one
        batch of `batch_bytes` holds (the rest wait for the next request, in order)."""
        by_topic: dict[str, list[Pending]] = {}
        for item in queued:
            by_topic.setdefault(item[0], []).append(item)
        queued.clear()
        batches: dict[str, bytes] = {}
        taken: dict[str, list[asyncio.Future[None]]] = {}
        for topic, items in by_topic.items():
            batch, count = record_batch([value for _, value, _ in items], self.batch_bytes)
            batches[topic] = batch
            taken[topic] = [future for _, _, future in items[:count]]
            queued.extend(items[count:])
        return batches, taken

    def _settle(self, taken: dict[str, list[asyncio.Future[None]]], answer: memoryview) -> None:
        for written in produce_answer(answer):
            futures = taken.pop(written.topic, [])
            if written.error == 0:
                for future in futures:
                    if not future.done():
                        future.set_result(None)
                continue
            if written.error in _STALE_LEADER:
                self._leaders.pop(written.topic, None)
                self._client.force_metadata_update()
            _fail(futures, for_code(written.error)(f"writing to {written.topic}"))
        for topic, futures in taken.items():
            _fail(futures, KafkaError(f"the broker's answer did not mention {topic}"))

    async def close(self) -> None:
        self._closed = True
        for task in list(self._draining.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for queued in self._queued.values():
            _fail([future for _, _, future in queued], KafkaConnectionError("producer closed"))
            queued.clear()
        for link in self._links.values():
            link.close()
        self._links.clear()


def _fail(futures: list[asyncio.Future[None]], exc: BaseException) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(exc)
