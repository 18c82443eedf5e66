"""The queue contract, run per backend: subclass and provide a `queue` fixture."""

from __future__ import annotations

import asyncio

from pywhisk.common.queue.base import Consumer, Queue


async def take(consumer: Consumer, n: int) -> list[bytes]:
    """The next `n` messages, within 10 s."""
    got: list[bytes] = []
    async with asyncio.timeout(10):
        async for payload in consumer:
            assert isinstance(payload, bytes)  # sent as bytes: delivered as bytes
            got.append(payload)
            if len(got) == n:
                break
    return got


class QueueBehavior:
    async def test_delivers_in_order(self, queue: Queue) -> None:
        consumer = await queue.consumer("invoker0", "g")
        for i in range(100):
            await queue.send("invoker0", str(i).encode())
        assert await take(consumer, 100) == [str(i).encode() for i in range(100)]
        await consumer.commit()
        await consumer.close()

    async def test_topics_are_separate(self, queue: Queue) -> None:
        a = await queue.consumer("completed0", "g")
        b = await queue.consumer("completed1", "g")
        await queue.send("completed1", b"for-b")
        await queue.send("completed0", b"for-a")
        assert await take(a, 1) == [b"for-a"]
        assert await take(b, 1) == [b"for-b"]
        await a.close()
        await b.close()

    async def test_each_group_gets_every_message(self, queue: Queue) -> None:
        one = await queue.consumer("health", "controller0")
        two = await queue.consumer("health", "controller1")
        await queue.send("health", b"ping")
        assert await take(one, 1) == [b"ping"]
        assert await take(two, 1) == [b"ping"]
        await one.close()
        await two.close()

    async def test_large_message(self, queue: Queue) -> None:
        consumer = await queue.consumer("invoker1", "g")
        payload = b"x" * (1024 * 1024)
        await queue.send("invoker1", payload)
        assert await take(consumer, 1) == [payload]
        await consumer.close()

    async def test_what_is_sent_while_paused_comes_after_resume(self, queue: Queue) -> None:
        consumer = await queue.consumer("completed2", "g")
        await queue.send("completed2", b"before")
        assert await take(consumer, 1) == [b"before"]
        consumer.pause()
        await queue.send("completed2", b"while-paused")
        consumer.resume()
        await queue.send("completed2", b"after")
        assert await take(consumer, 2) == [b"while-paused", b"after"]
        await consumer.close()
