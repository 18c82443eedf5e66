"""The invoker's health pings, over the in-process queue."""

from __future__ import annotations

import asyncio

from pywhisk.common.messages import HEALTH_TOPIC, PingMessage
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.invoker.health import Pinger


async def test_pings_every_interval_and_says_disabled_when_stopping() -> None:
    queue = MemoryQueue()
    consumer = await queue.consumer(HEALTH_TOPIC, "controller0")
    pinger = Pinger(queue, 3, 1024, interval=0.01)
    await pinger.start()
    pings: list[PingMessage] = []

    async def read(n: int) -> None:
        async for payload in consumer:
            pings.append(PingMessage.from_bytes(payload))
            if len(pings) >= n:
                return

    await asyncio.wait_for(read(3), 2)
    assert {(p.invoker, p.user_memory, p.enabled) for p in pings} == {(3, 1024, True)}
    await pinger.stop()
    pings.clear()
    await asyncio.wait_for(read(1), 2)
    # The last one may still be a regular ping sent before stop; the final one is disabled.
    while pings[-1].enabled:
        await asyncio.wait_for(read(len(pings) + 1), 2)
    assert not pings[-1].enabled
    await queue.close()
