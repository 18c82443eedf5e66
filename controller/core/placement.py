"""Placing an activation on an invoker: the one interface the invoke paths use.

The balancer picks an invoker and posts the message to its topic; the tracker keeps the
activation until its answer (or its forced-ack timer) releases it. Registered with the
tracker before it is posted, so that an answer faster than the post's return is not missed;
forgotten again if the post fails, so that nothing waits for an answer that cannot come.
"""

from __future__ import annotations

import logging

from pywhisk.common.messages import ActivationMessage
from pywhisk.controller.core.balancer import Balancer
from pywhisk.controller.core.capabilities import Answer
from pywhisk.controller.core.tracker import ActivationTracker

log = logging.getLogger("pywhisk.controller")


class Placement:
    def __init__(self, balancer: Balancer, tracker: ActivationTracker) -> None:
        self._balancer = balancer
        self._tracker = tracker

    async def place(
        self,
        message: ActivationMessage,
        *,
        blocking: bool,
        timeout_ms: int,
        memory: int = 256,
        blackbox: bool = False,
        internal: bool = False,
    ) -> Answer | None:
        """Post `message`; for a blocking caller, the future its record arrives on.
        Raises what the balancer raises (NoInvokers, QueueError), the activation forgotten."""
        activation_id = message.activation_id
        future = self._tracker.register(
            activation_id, message.user.namespace, blocking, timeout_ms, message, internal=internal
        )
        try:
            invoker = await self._balancer.publish(message, memory, blackbox=blackbox)
        except BaseException:
            self._tracker.forget(activation_id)
            raise
        self._tracker.placed(activation_id, invoker)
        # Called in the activation's log context: the line names it and its transaction.
        log.debug("posted %s to invoker%d", message.action, invoker)
        return future
