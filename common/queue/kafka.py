"""Kafka queues for the cluster preset (docs/openwhisk-compatibility.md §8.2), on aiokafka.

`kafka://host:9092[,host2:9092][?prefix=&timeout=30&fetch_wait_ms=10&idle_wait_ms=100
&background_wait_ms=1000&max_message_bytes=…&replication=1&client=lean]`

- One shared producer (acks=all, no linger: an activation waits for nobody; what is sent
  in one turn of the event loop goes in one request). A send, subscription or commit that
  cannot complete within `timeout` seconds (broker down or unreachable) raises
  `QueueError`; it never waits forever.
- The hot requests, each activation's Produce and Fetch, are our own (`client=lean`, the
  default: `kafka_producer.py`, `kafka_fetcher.py`), at a fraction of aiokafka's CPU per
  request; aiokafka keeps metadata, topics, group offsets and commits. `client=aiokafka`
  sends and fetches through aiokafka too (the former path, kept to measure against).
- Topics are created on first use with one partition (order within a topic), the retention
  OpenWhisk gives them and room for a 1 MB payload; `prefix` is `whisk.kafka.topics.prefix`.
- A consumer is assigned every partition of its topic and starts at its group's committed
  offset, or at the earliest retained message when the group has none: activations sent to
  an invoker that is down wait for it. Group *membership* is not used: every group here has
  one consumer (invoker N, controller N), and joining a group costs seconds on every start
  and rebalance (3-18 s measured against tansu), which would delay a restarted invoker.
- How long fetches wait at the broker (`*_wait_ms`), and why a paused consumer does not
  fetch: `common/queue/kafka_consumer.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import parse_qs, urlsplit

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    MessageSizeTooLargeError,
    TopicAlreadyExistsError,
)

from pywhisk.common.logcontext import without_ids
from pywhisk.common.queue.base import Queue, QueueError
from pywhisk.common.queue.kafka_consumer import (
    BACKGROUND_WAIT_MS,
    FETCH_WAIT_MS,
    IDLE_WAIT_MS,
    QUIET_MS,
    FetchWaits,
    KafkaConsumer,
    Reader,
)
from pywhisk.common.queue.kafka_fetcher import LeanReader
from pywhisk.common.queue.kafka_producer import LeanProducer
from pywhisk.common.retry import Backoff, retry

log = logging.getLogger(__name__)

__all__ = ["FETCH_WAIT_MS", "KafkaConsumer", "KafkaQueue", "retention_ms"]

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
_BATCH_OVERHEAD = 1024  # what a record batch adds around a lone record
CLIENTS = ("lean", "aiokafka")  # who sends and fetches (the module's docstring)
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
        self.waits = FetchWaits(
            busy_ms=int(query.get("fetch_wait_ms", FETCH_WAIT_MS)),
            idle_ms=int(query.get("idle_wait_ms", IDLE_WAIT_MS)),
            background_ms=int(query.get("background_wait_ms", BACKGROUND_WAIT_MS)),
        )
        self.max_message_bytes = int(query.get("max_message_bytes", MAX_MESSAGE_BYTES))
        self.replication = int(query.get("replication", 1))
        self.client = query.get("client", "lean")
        if self.client not in CLIENTS:
            raise ValueError(f"client= is one of {', '.join(CLIENTS)}: {url!r}")
        self._producer: AIOKafkaProducer | None = None
        self._lean: LeanProducer | None = None
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
        if self.client == "lean":
            self._lean = LeanProducer(
                producer.client,
                timeout=self.timeout,
                batch_bytes=self.max_message_bytes + _BATCH_OVERHEAD,
            )
        self._watching = asyncio.get_running_loop().create_task(self._watch())

    async def close(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
            self._watching = None
        for consumer in list(self._consumers):
            await consumer.close()
        if self._lean is not None:
            await self._lean.close()
            self._lean = None
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
        deadline = self._deadline() + 1
        lean = self._lean
        if lean is not None:
            try:  # the usual case, at the cost of one coroutine: the retries' only if needed
                await lean.send(name, payload)
                return
            except KafkaError as exc:
                if isinstance(exc, MessageSizeTooLargeError):
                    raise self._too_large(name, payload) from exc
                # a broker away or restarting: tried again below, until the deadline

        async def send() -> None:
            if lean is not None:
                await lean.send(name, payload)
            else:
                await producer.send_and_wait(name, payload)

        try:
            # aiokafka's producer retries what it can (a broker away) until its request
            # timeout, the same `timeout`, ours not at all; the rest (e.g. tansu refusing the
            # first message to a topic it just made again) is retried here until the deadline.
            await _until(deadline, send, _RETRY_PAUSE)
        except MessageSizeTooLargeError as exc:
            raise self._too_large(name, payload) from exc
        except (TimeoutError, KafkaError) as exc:
            raise self._failed(f"sending to {name}", exc) from exc

    def _too_large(self, name: str, payload: bytes) -> QueueError:
        return QueueError(
            f"sending to {name}: {len(payload)} bytes is more than the "
            f"{self.max_message_bytes} a message may have"
        )

    async def consumer(self, topic: str, group: str, *, prompt: bool = True) -> KafkaConsumer:
        producer = self._producer
        assert producer is not None, "open() the queue first"
        await self.ensure_topic(topic)
        name = self.topic_name(topic)
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.servers,
            group_id=self.topic_name(group),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.waits.of(prompt)[0],
            # How often its fetch loop wakes with nothing to do (default 0.2 s): everything
            # it waits for (a fetch's answer, messages taken, a resume) wakes it anyway.
            consumer_timeout_ms=QUIET_MS,
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
        source: Reader = reader
        if self.client == "lean":
            source = LeanReader(
                reader,
                producer.client,
                name,
                partitions,
                wait_ms=self.waits.of(prompt)[0],
                partition_bytes=self.max_message_bytes + _BATCH_OVERHEAD,
                max_bytes=max(50 * 1024 * 1024, self.max_message_bytes + _BATCH_OVERHEAD),
                timeout=self.timeout,
            )
        consumer = KafkaConsumer(self, source, topic, prompt=prompt, waits=self.waits)
        self._consumers.add(consumer)
        return consumer
