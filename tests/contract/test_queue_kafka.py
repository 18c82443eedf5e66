"""The queue contract against a real Kafka-protocol broker (tansu), plus what Kafka adds:
offsets committed per group, messages kept for groups that start later, broker restarts.
Each test of the queue runs with our own Produce and Fetch requests (`client=lean`, the
default) and with aiokafka's (`client=aiokafka`, the former path); the restarts, with the
default."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pywhisk.common.messages import Message
from pywhisk.common.queue.base import Queue, QueueError, queue_from_url
from pywhisk.common.queue.kafka import KafkaQueue, retention_ms
from tests.contract.queue_behavior import QueueBehavior, take
from tests.support.kafka import TansuBroker, tansu

__all__ = ["tansu"]  # the fixture, used by TestBrokerRestart

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    broker = TansuBroker(tmp_path_factory.mktemp("tansu") / "tansu.log")
    broker.start()
    yield broker
    broker.stop()


def kafka_url(broker: TansuBroker, **params: object) -> str:
    """A URL whose topics and groups no other test uses (OW's topic prefix)."""
    params.setdefault("prefix", f"t{next(_prefixes)}_{int(time.time() * 1000)}_")
    return f"{broker.url}?" + "&".join(f"{k}={v}" for k, v in params.items())


@pytest.fixture(params=["lean", "aiokafka"])
async def queue(
    kafka_broker: TansuBroker, request: pytest.FixtureRequest
) -> AsyncIterator[KafkaQueue]:
    q = queue_from_url(kafka_url(kafka_broker, client=request.param))
    assert isinstance(q, KafkaQueue)
    await q.open()
    yield q
    await q.close()


class TestKafkaQueue(QueueBehavior):
    async def test_uncommitted_messages_go_to_the_groups_next_consumer(
        self, queue: KafkaQueue
    ) -> None:
        first = await queue.consumer("invoker0", "invoker0")
        for i in range(5):
            await queue.send("invoker0", f"m{i}".encode())
        assert await take(first, 2) == [b"m0", b"m1"]
        await first.commit()
        assert await take(first, 2) == [b"m2", b"m3"]
        await first.close()  # m2, m3 taken but not committed; m4 perhaps fetched, not taken

        second = await queue.consumer("invoker0", "invoker0")
        assert await take(second, 3) == [b"m2", b"m3", b"m4"]
        await second.commit()
        await second.close()

        third = await queue.consumer("invoker0", "invoker0")
        await queue.send("invoker0", b"m5")
        assert await take(third, 1) == [b"m5"]
        await third.close()

    async def test_commit_covers_what_was_yielded_not_what_was_fetched(
        self, queue: KafkaQueue
    ) -> None:
        for i in range(50):
            await queue.send("invoker2", f"m{i}".encode())
        first = await queue.consumer("invoker2", "invoker2")
        got = await take(first, 1)  # the fetch brings all 50; one is handed out
        await first.commit()
        await first.close()
        second = await queue.consumer("invoker2", "invoker2")
        got += await take(second, 49)
        assert got == [f"m{i}".encode() for i in range(50)]
        await second.close()

    async def test_a_group_that_starts_later_gets_earlier_messages(self, queue: KafkaQueue) -> None:
        await queue.send("invoker3", b"before-anyone-listened")
        late = await queue.consumer("invoker3", "invoker3")
        assert await take(late, 1) == [b"before-anyone-listened"]
        await late.close()

    async def test_groups_commit_independently(self, queue: KafkaQueue) -> None:
        one = await queue.consumer("health", "controller0")
        await queue.send("health", b"a")
        assert await take(one, 1) == [b"a"]
        await one.commit()
        await one.close()
        two = await queue.consumer("health", "controller1")
        assert await take(two, 1) == [b"a"]
        await two.close()

    async def test_close_ends_iteration(self, queue: KafkaQueue) -> None:
        consumer = await queue.consumer("completed3", "controller3")

        async def drain() -> list[bytes]:
            return [payload async for payload in consumer]

        reading = asyncio.get_running_loop().create_task(drain())
        await asyncio.sleep(0.2)
        await consumer.close()
        assert await asyncio.wait_for(reading, 0.5) == []

    async def test_a_paused_consumer_fetches_nothing_until_resumed(self, queue: KafkaQueue) -> None:
        consumer = await queue.consumer("completed4", "controller4")
        reading = aiter(consumer)
        await queue.send("completed4", b"first")
        assert await asyncio.wait_for(anext(reading), 10) == b"first"
        consumer.pause()  # a controller with nothing in flight
        await queue.send("completed4", b"late")
        waiting = asyncio.ensure_future(anext(reading))
        done, _ = await asyncio.wait({waiting}, timeout=1.5)
        assert not done  # it lies in the topic, unfetched
        consumer.resume()
        assert await asyncio.wait_for(waiting, 5) == b"late"
        await consumer.close()

    async def test_a_message_over_the_limit_is_refused(self, queue: KafkaQueue) -> None:
        with pytest.raises(QueueError, match="invoker4"):
            await queue.send("invoker4", b"x" * (queue.max_message_bytes + 2048))

    async def test_sends_to_several_topics_at_once_all_arrive(self, queue: KafkaQueue) -> None:
        """An invoker finishing activations for two controllers, and pinging, in one turn
        of its event loop: one request carries them all."""
        topics = ["completed5", "completed6", "health"]
        consumers = [await queue.consumer(topic, f"g{topic}") for topic in topics]
        sends = [queue.send(t, f"{t}-{i}".encode()) for i in range(5) for t in topics]
        await asyncio.gather(*sends)
        for topic, consumer in zip(topics, consumers, strict=True):
            assert await take(consumer, 5) == [f"{topic}-{i}".encode() for i in range(5)]
            await consumer.close()

    async def test_topics_get_openwhisk_retention(self) -> None:
        assert retention_ms("invoker7") == 48 * 3_600_000
        assert retention_ms("completed0") == 3_600_000
        assert retention_ms("cacheInvalidation") == 300_000

    async def test_unknown_url_parts_are_refused(self) -> None:
        with pytest.raises(ValueError, match="host:port"):
            queue_from_url("kafka://")


async def test_opening_without_a_broker_fails_in_bounded_time() -> None:
    queue = queue_from_url("kafka://127.0.0.1:1?timeout=1")
    started = time.monotonic()
    with pytest.raises(QueueError, match=r"127\.0\.0\.1:1"):
        await queue.open()
    assert 0.5 <= time.monotonic() - started < 5  # it tried for about `timeout`


async def test_opening_waits_for_a_broker_that_is_starting(tmp_path: Path) -> None:
    broker = TansuBroker(tmp_path / "tansu.log")
    queue = queue_from_url(kafka_url(broker, timeout=20))
    opening = asyncio.get_running_loop().create_task(queue.open())
    await asyncio.sleep(1.0)
    assert not opening.done()
    await asyncio.to_thread(broker.start)
    try:
        await asyncio.wait_for(opening, 10)
        consumer = await queue.consumer("invoker0", "invoker0")
        await queue.send("invoker0", b"hello")
        assert await take(consumer, 1) == [b"hello"]
    finally:
        await queue.close()
        broker.stop()


async def test_a_burst_of_a_thousand_arrives_in_order(queue: KafkaQueue) -> None:
    """Concurrent sends to one topic keep their order (one partition); timings live in bench/."""
    consumer = await queue.consumer("invoker5", "invoker5")
    await asyncio.gather(*(queue.send("invoker5", f"m{i}".encode()) for i in range(1000)))
    iterator = aiter(consumer)
    got = [await anext(iterator) for _ in range(1000)]
    assert got == [f"m{i}".encode() for i in range(1000)]
    await consumer.close()


class TestBrokerRestart:
    """A broker restart on the same port. tansu keeps everything in memory, so the restarted
    broker has no topics, messages or committed offsets (a real Kafka keeps them); what the
    platform needs is that producers and consumers reconnect and new messages flow, also to a
    consumer whose position is past the end of the new, empty log."""

    async def test_producer_and_consumer_reconnect(self, tansu: TansuBroker) -> None:
        queue = queue_from_url(kafka_url(tansu, timeout=20))
        await queue.open()
        try:
            consumer = await queue.consumer("invoker0", "invoker0")
            iterator = aiter(consumer)
            for i in range(20):
                await queue.send("invoker0", f"before{i}".encode())
            for i in range(20):
                assert await asyncio.wait_for(anext(iterator), 10) == f"before{i}".encode()
            await consumer.commit()

            await asyncio.to_thread(tansu.stop)
            sending = asyncio.get_running_loop().create_task(queue.send("invoker0", b"during"))
            await asyncio.sleep(1.0)
            assert not sending.done()  # waits for the broker instead of failing at once
            await asyncio.to_thread(tansu.start)
            started = time.monotonic()
            await asyncio.wait_for(sending, 15)
            got = await _flow(queue, "invoker0", iterator)
            assert time.monotonic() - started < 15
            assert got[0] == b"during"  # sent while the broker was down, not lost
            await consumer.commit()
            await consumer.close()

            # Commits work again: the group's next consumer starts after them (with the
            # `after…` messages sent after the committed one, if any).
            consumer = await queue.consumer("invoker0", "invoker0")
            await queue.send("invoker0", b"next")
            rest = await asyncio.wait_for(_collect_until(aiter(consumer), b"next"), 10)
            assert all(m.startswith(b"after") for m in rest[:-1]), rest
            assert got[-1] not in rest
            await consumer.close()
        finally:
            await queue.close()

    async def test_a_send_fails_clearly_when_the_broker_stays_down(
        self, tansu: TansuBroker
    ) -> None:
        queue = queue_from_url(kafka_url(tansu, timeout=2))
        await queue.open()
        try:
            await queue.send("invoker1", b"up")
            await asyncio.to_thread(tansu.stop)
            started = time.monotonic()
            with pytest.raises(QueueError, match="invoker1"):
                await queue.send("invoker1", b"down")
            assert time.monotonic() - started < 5
            await asyncio.to_thread(tansu.start)
            await asyncio.wait_for(queue.send("invoker1", b"up again"), 10)
        finally:
            await queue.close()

    async def test_a_consumer_started_while_the_broker_restarts(self, tansu: TansuBroker) -> None:
        queue = queue_from_url(kafka_url(tansu, timeout=20))
        await queue.open()
        try:
            await queue.send("completed0", b"x")
            await asyncio.to_thread(tansu.stop)
            subscribing = asyncio.get_running_loop().create_task(
                queue.consumer("completed0", "controller0")
            )
            await asyncio.sleep(1.0)
            await asyncio.to_thread(tansu.start)
            consumer = await asyncio.wait_for(subscribing, 15)
            started = time.monotonic()
            await _flow(queue, "completed0", aiter(consumer))
            assert time.monotonic() - started < 15
            await consumer.close()
        finally:
            await queue.close()


async def _flow(
    queue: Queue, topic: str, iterator: AsyncIterator[bytes | Message], within: float = 15
) -> list[bytes]:
    """Send `after0`, `after1`, … to `topic` until one comes out of `iterator`; return what
    came out up to it. tansu (memory storage) may hold a message sent in the second after
    its restart until the next one is sent to the topic, so one message would not do."""
    got: list[bytes] = []

    async def send() -> None:
        for i in itertools.count():
            await queue.send(topic, f"after{i}".encode())
            await asyncio.sleep(0.3)

    async def receive() -> None:
        while not got or not got[-1].startswith(b"after"):
            got.append(_sent(await anext(iterator)))

    sending = asyncio.get_running_loop().create_task(send())
    try:
        await asyncio.wait_for(receive(), within)
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
    return got


async def _collect_until(iterator: AsyncIterator[bytes | Message], last: bytes) -> list[bytes]:
    got: list[bytes] = []
    while not got or got[-1] != last:
        got.append(_sent(await anext(iterator)))
    return got


def _sent(payload: bytes | Message) -> bytes:
    assert isinstance(payload, bytes)  # a broker only ever delivers bytes
    return payload
