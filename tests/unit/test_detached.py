"""Work the controller carries on past its callers (controller/core/detached.py), and the tracker
entries a shutdown's stop_waiting must leave to it."""

from __future__ import annotations

import asyncio

from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.controller.core.detached import Detached
from pywhisk.controller.core.tracker import ActivationTracker


async def test_a_caller_waits_at_most_its_wait_and_the_work_goes_on() -> None:
    detached: Detached[str] = Detached()
    release = asyncio.Event()

    async def work() -> str:
        await release.wait()
        return "done"

    task = detached.spawn(work())
    assert await detached.wait(task, 0.01) is None  # past the wait: 202
    assert not task.done() and len(detached) == 1
    release.set()
    assert await detached.wait(task, 1) == "done"
    assert len(detached) == 0


async def test_stop_waiting_lets_callers_go_at_once() -> None:
    detached: Detached[str] = Detached()
    task = detached.spawn(asyncio.sleep(10, "late"))
    waiting = asyncio.create_task(detached.wait(task, 10))
    await asyncio.sleep(0)
    detached.stop_waiting()
    assert await asyncio.wait_for(waiting, 1) is None
    assert not task.done()
    task.cancel()


async def test_drain_lets_work_finish_then_cancels_what_is_left() -> None:
    detached: Detached[str] = Detached()
    ended: list[str] = []

    async def work(seconds: float, name: str) -> str:
        try:
            await asyncio.sleep(seconds)
            ended.append(f"{name} finished")
        except asyncio.CancelledError:
            ended.append(f"{name} cancelled")  # where a sequence writes its record
            raise
        return name

    quick = detached.spawn(work(0.01, "quick"))
    slow = detached.spawn(work(10, "slow"))
    await detached.drain(0.2)
    assert ended == ["quick finished", "slow cancelled"]
    assert quick.result() == "quick" and slow.cancelled()
    assert len(detached) == 0
    await detached.drain(0.2)  # nothing left: returns at once


async def test_a_failing_caller_wait_is_none() -> None:
    detached: Detached[str] = Detached()

    async def broken() -> str:
        raise RuntimeError("bug")

    task = detached.spawn(broken())
    assert await detached.wait(task, 1) is None
    assert isinstance(task.exception(), RuntimeError)


async def test_stop_waiting_leaves_a_sequences_components_waiting() -> None:
    tracker = ActivationTracker(MemoryQueue(), 0)
    caller = tracker.register("a" * 32, "guest", True, 60_000)
    component = tracker.register("b" * 32, "guest", True, 60_000, internal=True)
    assert caller is not None and component is not None
    tracker.stop_waiting()
    assert caller.done() and caller.result() is None
    assert not component.done()
    await tracker.stop()


async def test_drain_waits_for_work_started_while_draining() -> None:
    """A fire drained at shutdown may start a rule's sequence: that is drained too."""
    detached: Detached[str] = Detached()
    ended: list[str] = []

    async def later() -> str:
        await asyncio.sleep(0.2)
        ended.append("later")
        return "later"

    async def starter() -> str:
        await asyncio.sleep(0.05)
        detached.spawn(later())
        ended.append("starter")
        return "starter"

    detached.spawn(starter())
    await detached.drain(5)
    assert ended == ["starter", "later"]
    assert len(detached) == 0
