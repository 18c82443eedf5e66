"""A restarted controller does not replay completions it already consumed (real Kafka API)."""

from __future__ import annotations

import asyncio

from pywhisk.common.messages import CompletionMessage, completion_topic
from pywhisk.common.queue.base import queue_from_url
from pywhisk.controller.core.tracker import ActivationTracker
from tests.support.kafka import TansuBroker, tansu

__all__ = ["tansu"]  # the fixture, used by the tests below


def completion(activation_id: str) -> bytes:
    return CompletionMessage(transid="t", activation_id=activation_id, invoker=0).to_bytes()


async def test_consumed_completions_are_committed(tansu: TansuBroker) -> None:
    url = f"{tansu.url}?prefix=trk_&timeout=20"
    queue = queue_from_url(url)
    await queue.open()
    try:
        first = ActivationTracker(queue, controller_id=3)
        await first.start()
        future = first.register("a" * 32, "ns", blocking=True, action_timeout_ms=1000)
        assert future is not None
        await queue.send(completion_topic(3), completion("a" * 32))
        await asyncio.wait_for(future, 20)
        assert first.in_flight("ns") == 0
        await asyncio.sleep(1.5)  # past one commit interval
        await first.stop()

        # The same controller restarted: the old completion must not come back. A fresh
        # completion for a new activation proves the consumer is live.
        second = ActivationTracker(queue, controller_id=3)
        await second.start()
        replayed = second.register("a" * 32, "ns", blocking=True, action_timeout_ms=1000)
        fresh = second.register("b" * 32, "ns", blocking=True, action_timeout_ms=1000)
        assert replayed is not None and fresh is not None
        await queue.send(completion_topic(3), completion("b" * 32))
        await asyncio.wait_for(fresh, 20)
        assert not replayed.done()
        await second.stop()
    finally:
        await queue.close()
