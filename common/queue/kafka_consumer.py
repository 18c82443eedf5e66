"""One topic's Kafka consumer (`KafkaQueue.consumer`), and how long its fetches wait.

A Kafka consumer asks the broker for messages with a fetch that waits at the broker up to
`fetch.max.wait.ms` for one to arrive. Apache Kafka answers such a waiting fetch as soon as
a message is written, so a long wait costs no latency and an idle consumer makes about two
requests a second (its default, 500 ms). tansu 0.6 (the broker the tests and benches run)
does not: it looks at the log when the fetch comes, then sleeps half the time left, looks
again, and so on (at 1/2, 3/4, 7/8 … of the wait), and answers at the first look that
finds a message. A message written during a wait of W is delivered up to W/2 later
(`KafkaQueue` alone, send to delivery, p50 / max: 2.5 / 11 ms for a 10 ms wait, 11 / 52
ms for 100 ms, 104 / 199 ms for 500 ms). On tansu a short wait buys latency with polling:
at 10 ms for every consumer (5 of them: a controller's completions, pings and cache
invalidations, an invoker's activations and invalidations), an idle controller and
invoker burned 12-17 % of a core between them, and tansu as much again; each fetch's
round trip cost a client about half a millisecond of CPU on the 2 loaded cores measured
(through aiokafka; our own fetch, `kafka_fetcher.py`, costs less than half of that).

So the wait follows what the consumer expects (`FetchWaits`):
- a prompt consumer (activations, completions) waits `busy_ms` (10) while messages flow,
  and `idle_ms` (100) once a second has passed with none; the first message after a quiet
  second is then up to `idle_ms / 2` later on tansu (measured p50 +25-35 ms an invoke),
  and not later at all on Kafka;
- a consumer that is not prompt (health pings, cache invalidations: a second is soon
  enough) always waits `background_ms` (1000; on tansu a ping comes up to 0.5 s late
  against the 10 s an invoker may be silent);
- a paused consumer does not fetch at all (`pause`): a controller with no activation in
  flight expects no completion, and resumes before it sends the next activation, so its
  first fetch is already waiting when the completion comes.
With a broker that answers waiting fetches at once, set them all long (`fetch_wait_ms=500`:
no wait is shorter than `busy_ms`). On tansu with these defaults an idle controller makes
about 3 requests a second (pings, invalidations, `KafkaQueue._watch`'s metadata) and an
invoker about 18 (its activations' fetches, 10 a second, most of them), and they burn
0.6-0.8 and 0.9-1.2 % of a core (tansu 1.7-2 %), where they burned 8-9 and 5.5-6 %.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import ConsumerStoppedError, KafkaError
from aiokafka.structs import OffsetAndMetadata

from pywhisk.common.queue.base import Consumer, QueueError
from pywhisk.common.queue.kafka_fetcher import LeanReader

log = logging.getLogger("pywhisk.common.queue.kafka")


class Home(Protocol):
    """What a consumer asks of the queue that made it (`KafkaQueue`): described here rather
    than imported, so that the two modules do not import each other."""

    @property
    def timeout(self) -> float: ...

    @property
    def _consumers(self) -> set[KafkaConsumer]: ...

    def topic_name(self, topic: str) -> str: ...

    def _failed(self, what: str, exc: BaseException) -> QueueError: ...


FETCH_WAIT_MS = 10
IDLE_WAIT_MS = 100
BACKGROUND_WAIT_MS = 1000
# How long a consumer asks aiokafka for messages before it looks at its idle state: a quiet
# second makes a prompt consumer's fetches long and checks the log's end (`_realign`).
QUIET_MS = 1000


@dataclass(frozen=True, slots=True)
class FetchWaits:
    """How long a consumer's fetches wait at the broker, in ms (see the module's docstring)."""

    busy_ms: int = FETCH_WAIT_MS
    idle_ms: int = IDLE_WAIT_MS
    background_ms: int = BACKGROUND_WAIT_MS

    def of(self, prompt: bool) -> tuple[int, int]:
        """(while messages flow, after a quiet second) for a prompt consumer or another;
        never shorter than `busy_ms`."""
        if not prompt:
            wait = max(self.background_ms, self.busy_ms)
            return wait, wait
        return self.busy_ms, max(self.idle_ms, self.busy_ms)


class _Message(Protocol):
    """A fetched message, from aiokafka's reader or ours (`kafka_wire.Record`)."""

    @property
    def offset(self) -> int: ...

    @property
    def value(self) -> bytes | None: ...


Reader: TypeAlias = AIOKafkaConsumer | LeanReader


def _set_fetch_wait(reader: Reader, ms: int) -> None:
    if isinstance(reader, LeanReader):
        reader.set_fetch_wait(ms)
        return
    # aiokafka takes the wait from this attribute each time it builds a fetch request and
    # offers no setter; a consumer made anew would lose its fetched messages and position.
    fetcher = getattr(reader, "_fetcher", None)
    if fetcher is not None:
        fetcher._fetch_max_wait_ms = ms


class KafkaConsumer(Consumer):
    """Reads one topic (all its partitions) for one group; commits only what it yielded."""

    def __init__(
        self,
        queue: Home,
        reader: Reader,
        topic: str,
        *,
        prompt: bool = True,
        waits: FetchWaits = FetchWaits(),
    ) -> None:
        self._queue = queue
        self._reader = reader
        self._topic = topic
        self._busy_wait, self._idle_wait = waits.of(prompt)
        self._wait = self._busy_wait
        # Fetched but not yet handed out; kept here, not in one generator, because a caller
        # may stop iterating and start again (each `async for` makes a new generator).
        self._fetched: deque[tuple[TopicPartition, _Message]] = deque()
        self._yielded: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        # Partitions whose log ended before our position at the last idle check, with that
        # position: the log is taken for lost only if the next check says so again.
        self._behind: dict[TopicPartition, int] = {}
        self._closed = False
        loop = asyncio.get_running_loop()
        self._closing: asyncio.Future[None] = loop.create_future()
        self._resumed: asyncio.Future[None] = loop.create_future()
        self._resumed.set_result(None)

    def pause(self) -> None:
        if self._closed or not self._resumed.done():
            return
        self._resumed = asyncio.get_running_loop().create_future()
        # No fetch is sent for a paused partition; what a fetch in flight brings for it is
        # dropped by aiokafka and fetched again after `resume`.
        self._reader.pause(*self._reader.assignment())

    def resume(self) -> None:
        if self._closed or self._resumed.done():
            return
        self._resumed.set_result(None)
        self._wait_for(self._busy_wait)  # the answer is expected soon
        self._reader.resume(*self._reader.assignment())

    def _wait_for(self, ms: int) -> None:
        if ms != self._wait:
            self._wait = ms
            _set_fetch_wait(self._reader, ms)

    async def __aiter__(self) -> AsyncIterator[bytes]:  # type: ignore[override]
        while not self._closed:
            if not self._fetched:
                if not self._resumed.done():
                    await asyncio.wait(
                        (self._resumed, self._closing), return_when=asyncio.FIRST_COMPLETED
                    )
                    continue
                try:
                    batches = await self._fetch()
                except ConsumerStoppedError:
                    return
                for tp, records in batches.items():
                    self._fetched.extend((tp, record) for record in records)
                if batches:
                    # Set before the next fetch is built (when these are taken), with no
                    # await between: the reply to this message may come right behind it.
                    self._wait_for(self._busy_wait)
                elif self._resumed.done():
                    self._wait_for(self._idle_wait)
                    await self._realign()
                continue
            tp, record = self._fetched.popleft()
            # Counted as yielded before the caller sees it, so a commit made while the
            # caller handles it includes it (the invoker commits what it took).
            self._yielded[tp] = record.offset + 1
            yield record.value  # type: ignore[misc]

    async def _fetch(self) -> Mapping[TopicPartition, Sequence[_Message]]:
        if isinstance(self._reader, LeanReader):  # ends by itself when stopped
            return await self._reader.getmany(QUIET_MS)
        # aiokafka's getmany does not return when the consumer stops; close() must end the
        # iteration at once (an invoker stopping, a controller shutting down). A pause
        # needs no such care: the getmany ends empty within QUIET_MS.
        fetching = asyncio.ensure_future(self._reader.getmany(timeout_ms=QUIET_MS))
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

        The log's end is the high watermark of the last fetch's answer, which the consumer
        has anyway (asking for it was a request per consumer and idle second: a fifth of
        an idle controller's requests). Only when two idle checks in a row (a second apart)
        find it so: tansu has been seen to report a log's end one short of a message just
        delivered, and going back on that replayed the whole topic to the invoker (each
        run skipped only by its claim).
        """
        try:
            async with asyncio.timeout(2):
                for tp in list(self._reader.assignment()):
                    end = self._reader.highwater(tp)
                    position = await self._reader.position(tp)
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
