"""Nothing ends without a record: the tracker and balancer over the in-process queue and a
real SQLite store.

An invoker that goes silent loses what it held (whisk internal error records, blocking
callers answered with them) and may have died before writing the records of activations
it answered (rewritten from the completions, which carry them, unless its pings said they
were stored). The forced-ack timeout writes a record too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pywhisk.common.messages import (
    ActivationMessage,
    CompletionMessage,
    PingMessage,
    completion_topic,
)
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.core import tracker as tracker_module
from pywhisk.controller.core.balancer import ShardingBalancer
from pywhisk.controller.core.tracker import LOGS_LOST, LOST, NO_ANSWER, ActivationTracker
from tests.support.clocks import ManualClock
from tests.support.messages import answered, message
from tests.support.polling import wait_until_async


class Parts:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.queue = MemoryQueue()
        self.clock = ManualClock()
        self.balancer = ShardingBalancer(self.queue, 0, clock=self.clock)
        self.tracker = ActivationTracker(
            self.queue, 0, on_release=self.balancer.release, store=store
        )
        self.balancer.watch(self.tracker)

    def ping(self, stored_until: int = 0) -> None:
        self.balancer.on_ping(PingMessage(invoker=0, user_memory=1024, stored_until=stored_until))

    async def send(self, msg: ActivationMessage) -> asyncio.Future[object] | None:
        future = self.tracker.register(msg.activation_id, "guest", msg.blocking, 1000, msg)
        self.tracker.placed(msg.activation_id, await self.balancer.publish(msg, 256))
        return future  # type: ignore[return-value]

    async def complete(self, completion: CompletionMessage) -> None:
        await self.queue.send(completion_topic(0), completion.to_bytes())

    async def record(self, aid: str) -> dict[str, Any] | None:
        await asyncio.sleep(0)  # let background writes queue
        return await self.store.activations.get("guest", aid)


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    store = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    p = Parts(store)
    await p.queue.open()
    await p.tracker.start()
    yield p
    await p.tracker.stop()
    await store.close()


async def nothing_in_flight(parts: Parts) -> None:
    """Until the tracker has taken every completion sent."""
    await wait_until_async(
        lambda: parts.tracker.in_flight("guest"),
        "no activation in flight",
        timeout=5,
        interval=0.01,
        until=lambda count: count == 0,
    )


async def test_a_silent_invoker_loses_what_it_held_with_records_and_answers(parts: Parts) -> None:
    parts.ping()
    waiting = await parts.send(message("a" * 32))
    background = await parts.send(message("b" * 32, blocking=False))
    assert background is None and waiting is not None and not waiting.done()

    parts.clock.now = 10.5  # more than 10 s without a ping
    parts.balancer.tick()

    answer = await asyncio.wait_for(waiting, 1)
    assert answer["response"]["status"] == "whisk internal error"  # type: ignore[index]
    assert answer["response"]["result"] == {"error": LOST}  # type: ignore[index]
    for aid in ("a" * 32, "b" * 32):
        stored = await parts.record(aid)
        assert stored is not None, aid
        assert stored["response"]["statusCode"] == 3  # type: ignore[index]
        assert stored["subject"] == "alice" and stored["version"] == "0.0.2"
        assert {"key": "path", "value": "guest/pkg/hello"} in stored["annotations"]  # type: ignore[operator]
    assert parts.tracker.in_flight("guest") == 0
    assert parts.balancer.states()[0].free == parts.balancer.states()[0].user_memory


async def test_answered_records_the_invoker_had_not_stored_are_rewritten(parts: Parts) -> None:
    parts.ping(stored_until=1000)
    for aid in ("c" * 32, "d" * 32, "e" * 32):
        await parts.send(message(aid))
    # "c" was taken before 1000 and is stored by the invoker's account; the others not.
    await parts.complete(answered("c" * 32, accepted=900))
    await parts.complete(answered("d" * 32, accepted=1100))
    await parts.complete(answered("e" * 32, accepted=1200))
    await nothing_in_flight(parts)
    parts.ping(stored_until=1150)  # "d" is written now

    parts.clock.now = 11.0
    parts.balancer.tick()

    e = await wait_until_async(
        lambda: parts.record("e" * 32), "e's record rewritten", timeout=5, interval=0.01
    )
    response = e["response"]
    assert (response["status"], response["statusCode"]) == ("success", 0)
    assert response["result"] == {"n": "e" * 32}
    assert e["logs"][-1].endswith(f"stderr: {LOGS_LOST}")
    # Only what the invoker's pings did not vouch for is rewritten.
    assert await parts.record("c" * 32) is None
    assert await parts.record("d" * 32) is None


async def test_a_record_written_by_the_invoker_is_not_overwritten(parts: Parts) -> None:
    parts.ping(stored_until=1)
    await parts.send(message("f" * 32))
    await parts.complete(answered("f" * 32, accepted=5))
    await nothing_in_flight(parts)
    original = {**answered("f" * 32, 5).activation, "logs": ["the real logs"]}  # type: ignore[dict-item]
    original["response"] = {**original["response"], "statusCode": 0}
    await parts.store.activations.put(original)

    parts.clock.now = 11.0
    parts.balancer.tick()
    await asyncio.sleep(0.1)
    stored = await parts.record("f" * 32)
    assert stored is not None and stored["logs"] == ["the real logs"]


async def test_the_forced_ack_timeout_writes_a_record(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_module, "forced_ack_timeout", lambda _ms: 0.05)
    parts.ping()
    waiting = await parts.send(message("9" * 32))
    assert waiting is not None
    answer = await asyncio.wait_for(waiting, 2)
    assert answer["response"]["result"] == {"error": NO_ANSWER}  # type: ignore[index]
    stored = await parts.record("9" * 32)
    assert stored is not None and stored["response"]["status"] == "whisk internal error"  # type: ignore[index]
