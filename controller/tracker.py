"""Activations in flight: who waits for them and how many each namespace has.

Every published activation is registered here until its CompletionMessage arrives on
`completed{controller}`. Blocking callers wait on a future; the namespace's in-flight
count feeds the concurrency throttle. If no completion ever arrives (an invoker died),
the entry is released after OpenWhisk's forced-ack timeout, so counts never leak.
Each release is also handed to `on_release` (the balancer: free the invoker's slots and
count the outcome for its health).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.messages import CompletionMessage, completion_topic
from common.queue.base import Committer, Consumer, Queue
from controller.health import Result

log = logging.getLogger(__name__)


def forced_ack_timeout(action_timeout_ms: int) -> float:
    """OW CommonLoadBalancer: max(timeout, 60 s) × 2 + 1 min."""
    return max(action_timeout_ms / 1000, 60.0) * 2 + 60.0


@dataclass
class _Entry:
    namespace: str
    future: asyncio.Future[dict[str, Any] | None] | None
    timer: asyncio.TimerHandle | None = field(default=None)


class ActivationTracker:
    def __init__(
        self,
        queue: Queue,
        controller_id: int,
        on_release: Callable[[str, Result | None], None] | None = None,
    ) -> None:
        self.queue = queue
        self.controller_id = controller_id
        self.on_release = on_release
        self._entries: dict[str, _Entry] = {}
        self._in_flight: Counter[str] = Counter()
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = await self.queue.consumer(
            completion_topic(self.controller_id), f"controller{self.controller_id}"
        )
        self._task = asyncio.get_running_loop().create_task(self._consume(self._consumer))

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for entry in self._entries.values():
            if entry.timer:
                entry.timer.cancel()
            if entry.future and not entry.future.done():
                entry.future.set_result(None)
        self._entries.clear()

    def stop_waiting(self) -> None:
        """Let every blocking caller go now (they answer 202 with the activation id); the
        entries stay until their completion or forced-ack timeout releases them."""
        for entry in self._entries.values():
            if entry.future is not None and not entry.future.done():
                entry.future.set_result(None)

    def in_flight(self, namespace: str) -> int:
        return self._in_flight[namespace]

    def register(
        self, activation_id: str, namespace: str, blocking: bool, action_timeout_ms: int
    ) -> asyncio.Future[dict[str, Any] | None] | None:
        loop = asyncio.get_running_loop()
        future = loop.create_future() if blocking else None
        entry = _Entry(namespace, future)
        entry.timer = loop.call_later(
            forced_ack_timeout(action_timeout_ms),
            self._release,
            activation_id,
            None,
            Result.TIMEOUT,
        )
        self._entries[activation_id] = entry
        self._in_flight[namespace] += 1
        return future

    def forget(self, activation_id: str) -> None:
        """Undo a registration whose message could not be published."""
        self._release(activation_id, None, None)

    def _release(
        self, activation_id: str, activation: dict[str, Any] | None, result: Result | None
    ) -> None:
        entry = self._entries.pop(activation_id, None)
        if entry is None:
            return
        if self.on_release is not None:
            try:
                self.on_release(activation_id, result)
            except Exception:
                log.exception("releasing activation %s in the balancer failed", activation_id)
        if entry.timer:
            entry.timer.cancel()
        self._in_flight[entry.namespace] -= 1
        if self._in_flight[entry.namespace] <= 0:
            del self._in_flight[entry.namespace]
        if entry.future is not None and not entry.future.done():
            entry.future.set_result(activation)

    async def _consume(self, consumer: Consumer) -> None:
        # Committed so that a restarted controller does not replay an hour of completions
        # (and their results) for activations nobody waits for any more.
        commits = Committer(consumer, "completion messages")
        committer = asyncio.get_running_loop().create_task(commits.run())
        try:
            async for payload in consumer:
                commits.mark()
                try:
                    message = CompletionMessage.from_bytes(payload)
                except ValueError:
                    log.exception("dropping malformed completion message")
                    continue
                result = Result.SYSTEM_ERROR if message.system_error else Result.SUCCESS
                self._release(message.activation_id, message.activation, result)
        finally:
            committer.cancel()
