"""A consumer's fetches as Fetch requests of our own, on a connection of the consumer's own.

`KafkaConsumer` reads through a *reader*: aiokafka's `AIOKafkaConsumer`, or this
`LeanReader`, which answers the same calls (`getmany`, `position`, `seek`, `highwater`,
`pause`, `commit`, …) for the one topic it reads. A fetch here is the request's bytes
written on the link, its answer read where it arrives and its record batches read by
aiokafka's C reader: no fetcher task beside the caller, no request objects, no waiter
futures and timeouts per `getmany` (aiokafka's fetcher costs several of each per fetch, and
a consumer that waits for one message makes a fetch per message).

What stays with aiokafka's consumer (started, assigned, its partitions paused so that it
never fetches): the group's committed offsets (`committed`, `commit`) and the log's first
and last offsets, asked only to start or to recover. Positions are kept here: a partition
starts at its group's committed offset, or at the log's start when the group has none
(`auto_offset_reset=earliest`, as before). A fetch the broker refuses as out of range
(its log no longer has our position: a broker that lost it) goes back to the committed
offset if the log has it, else to the log's start. The idle check of `KafkaConsumer`
(`_realign`, for brokers that answer such a fetch with an empty log instead) reads the
high watermarks kept from each answer.

Errors never leave `getmany`: a connection lost, refused or timed out, a partition whose
leader moved, are logged, paused on for `RETRY_PAUSE` and tried again; `getmany` returns
what it has when its time is up, as aiokafka's does while the broker is away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import (
    ConsumerStoppedError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    OffsetOutOfRangeError,
    for_code,
)
from aiokafka.structs import OffsetAndMetadata

from pywhisk.common.queue.kafka_link import KafkaLink, kept_or_opened
from pywhisk.common.queue.kafka_wire import (
    FETCH,
    FETCH_VERSION,
    Record,
    WireError,
    fetch_answer,
    fetch_body,
    records_from,
)

log = logging.getLogger("pywhisk.common.queue.kafka")

RETRY_PAUSE = 0.2  # s after a failed fetch before the next (aiokafka's retry backoff: 0.1)
_LOG_EVERY = 10.0  # s between two log lines about the same kind of fetch failure


class LeanReader:
    def __init__(
        self,
        inner: AIOKafkaConsumer,
        client: AIOKafkaClient,
        topic: str,
        partitions: Iterable[int],
        *,
        wait_ms: int,
        partition_bytes: int,
        max_bytes: int,
        timeout: float,
    ) -> None:
        """`inner`: started and assigned `partitions` of `topic` (and paused here, so its
        own fetcher never fetches); `client`: whose metadata says who leads them."""
        self._inner = inner
        self._client = client
        self._topic = topic
        self._tps = {p: TopicPartition(topic, p) for p in sorted(partitions)}
        self._wait_ms = wait_ms
        self._partition_bytes = partition_bytes
        self._max_bytes = max_bytes
        self.timeout = timeout
        self._positions: dict[TopicPartition, int] = {}
        self._highwater: dict[TopicPartition, int] = {}
        self._paused: set[TopicPartition] = set()
        self._links: dict[int, KafkaLink] = {}
        self._turn = 0  # partitions led by different brokers are fetched in turns
        self._logged: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._resumed: asyncio.Future[None] = loop.create_future()
        self._resumed.set_result(None)
        inner.pause(*self._tps.values())

    # -- what KafkaConsumer asks of a reader -----------------------------------------------

    def assignment(self) -> set[TopicPartition]:
        return set(self._tps.values())

    def set_fetch_wait(self, ms: int) -> None:
        self._wait_ms = ms

    def highwater(self, tp: TopicPartition) -> int | None:
        return self._highwater.get(tp)

    async def position(self, tp: TopicPartition) -> int:
        position = self._positions.get(tp)
        if position is None:
            position = await self._start_position(tp)
        return position

    async def committed(self, tp: TopicPartition) -> int | None:
        return await self._inner.committed(tp)  # type: ignore[no-any-return]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._positions[tp] = offset

    def pause(self, *tps: TopicPartition) -> None:
        self._paused.update(tps)
        if self._resumed.done() and self._paused >= set(self._tps.values()):
            self._resumed = asyncio.get_running_loop().create_future()

    def resume(self, *tps: TopicPartition) -> None:
        self._paused.difference_update(tps)
        if not self._resumed.done():
            self._resumed.set_result(None)

    async def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        await self._inner.commit(offsets)

    async def stop(self) -> None:
        if not self._stopped.done():
            self._stopped.set_result(None)
        for link in self._links.values():
            link.close()  # a fetch waiting on it ends now
        self._links.clear()
        await self._inner.stop()

    async def getmany(self, timeout_ms: int) -> dict[TopicPartition, list[Record]]:
        """What the next fetches bring, as soon as one brings something, or nothing after
        about `timeout_ms`; ConsumerStoppedError once `stop` is called."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while True:
            if self._stopped.done():
                raise ConsumerStoppedError()
            if not self._resumed.done():
                await asyncio.wait(
                    (self._resumed, self._stopped), timeout=max(0.0, deadline - loop.time())
                )
                got = {}
            else:
                try:
                    got = await self._fetch()
                except (KafkaError, WireError, TimeoutError) as exc:
                    if self._stopped.done():
                        raise ConsumerStoppedError() from None
                    self._failed(exc)
                    await asyncio.wait((self._stopped,), timeout=RETRY_PAUSE)
                    got = {}
            if got or loop.time() >= deadline:
                return got

    # -- fetching --------------------------------------------------------------------------

    async def _fetch(self) -> dict[TopicPartition, list[Record]]:
        tps = [tp for tp in self._tps.values() if tp not in self._paused]
        by_leader: dict[int, list[TopicPartition]] = {}
        for tp in tps:
            leader = self._client.cluster.leader_for_partition(tp)
            if leader is None or leader < 0:
                self._client.add_topic(tp.topic)
                self._client.force_metadata_update()
                raise KafkaConnectionError(f"no leader known for {tp.topic}[{tp.partition}]")
            by_leader.setdefault(leader, []).append(tp)
        if not by_leader:
            return {}
        self._turn += 1
        leader = sorted(by_leader)[self._turn % len(by_leader)]
        asked = by_leader[leader]
        positions = [(tp.partition, await self.position(tp)) for tp in asked]
        link = await self._link(leader)
        body = fetch_body(
            self._wait_ms, self._max_bytes, self._topic, positions, self._partition_bytes
        )
        try:
            async with asyncio.timeout(self._wait_ms / 1000 + self.timeout):
                answer = await link.request(FETCH, FETCH_VERSION, body)
        except TimeoutError as exc:
            link.close()  # a late answer would be taken for the next request's
            raise KafkaTimeoutError(f"no answer to a fetch in {self.timeout:g} s") from exc
        except WireError:
            link.close()
            raise
        asked_at = dict(positions)
        got: dict[TopicPartition, list[Record]] = {}
        for fetched in fetch_answer(answer):
            tp = self._tps.get(fetched.partition)
            position = asked_at.get(fetched.partition)
            if tp is None or position is None or self._positions.get(tp) != position:
                continue  # not asked, or sought elsewhere meanwhile
            if fetched.error == OffsetOutOfRangeError.errno:
                await self._out_of_range(tp, position)
                continue
            if fetched.error:
                self._client.force_metadata_update()
                raise for_code(fetched.error)(f"fetching {tp.topic}[{tp.partition}]")
            self._highwater[tp] = fetched.high_watermark
            if not fetched.records:
                continue
            records, after = records_from(fetched.records, position)
            if not records and after == position:
                # Not one whole batch: a message larger than a fetch may carry. It can
                # never be read; step over it (as aiokafka does) rather than stall.
                log.error(
                    "%s[%d]: the message at offset %d is larger than %d bytes: skipped",
                    *(tp.topic, tp.partition, position, self._partition_bytes),
                )
                after = position + 1
            self._positions[tp] = after
            if records:
                got[tp] = records
        return got

    async def _link(self, node: int) -> KafkaLink:
        link = await kept_or_opened(self._client, self._links, node, self.timeout)
        if link is self._links.get(node):
            return link
        if self._stopped.done():
            link.close()
            raise ConsumerStoppedError()
        self._links[node] = link
        return link

    async def _start_position(self, tp: TopicPartition) -> int:
        """The group's committed offset, or the log's first when it has none."""
        async with asyncio.timeout(self.timeout):
            committed = await self._inner.committed(tp)
            if committed is None:
                committed = (await self._inner.beginning_offsets([tp]))[tp]
        self._positions[tp] = committed
        return committed  # type: ignore[no-any-return]

    async def _out_of_range(self, tp: TopicPartition, position: int) -> None:
        async with asyncio.timeout(self.timeout):
            first = (await self._inner.beginning_offsets([tp]))[tp]
            end = (await self._inner.end_offsets([tp]))[tp]
            committed = await self._inner.committed(tp)
        target = committed if committed is not None and first <= committed <= end else first
        log.warning(
            "%s[%d] has no offset %d (its log is %d to %d): the broker lost its log; "
            "reading again from %d",
            *(tp.topic, tp.partition, position, first, end, target),
        )
        self._positions[tp] = target

    def _failed(self, exc: BaseException) -> None:
        kind = type(exc).__name__
        now = time.monotonic()
        if now - self._logged.get(kind, -_LOG_EVERY) >= _LOG_EVERY:
            self._logged[kind] = now
            log.warning("fetching %s failed, trying again: %r", self._topic, exc)
