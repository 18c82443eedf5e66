"""Work the controller carries on after it may have answered: a sequence invoked
non-blocking, or one that outlasts its caller's blocking wait (docs/openwhisk-compatibility.md §6.1).

Each runs as a task kept here, so that a caller can wait for one with a bound (and be let
go at shutdown), and so that a stopping controller drains them: what finishes within the
grace writes its record as usual; what does not is cancelled, and cancelling a sequence
writes its record too (see `controller.sequences.run`). Nothing is left unanswered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Detached(Generic[T]):
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[T]] = set()
        self._callers: set[asyncio.Future[T | None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[T]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("detached work failed", exc_info=task.exception())

    async def wait(self, task: asyncio.Task[T], seconds: float) -> T | None:
        """The task's result if it ends within `seconds` (and before `stop_waiting`), else
        None; the task itself runs on either way."""
        waiter: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()

        def hand_over(done: asyncio.Task[T]) -> None:
            if waiter.done():
                return
            if done.cancelled() or done.exception() is not None:
                waiter.set_result(None)
            else:
                waiter.set_result(done.result())

        task.add_done_callback(hand_over)
        self._callers.add(waiter)
        try:
            return await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            return None
        finally:
            self._callers.discard(waiter)
            task.remove_done_callback(hand_over)

    def stop_waiting(self) -> None:
        """Let every waiting caller go now (they answer 202 with the activation id)."""
        for waiter in self._callers:
            if not waiter.done():
                waiter.set_result(None)

    async def drain(self, grace: float) -> None:
        """Let running work finish for up to `grace` seconds, then cancel what is left and
        wait for it to wind down (a cancelled sequence still writes its record)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # Draining work may start more (a trigger fired just before the stop invokes a
        # rule's sequence): wait until none is left or the grace is over.
        while self._tasks and (remaining := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._tasks), timeout=remaining)
        pending = set(self._tasks)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("cancelled %d runs still going after %.0fs", len(pending), grace)
            await asyncio.gather(*pending, return_exceptions=True)
