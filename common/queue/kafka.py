"""Kafka queues for the cluster preset (docs/openwhisk-compatibility.md §8.2), on aiokafka.

`kafka://host:9092[,host2:9092][?prefix=&timeout=30&fetch_wait_ms=10&max_message_bytes=…
&replication=1]`

- One shared producer (acks=all, no linger: an activation is one message and waits for
  nobody). A send, subscription or commit that cannot complete within `timeout` seconds
  (broker down or unreachable) raises `QueueError`; it never waits forever.
- Topics are created on first use with one partition (order within a topic), the retention
  OpenWhisk gives them and room for a 1 MB payload; `prefix` is `whisk.kafka.topics.prefix`.
- A consumer is assigned every partition of its topic and starts at its group's committed
  offset, or at the earliest retained message when the group has none: activations sent to
  an invoker that is down wait for it. Group *membership* is not used: every group here has
  one consumer (invoker N, controller N), and joining a group costs seconds on every start
  and rebalance (3-18 s measured against tansu), which would delay a restarted invoker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ConsumerStoppedError,
    KafkaConnectionError,
    KafkaError,
    MessageSizeTooLargeError,
    TopicAlreadyExistsError,
)
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from pywhisk.common.logcontext import without_ids
from pywhisk.common.queue.base import Consumer, Queue, QueueError
from pywhisk.common.retry import Backoff, retry

log = logging.getLogger(__name__)

T = TypeVar("T")

HOUR_MS = 3_600_000
# OpenWhisk `whisk.kafka.topics.*.retention-ms` (§8.2); topics not listed get an hour.
RETENTION_MS = {
    "invoker": 48 * HOUR_MS,
    "completed": HOUR_MS,
    "health": HOUR_MS,
    "cacheInvalidation": 5 * 60_000,
    "events": HOUR_MS,
}
# OW allows activation.payload.max (1 MiB) + serdes-overhead (6068 B). Our messages carry
# the same payload with a little more around it (the record of a blocking completion), so
# the margin is wider; anything larger is refused with a QueueError at send.
MAX_MESSAGE_BYTES = 1024 * 1024 + 64 * 1024
# How long a fetch waits at the broker for new messages. Kafka answers a waiting fetch as
# soon as a message arrives, so there 500 ms costs nothing; tansu (what runs here) always
# waits the whole time, so the default trades idle polling (about 5% of a core for the
# client and 5% for the broker, per consumer) for latency: produce -> consume p50 7.7 ms
# (500 ms: 253 ms, 5 ms: 4.9 ms at 8% + 8%). With a real Kafka, use `fetch_wait_ms=500`.
FETCH_WAIT_MS = 10
_BATCH_OVERHEAD = 1024  # what a record batch adds around a lone record
_RETRY_PAUSE = 0.2


def retention_ms(topic: str) -> int:
    for family, ms in RETENTION_MS.items():
        if topic.startswith(family):
            return ms
    return HOUR_MS


_client_log = logging.getLogger("aiokafka")  # its client logs under this name


class _QuietBootstrap(logging.Filter):
    """While the first connection is tried again and again, aiokafka logs each refusal (one
    line every 0.2 s for a missing broker); the one error raised at the end says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unable connect to")


async def _until(deadline: float, attempt: Callable[[], Awaitable[T]], pause: float) -> T:
    """`attempt()` again after each KafkaError (the broker may be restarting) until
    `deadline` (loop time), then the last error is raised; so is TimeoutError at it. A
    message too large for the broker is not retried."""
    async with asyncio.timeout_at(deadline):
        return await retry(
            attempt,
            Backoff(pause),
            on=KafkaError,
            give_up=lambda exc: isinstance(exc, MessageSizeTooLargeError),
            deadline=deadline,
        )


class KafkaConsumer(Consumer):
    """Reads one topic (all its partitions) for one group; commits only what it yielded."""

    def __init__(self, queue: KafkaQueue, reader: AIOKafkaConsumer, topic: str) -> None:
        self._queue = queue
        self._reader = reader
        self._topic = topic
        # Fetched but not yet handed out; kept here, not in one generator, because a caller
        # may stop iterating and start again (each `async for` makes a new generator).
        self._fetched: deque[tuple[TopicPartition, ConsumerRecord[bytes, bytes]]] = deque()
        self._yielded: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        # Partitions whose log ended before our position at the last idle check, with that
        # position: the log is taken for lost only if the next check says so again.
        self._behind: dict[TopicPartition, int] = {}
        self._closed = False
        self._closing: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def __aiter__(self) -> AsyncIterator[bytes]:  # type: ignore[override]
        while not self._closed:
            if not self._fetched:
                try:
                    batches = await self._fetch()
                except ConsumerStoppedError:
                    return
                for tp, records in batches.items():
                    self._fetched.extend((tp, record) for record in records)
                if not batches:
                    await self._realign()
                continue
            tp, record = self._fetched.popleft()
            # Counted as yielded before the caller sees it, so a commit made while the
            # caller handles it includes it (the invoker commits what it took).
            self._yielded[tp] = record.offset + 1
            yield record.value  # type: ignore[misc]

    async def _fetch(self) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        # aiokafka's getmany does not return when the consumer stops; close() must end the
        # iteration at once (an invoker stopping, a controller shutting down).
        fetching = asyncio.ensure_future(self._reader.getmany(timeout_ms=1000))
        try:
            await asyncio.wait((fetching, self._closing), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not fetching.done():
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError, KafkaError):
                    await fetching
        if self._closed or fetching.cancelled():
            raise ConsumerStoppedError()
        return fetching.result()

    async def _realign(self) -> None:
        """While idle, make sure no partition's log now ends before our position.

        That happens when the broker lost the log (a tansu restart with memory storage, a
        topic deleted and made again, an unclean leader election): fetching at the old
        position would wait for offsets that may never come, and what is written meanwhile
        would not be delivered. Go back to the group's committed offset if the log still
        has it, else to the log's start.

        Only when two idle checks in a row (a fetch wait apart) find it so: tansu has been
        seen to report a log's end one short of a message just delivered, and going back
        on that replayed the whole topic to the invoker (each run skipped only by its
        claim).
        """
        try:
            async with asyncio.timeout(2):
                assigned = list(self._reader.assignment())
                ends = await self._reader.end_offsets(assigned)
                for tp in assigned:
                    position = await self._reader.position(tp)
                    end = ends.get(tp)
                    if end is None or position <= end:
                        self._behind.pop(tp, None)
                        continue
                    if self._behind.get(tp) != position:
                        self._behind[tp] = position  # look again at the next idle round
                        continue
                    del self._behind[tp]
                    committed = await self._reader.committed(tp)
                    target = committed if committed is not None and committed <= end else 0
                    log.warning(
                        "%s[%d] ends at offset %d, before ours (%d): the broker lost its log; "
                        "reading again from %d",
                        *(tp.topic, tp.partition, end, position, target),
                    )
                    self._reader.seek(tp, target)
                    self._yielded.pop(tp, None)
                    self._committed.pop(tp, None)
        except (TimeoutError, KafkaError):
            return  # the broker is away; the next idle round checks again

    async def commit(self) -> None:
        offsets = {tp: o for tp, o in self._yielded.items() if self._committed.get(tp) != o}
        if not offsets or self._closed:
            return
        request = {tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()}
        try:
            # aiokafka retries a commit for as long as the broker does not know the topic
            # (tansu forgets them on restart, `KafkaQueue._watch` makes them again).
            async with asyncio.timeout(self._queue.timeout):
                await self._reader.commit(request)
        except (TimeoutError, KafkaError) as exc:
            name = self._queue.topic_name(self._topic)
            raise self._queue._failed(f"committing {name}", exc) from exc
        self._committed.update(offsets)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._closing.set_result(None)
        self._queue._consumers.discard(self)
        # Not committing here: what was not committed goes to the group's next consumer
        # (at-least-once), which is what an invoker that stops mid-work needs.
        await self._reader.stop()


class KafkaQueue(Queue):
    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)
        hosts = [h for h in parts.netloc.split(",") if h]
        if not hosts:
            raise ValueError(f"a kafka URL names host:port, e.g. kafka://127.0.0.1:9092: {url!r}")
        self.servers = [h if ":" in h else f"{h}:9092" for h in hosts]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.prefix = query.get("prefix", "")
        self.timeout = float(query.get("timeout", 30))
        self.fetch_wait_ms = int(query.get("fetch_wait_ms", FETCH_WAIT_MS))
        self.max_message_bytes = int(query.get("max_message_bytes", MAX_MESSAGE_BYTES))
        self.replication = int(query.get("replication", 1))
        self._producer: AIOKafkaProducer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._topics: dict[str, str] = {}  # made (or found) on the broker: name -> topic
        self._creating: dict[str, asyncio.Future[None]] = {}
        self._consumers: set[KafkaConsumer] = set()
        self._watching: asyncio.Task[None] | None = None

    def topic_name(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.timeout

    def _failed(self, what: str, exc: BaseException) -> QueueError:
        servers = ",".join(self.servers)
        if isinstance(exc, TimeoutError):
            return QueueError(f"{what}: no answer from Kafka at {servers} in {self.timeout:g} s")
        return QueueError(f"{what} (Kafka at {servers}): {exc!r}")

    async def open(self) -> None:
        timeout_ms = int(self.timeout * 1000)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.servers,
            acks="all",
            linger_ms=0,
            max_request_size=self.max_message_bytes + _BATCH_OVERHEAD,
            request_timeout_ms=timeout_ms,
        )
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=self.servers, request_timeout_ms=timeout_ms
        )
        producer, admin = self._producer, self._admin
        deadline = self._deadline()
        quiet = _QuietBootstrap()
        _client_log.addFilter(quiet)
        try:
            # A broker that is still starting (docker compose) gets until the deadline.
            await _until(deadline, producer.start, _RETRY_PAUSE)
            await _until(deadline, admin.start, _RETRY_PAUSE)
        except (TimeoutError, KafkaError, OSError) as exc:
            await self.close()
            if isinstance(exc, KafkaConnectionError):
                raise QueueError(
                    f"cannot connect to Kafka at {','.join(self.servers)}: no broker answered "
                    f"in {self.timeout:g} s (the URL's ?timeout=)"
                ) from exc
            raise self._failed("connecting", exc) from exc
        finally:
            _client_log.removeFilter(quiet)
        self._watching = asyncio.get_running_loop().create_task(self._watch())

    async def close(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
            self._watching = None
        for consumer in list(self._consumers):
            await consumer.close()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
        self._topics.clear()

    async def ensure_topic(self, topic: str, *, again: bool = False) -> None:
        """Create `topic` (unprefixed) with its OpenWhisk settings unless it exists; `again`
        asks the broker even if this queue made it before (the broker may have lost it)."""
        name = self.topic_name(topic)
        if again:
            self._topics.pop(name, None)
        if name in self._topics:
            return
        creating = self._creating.get(name)
        if creating is None:
            creating = asyncio.get_running_loop().create_task(
                self._create(topic, name), context=without_ids()
            )
            self._creating[name] = creating
            creating.add_done_callback(lambda _: self._creating.pop(name, None))
        await asyncio.shield(creating)

    async def _create(self, topic: str, name: str) -> None:
        admin = self._admin
        assert admin is not None, "open() the queue first"
        configs = {
            "retention.ms": str(retention_ms(topic)),
            "max.message.bytes": str(self.max_message_bytes + _BATCH_OVERHEAD),
        }
        new = NewTopic(name, 1, self.replication, topic_configs=configs)
        try:
            answer = await _until(self._deadline(), lambda: admin.create_topics([new]), 0.5)
        except (TimeoutError, KafkaError) as exc:
            raise self._failed(f"creating topic {name}", exc) from exc
        for _, code, message in answer.topic_errors:
            if code not in (0, TopicAlreadyExistsError.errno):
                raise QueueError(f"creating topic {name} failed: error {code}, {message}")
        self._topics[name] = topic

    async def _watch(self) -> None:
        """Make again, within a second, every topic the broker forgot.

        tansu with memory storage forgets all topics when it restarts, and a producer that
        still knows one keeps writing to it without the broker listing it: commits for it
        then fail and new consumers do not see it. A real Kafka keeps its topics; this
        costs it one metadata request a second.
        """
        while True:
            await asyncio.sleep(1.0)
            if not self._topics or self._admin is None:
                continue
            try:
                async with asyncio.timeout(2):
                    listed = set(await self._admin.list_topics())
            except (TimeoutError, KafkaError):
                continue  # the broker is away
            for name, topic in list(self._topics.items()):
                if name not in listed:
                    log.warning("Kafka forgot topic %s (a broker restart?): making it again", name)
                    try:
                        await self.ensure_topic(topic, again=True)
                    except QueueError:
                        log.exception("making topic %s again failed", name)

    async def send(self, topic: str, payload: bytes) -> None:
        producer = self._producer
        assert producer is not None, "open() the queue first"
        await self.ensure_topic(topic)
        name = self.topic_name(topic)
        try:
            # The producer retries what it can (a broker away) until its request timeout,
            # the same `timeout`; the rest (e.g. tansu refusing the first message to a topic
            # it just made again) is retried here until the deadline.
            await _until(
                self._deadline() + 1, lambda: producer.send_and_wait(name, payload), _RETRY_PAUSE
            )
        except MessageSizeTooLargeError as exc:
            raise QueueError(
                f"sending to {name}: {len(payload)} bytes is more than the "
                f"{self.max_message_bytes} a message may have"
            ) from exc
        except (TimeoutError, KafkaError) as exc:
            raise self._failed(f"sending to {name}", exc) from exc

    async def consumer(self, topic: str, group: str) -> Consumer:
        producer = self._producer
        assert producer is not None, "open() the queue first"
        await self.ensure_topic(topic)
        name = self.topic_name(topic)
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.servers,
            group_id=self.topic_name(group),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_wait_ms,
            max_partition_fetch_bytes=self.max_message_bytes + _BATCH_OVERHEAD,
            fetch_max_bytes=max(50 * 1024 * 1024, self.max_message_bytes + _BATCH_OVERHEAD),
            request_timeout_ms=int(self.timeout * 1000),
        )
        deadline = self._deadline()
        try:
            partitions = await _until(deadline, lambda: producer.partitions_for(name), 0.2)
            # aiokafka retries a consumer's later connections, not its first one.
            await _until(deadline, reader.start, _RETRY_PAUSE)
        except (TimeoutError, KafkaError) as exc:
            await reader.stop()
            raise self._failed(f"subscribing to {name}", exc) from exc
        reader.assign([TopicPartition(name, p) for p in sorted(partitions)])
        consumer = KafkaConsumer(self, reader, topic)
        self._consumers.add(consumer)
        return consumer
