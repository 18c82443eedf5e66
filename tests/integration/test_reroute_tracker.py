"""A gone invoker's held activations, decided by the tracker and the rerouter over the
in-process queue, the real sharding balancer and a real SQLite store (its claims).

What had not started is handed to the other invoker and sent on its topic; its caller
gets the real answer later. What had started is a whisk internal error record at once;
what no invoker can take is too, and fenced; the forced-ack timeout fences as well, so no
invoker starts an activation its caller was told was lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pywhisk.common.messages import ActivationMessage, PingMessage, completion_topic, invoker_topic
from pywhisk.common.queue.base import Consumer
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.claims import FENCE, Claim
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.core import tracker as tracker_module
from pywhisk.controller.core.balancer import ShardingBalancer
from pywhisk.controller.core.health import Status
from pywhisk.controller.core.reroute import Rerouter
from pywhisk.controller.core.tracker import LOST, NO_ANSWER, STRANDED, ActivationTracker
from tests.support.clocks import ManualClock
from tests.support.messages import answered, message


class Parts:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.queue = MemoryQueue()
        self.clock = ManualClock()
        self.balancer = ShardingBalancer(self.queue, 0, clock=self.clock)
        self.tracker = ActivationTracker(
            self.queue,
            0,
            on_release=self.balancer.release,
            store=store,
            rerouter=Rerouter(self.balancer, store, self.queue),
        )
        self.balancer.watch(self.tracker)

    def ping(self, invoker: int) -> None:
        self.balancer.on_ping(PingMessage(invoker=invoker, user_memory=1024))

    async def send(self, msg: ActivationMessage) -> asyncio.Future[Any] | None:
        future = self.tracker.register(msg.activation_id, "guest", msg.blocking, 1000, msg)
        self.tracker.placed(msg.activation_id, await self.balancer.publish(msg, 256))
        return future

    async def record(self, aid: str) -> dict[str, Any] | None:
        await asyncio.sleep(0)
        return await self.store.activations.get("guest", aid)

    def silence_invoker0(self, other_alive: bool = True) -> None:
        """Invoker 0 says nothing for 10.5 s; invoker 1 (if it was heard) pinged lately."""
        self.clock.now = 10.0
        if other_alive:
            self.ping(1)
        self.clock.now = 10.5
        self.balancer.tick()


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


async def take(consumer: Consumer, count: int) -> list[str]:
    ids = []
    async with asyncio.timeout(5):
        async for payload in consumer:
            ids.append(ActivationMessage.from_bytes(payload).activation_id)
            if len(ids) == count:
                return ids
    raise AssertionError("unreachable")


async def settled(parts: Parts) -> None:
    async with asyncio.timeout(5):
        while parts.tracker._writes:  # the take-over and its records
            await asyncio.wait(set(parts.tracker._writes))


async def test_unstarted_work_moves_and_started_work_is_lost(parts: Parts) -> None:
    parts.ping(0)  # only invoker 0 is known: everything goes there
    started, queued, background = "a" * 32, "b" * 32, "c" * 32
    running = await parts.send(message(started))
    waiting = await parts.send(message(queued))
    await parts.send(message(background, blocking=False))
    assert await parts.store.claims.start([started], "invoker0", "t0") == {started}
    invoker1 = await parts.queue.consumer(invoker_topic(1), "invoker1")

    parts.silence_invoker0()
    await settled(parts)

    assert running is not None and running.done()
    assert running.result()["response"]["result"] == {"error": LOST}
    assert (await parts.record(started))["response"]["status"] == "whisk internal error"  # type: ignore[index]
    assert sorted(await take(invoker1, 2)) == [queued, background]
    assert waiting is not None and not waiting.done()  # its real answer is to come
    for aid in (queued, background):
        assert await parts.record(aid) is None
        assert await parts.store.claims.get(aid) == Claim("invoker1", False)
    # Invoker 0 back from a pause cannot start them any more; invoker 1 can.
    assert await parts.store.claims.start([queued, background], "invoker0", "t1") == set()
    assert await parts.store.claims.start([queued], "invoker1", "t2") == {queued}
    # Memory is held on invoker 1 now, not on invoker 0.
    free = {s.id: s.free for s in parts.balancer.states()}
    assert free[0] == 1024 and free[1] == 1024 - 2 * 256

    done = answered(queued, accepted=0).model_copy(update={"invoker": 1})
    await parts.queue.send(completion_topic(0), done.to_bytes())
    answer = await asyncio.wait_for(waiting, 2)
    assert answer["response"]["result"] == {"n": queued}
    assert parts.tracker.in_flight("guest") == 1  # the background one still runs


async def test_work_lost_at_the_death_is_not_held_against_the_new_invoker(
    parts: Parts,
) -> None:
    parts.ping(0)
    ids = [f"{i:032x}" for i in range(6)]
    for aid in ids:
        await parts.send(message(aid, blocking=False))
    await parts.store.claims.start(ids, "invoker0", "t0")  # all were running
    parts.silence_invoker0()
    await settled(parts)
    assert parts.tracker.in_flight("guest") == 0
    health = dict(parts.balancer.invoker_health())
    assert health == {0: Status.OFFLINE, 1: Status.HEALTHY}, health


async def test_with_no_invoker_left_the_work_is_fenced_and_answered(parts: Parts) -> None:
    parts.ping(0)
    waiting = await parts.send(message("d" * 32))
    parts.silence_invoker0(other_alive=False)
    await settled(parts)
    assert waiting is not None
    assert (await asyncio.wait_for(waiting, 1))["response"]["result"] == {"error": STRANDED}
    assert await parts.store.claims.get("d" * 32) == Claim(FENCE, False)
    assert await parts.store.claims.start(["d" * 32], "invoker0", "t") == set()


async def test_the_forced_ack_timeout_fences_the_activation(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_module, "forced_ack_timeout", lambda _ms: 0.05)
    parts.ping(0)
    waiting = await parts.send(message("e" * 32))
    assert waiting is not None
    answer = await asyncio.wait_for(waiting, 2)
    assert answer["response"]["result"] == {"error": NO_ANSWER}
    await settled(parts)
    assert await parts.store.claims.start(["e" * 32], "invoker0", "t") == set()
    assert await parts.record("e" * 32) is not None
