"""Where an activation goes. Standalone has one in-process invoker (OW LeanBalancer);
the cluster preset replaces this with the sharding balancer over healthy invokers."""

from __future__ import annotations

from common.messages import ActivationMessage, invoker_topic
from common.queue.base import Queue


class NoInvokers(Exception):
    """No healthy invoker can take the activation (HTTP 503)."""


class StaticBalancer:
    def __init__(self, queue: Queue, invoker_ids: tuple[int, ...] = (0,)) -> None:
        if not invoker_ids:
            raise ValueError("at least one invoker id is needed")
        self.queue = queue
        self.invoker_ids = invoker_ids

    def choose(self, message: ActivationMessage) -> int:
        # One invoker in standalone; several static ones spread by action for warm reuse.
        return self.invoker_ids[hash(message.action) % len(self.invoker_ids)]

    async def publish(self, message: ActivationMessage) -> int:
        invoker = self.choose(message)
        await self.queue.send(invoker_topic(invoker), message.to_bytes())
        return invoker
