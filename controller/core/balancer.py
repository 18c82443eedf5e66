"""Where an activation goes (docs/openwhisk-compatibility.md §8.3).

`StaticBalancer` is OW's LeanBalancer: standalone's one in-process invoker, no health and no
slots (nothing to choose between, and a broken only invoker is better reported by its
activations than hidden behind 503s). `ShardingBalancer` is OW's
ShardingContainerPoolBalancer for the cluster: it hears every invoker's pings on `health`,
judges each with the health FSM, intersects with discovery, and places each activation
with the sharding scheme, holding the action's memory in that invoker's slots until the
tracker releases it (completion, or forced-ack timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from pywhisk.common.discovery.base import Discovery
from pywhisk.common.messages import HEALTH_TOPIC, ActivationMessage, PingMessage, invoker_topic
from pywhisk.common.queue.base import Consumer, Queue
from pywhisk.controller.core.health import HEALTHY_TIMEOUT, InvokerHealth, Result, Status
from pywhisk.controller.core.sharding import (
    Candidate,
    NoInvokers,
    Slots,
    generate_hash,
    partition,
    schedule,
    shard_memory,
)

__all__ = ["Balancer", "NoInvokers", "ShardingBalancer", "StaticBalancer"]

log = logging.getLogger("pywhisk.balancer")

TICK = 1.0  # s between health clock ticks
DISCOVERY_REFRESH = 2.0  # s between reads of the discovery backend


class InvokerWatcher(Protocol):
    """Told what the balancer hears of invokers (the activation tracker)."""

    def invoker_stored(self, invoker: int, until: int) -> None: ...

    def invoker_gone(self, invoker: int) -> None: ...


class Balancer(Protocol):
    async def start(self) -> None: ...

    def watch(self, watcher: InvokerWatcher) -> None:
        """Report invokers' stored records and silences to `watcher`."""
        ...

    async def stop(self) -> None: ...

    async def publish(
        self, message: ActivationMessage, memory: int = 256, blackbox: bool = False
    ) -> int:
        """Send the activation to an invoker (its id); NoInvokers when none can take it."""
        ...

    def release(self, activation_id: str, result: Result | None) -> None: ...

    def move(self, message: ActivationMessage) -> int:
        """Place an activation sent to an invoker now gone on another one, as `publish`
        would (the caller sends it); NoInvokers when none can take it."""
        ...

    def invoker_health(self) -> list[tuple[int, Status]]:
        """Each known invoker's status, by id (empty: no supervision, OW LeanBalancer)."""
        ...


class StaticBalancer:
    def __init__(self, queue: Queue, invoker_ids: tuple[int, ...] = (0,)) -> None:
        if not invoker_ids:
            raise ValueError("at least one invoker id is needed")
        self.queue = queue
        self.invoker_ids = invoker_ids

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def watch(self, watcher: InvokerWatcher) -> None:
        return None  # nothing supervised: the invokers live and die with this process

    def choose(self, message: ActivationMessage) -> int:
        # One invoker in standalone; several static ones spread by action for warm reuse.
        return self.invoker_ids[hash(message.action) % len(self.invoker_ids)]

    async def publish(
        self, message: ActivationMessage, memory: int = 256, blackbox: bool = False
    ) -> int:
        invoker = self.choose(message)
        await self.queue.publish(invoker_topic(invoker), message)
        return invoker

    def release(self, activation_id: str, result: Result | None) -> None:
        return None

    def move(self, message: ActivationMessage) -> int:
        raise NoInvokers()  # the invokers live and die with this process: none to move to

    def invoker_health(self) -> list[tuple[int, Status]]:
        return []


@dataclass(frozen=True, slots=True)
class InvokerState:
    """One invoker as this controller sees it (for logs, tests and an admin view)."""

    id: int
    status: Status
    usable: bool
    user_memory: int
    free: int  # MB of this controller's share not held by activations in flight


class ShardingBalancer:
    def __init__(
        self,
        queue: Queue,
        controller_id: int,
        *,
        controllers: int = 1,
        min_memory: int = 128,
        discovery: Discovery | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.queue = queue
        self.controller_id = controller_id
        self.controllers = controllers
        self.min_memory = min_memory
        self.discovery = discovery
        self.clock = clock
        self.rng = rng or random.Random()
        self.health: dict[int, InvokerHealth] = {}
        self.slots: dict[int, Slots] = {}
        self.discovered: Mapping[int, int | None] | None = None
        # activation id -> (invoker, MB, blackbox)
        self._placed: dict[str, tuple[int, int, bool]] = {}
        self._watcher: InvokerWatcher | None = None
        self._silent: set[int] = set()  # invokers already reported gone
        self._consumer: Consumer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        # Not prompt: a ping a second against a 10 s window.
        self._consumer = await self.queue.consumer(
            HEALTH_TOPIC, f"health-controller{self.controller_id}", prompt=False
        )
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._consume(self._consumer)),
            loop.create_task(self._tick()),
        ]
        if self.discovery is not None:
            await self.discovery.open()
            with contextlib.suppress(Exception):  # the watcher retries and says why
                self.discovered = await self.discovery.healthy()
            self._tasks.append(loop.create_task(self._watch_discovery(self.discovery)))

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.close()
            self._consumer = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.discovery is not None:
            await self.discovery.close()

    def watch(self, watcher: InvokerWatcher) -> None:
        self._watcher = watcher

    # -- what the controller hears ---------------------------------------------------------

    def on_ping(self, ping: PingMessage) -> None:
        if ping.sent and time.time() * 1000 - ping.sent > HEALTHY_TIMEOUT * 1000:
            return  # replayed from before this controller started: says nothing of now
        health = self.health.setdefault(ping.invoker, InvokerHealth(since=self.clock()))
        before = health.status
        health.ping(self.clock(), ping.user_memory, ping.enabled)
        capacity = shard_memory(ping.user_memory, self.controllers, self.min_memory)
        slots = self.slots.get(ping.invoker)
        if slots is None:
            self.slots[ping.invoker] = Slots.of(capacity)
        elif slots.capacity != capacity:
            slots.resize(capacity)
        if health.status is not before:
            log.info("invoker%d is %s", ping.invoker, health.status.value)
        self._silent.discard(ping.invoker)
        if self._watcher is not None and ping.stored_until:
            self._watcher.invoker_stored(ping.invoker, ping.stored_until)

    def tick(self) -> None:
        now = self.clock()
        for invoker, health in self.health.items():
            before = health.status
            health.tick(now)
            if health.status is not before:
                log.warning("invoker%d is %s", invoker, health.status.value)
            silent = (
                health.last_ping is not None and now - health.last_ping > health.healthy_timeout
            )
            if silent and invoker not in self._silent:
                # Checked apart from the status: a draining invoker is Offline already
                # but still finishing its work; only its silence means it is gone.
                self._silent.add(invoker)
                if self._watcher is not None:
                    self._watcher.invoker_gone(invoker)

    def usable(self, invoker: int) -> bool:
        health = self.health.get(invoker)
        if health is None or not health.usable:
            return False
        return self.discovered is None or invoker in self.discovered

    def invoker_health(self) -> list[tuple[int, Status]]:
        return [
            (i, h.status if self.usable(i) or not h.usable else Status.OFFLINE)
            for i, h in sorted(self.health.items())
        ]

    def states(self) -> list[InvokerState]:
        return [
            InvokerState(
                i,
                h.status,
                self.usable(i),
                h.user_memory,
                self.slots[i].free if i in self.slots else 0,
            )
            for i, h in sorted(self.health.items())
        ]

    # -- placing and releasing -------------------------------------------------------------

    def choose(
        self, message: ActivationMessage, memory: int, blackbox: bool = False
    ) -> tuple[int, bool]:
        """Pick an invoker and hold `memory` MB of its slots (raises NoInvokers). Blackbox
        (image) actions go to the last invokers only, code actions to the first ones."""
        self.tick()  # an invoker silent for 10 s is Offline now, not at the next tick
        managed, blackboxes = partition(max(self.slots, default=-1) + 1)
        ids = blackboxes if blackbox else managed
        candidates = [
            Candidate(self.usable(i), self.slots[i]) if i in self.slots else None for i in ids
        ]
        hash_ = generate_hash(message.user.namespace, message.action)
        index, forced = schedule(candidates, hash_, memory, self.rng)
        invoker = ids[index]
        if forced:
            log.warning("system is overloaded. Chose invoker%d by random assignment.", invoker)
        return invoker, forced

    async def publish(
        self, message: ActivationMessage, memory: int = 256, blackbox: bool = False
    ) -> int:
        invoker, _forced = self.choose(message, memory, blackbox)
        self._placed[message.activation_id] = (invoker, memory, blackbox)
        try:
            await self.queue.publish(invoker_topic(invoker), message)
        except BaseException:
            self.release(message.activation_id, None)
            raise
        return invoker

    def release(self, activation_id: str, result: Result | None) -> None:
        """The tracker's hook: the activation ended (`result`), or was never sent (None)."""
        placed = self._placed.pop(activation_id, None)
        if placed is None:
            return
        invoker, memory, _blackbox = placed
        self.slots[invoker].release(memory)
        health = self.health.get(invoker)
        if result is not None and health is not None:
            before = health.status
            health.result(result, self.clock())
            if health.status is not before:
                log.warning("invoker%d is %s", invoker, health.status.value)

    def move(self, message: ActivationMessage) -> int:
        placed = self._placed.get(message.activation_id)
        if placed is None:
            raise NoInvokers()  # ended meanwhile, or never placed by this controller
        gone, memory, blackbox = placed
        invoker, _forced = self.choose(message, memory, blackbox)
        self._placed[message.activation_id] = (invoker, memory, blackbox)
        self.slots[gone].release(memory)
        return invoker

    # -- background ------------------------------------------------------------------------

    async def _consume(self, consumer: Consumer) -> None:
        seen = 0
        async for payload in consumer:
            try:
                self.on_ping(PingMessage.from_bytes(payload))
            except ValueError:
                log.warning("dropping a malformed health ping")
            seen += 1
            if seen % 50 == 0:  # bounds what a restart replays (old pings are skipped anyway)
                with contextlib.suppress(Exception):
                    await consumer.commit()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.tick()

    async def _watch_discovery(self, discovery: Discovery) -> None:
        while True:
            try:
                self.discovered = await discovery.healthy()
            except Exception as exc:  # keep the last known set while discovery is away
                log.warning("reading invoker discovery failed: %s", exc)
            await asyncio.sleep(DISCOVERY_REFRESH)
