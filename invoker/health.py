"""The invoker's heartbeat: a PingMessage on `health` every second (OW InvokerReactive's
ping), so every controller knows it is alive and how much memory it offers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from pywhisk.common.messages import HEALTH_TOPIC, PingMessage
from pywhisk.common.queue.base import Queue

log = logging.getLogger("pywhisk.invoker")

PING_INTERVAL = 1.0


class Pinger:
    def __init__(
        self,
        queue: Queue,
        invoker_id: int,
        user_memory: int,
        interval: float = PING_INTERVAL,
        stored_until: Callable[[], int] | None = None,
    ) -> None:
        self.queue = queue
        self.stored_until = stored_until
        self.invoker_id = invoker_id
        self.user_memory = user_memory
        self.interval = interval
        self.enabled = True
        self._task: asyncio.Task[None] | None = None

    def message(self) -> PingMessage:
        return PingMessage(
            invoker=self.invoker_id,
            user_memory=self.user_memory,
            enabled=self.enabled,
            sent=int(time.time() * 1000),
            stored_until=self.stored_until() if self.stored_until is not None else 0,
        )

    async def ping(self) -> None:
        await self.queue.send(HEALTH_TOPIC, self.message().to_bytes())

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Say once more that this invoker takes no work, then stop pinging."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.enabled = False
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ping(), self.interval)

    async def _run(self) -> None:
        while True:
            try:
                await self.ping()
            except Exception:  # the broker may be away for a while: keep trying
                log.warning("invoker%d: sending its health ping failed", self.invoker_id)
            await asyncio.sleep(self.interval)
