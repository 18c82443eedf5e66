"""The container pool: applies the scheduling decisions of `invoker.scheduling` to live
containers (idle/busy bookkeeping, the FIFO run buffer, pausing and idle expiry)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pywhisk.invoker.scheduling import (
    ActionKey,
    Create,
    Slot,
    Warm,
    pick_stem,
    schedule,
    stale,
)


class PoolEntry(Protocol):
    """What the pool needs of a container proxy."""

    key: ActionKey
    memory: int

    @property
    def usable(self) -> bool:
        """False once the container died or is being removed: never hand it out again."""

    def evict(self) -> None:
        """Start removing the container in the background; the pool has forgotten it."""

    def adopt(self, key: ActionKey, memory: int) -> None:
        """A stem cell is taken for `key`: from now on it is that action's container, of
        `memory` MB (resized before its /init when the stem cell was of another size)."""

    def pause(self) -> None:
        """Idle past the pause grace: freeze the container (in background); the entry stays
        idle and is resumed by whoever runs on it next."""


E = TypeVar("E", bound=PoolEntry)


class NoCapacity(Exception):
    """The action needs more memory than this invoker has in total: it would wait forever."""


class PoolClosed(Exception):
    """The pool was shut down while the job waited in the buffer."""


@dataclass(slots=True)
class _Waiter(Generic[E]):
    key: ActionKey
    memory: int
    kind: str | None
    future: asyncio.Future[E]


class ContainerPool(Generic[E]):
    """Idle/busy bookkeeping, the FIFO run buffer, pausing and idle expiry, on one event loop.

    Decisions are applied synchronously (no await between snapshot and update), so no lock is
    needed. `make` builds a new, not yet started entry; the caller starts it. An idle entry
    is paused after `pause_grace` seconds (0: never) and removed after `idle_timeout` (0:
    never), both counted from its release (OW pause-grace, idle-container).
    """

    def __init__(
        self,
        user_memory: int,
        make: Callable[[ActionKey, int], E],
        idle_timeout: float,
        clock: Callable[[], float] = time.monotonic,
        on_stem_gone: Callable[[str, int], None] | None = None,
        pause_grace: float = 0.0,
    ) -> None:
        self.user_memory = user_memory
        self.idle_timeout = idle_timeout
        self.pause_grace = pause_grace
        self._make = make
        self._clock = clock
        self._idle: dict[E, float] = {}  # entry -> last used
        self._busy: set[E] = set()
        self._timers: dict[E, asyncio.TimerHandle] = {}
        self._buffer: deque[_Waiter[E]] = deque()
        self._closed = False
        # (action, revision) pairs updated or deleted since: never kept warm again.
        self._retired: set[tuple[str, str]] = set()
        # Stem cells: (entry, kind, memory). Not counted against user_memory until taken
        # (OW: prewarms don't count against taking a job); `on_stem_gone` replenishes
        # when one is taken or found dead.
        self._stems: list[tuple[E, str, int]] = []
        self._on_stem_gone = on_stem_gone

    # -- snapshot -------------------------------------------------------------------------------

    def slots(self) -> list[Slot]:
        out = [Slot(e, e.key, e.memory, True, t) for e, t in self._idle.items()]
        out.extend(Slot(e, e.key, e.memory, False, 0.0) for e in self._busy)
        return out

    @property
    def entries(self) -> list[E]:
        return [*self._idle, *self._busy]

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def stems(self) -> list[E]:
        return [entry for entry, _, _ in self._stems]

    def add_stem(self, entry: E, kind: str, memory: int) -> None:
        if self._closed:
            entry.evict()
            return
        self._stems.append((entry, kind, memory))
        self._drain()

    # -- operations ------------------------------------------------------------------------------

    async def acquire(self, key: ActionKey, memory: int, kind: str | None = None) -> E:
        """A busy entry for `key`: warm, a stem cell of `kind` (adopted), or new (the caller
        starts it), possibly after waiting in the FIFO buffer."""
        if self._closed:
            raise PoolClosed()
        if memory > self.user_memory:
            raise NoCapacity(f"{memory} MB > {self.user_memory} MB of container memory")
        if not self._buffer:
            entry = self._try(key, memory, kind)
            if entry is not None:
                return entry
        future: asyncio.Future[E] = asyncio.get_running_loop().create_future()
        self._buffer.append(_Waiter(key, memory, kind, future))
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(future.result())  # handed over just as we were cancelled
            raise

    def release(self, entry: E) -> None:
        """The activation is over and the container stays warm."""
        self._busy.discard(entry)
        if self._closed or self._is_retired(entry):
            entry.evict()
            self._drain()
            return
        if not entry.usable:
            self._drain()
            return
        self._idle[entry] = self._clock()
        loop = asyncio.get_running_loop()
        if self.pause_grace > 0 and not 0 < self.idle_timeout <= self.pause_grace:
            self._timers[entry] = loop.call_later(self.pause_grace, self._pause, entry)
        elif self.idle_timeout > 0:
            self._timers[entry] = loop.call_later(self.idle_timeout, self._expire, entry)
        self._drain()

    def retire(self, action: str, revision: str) -> None:
        """That revision of the action was updated or deleted: remove its idle containers
        now and its busy ones when they are released."""
        self._retired.add((action, revision))
        for entry in [e for e in self._idle if self._is_retired(e)]:
            self._remove_idle(entry)
        self._drain()

    def _is_retired(self, entry: E) -> bool:
        return (entry.key.action, entry.key.revision) in self._retired

    def discard(self, entry: E) -> None:
        """The container is gone (error, death, shutdown): free its memory."""
        self._busy.discard(entry)
        if self._idle.pop(entry, None) is not None:
            self._cancel_timer(entry)
        self._drain()

    def evict_all(self) -> list[E]:
        """Forget and evict every idle entry and fail the waiting jobs with PoolClosed; busy
        entries are returned for the caller to deal with. The pool takes no new jobs after."""
        self._closed = True
        for entry in list(self._idle):
            self._remove_idle(entry)
        for stem, _, _ in self._stems:
            stem.evict()
        self._stems.clear()
        for waiter in self._buffer:
            if not waiter.future.done():
                waiter.future.set_exception(PoolClosed())
        self._buffer.clear()
        return list(self._busy)

    # -- internals -------------------------------------------------------------------------------

    def _try(self, key: ActionKey, memory: int, kind: str | None) -> E | None:
        self._sweep(key)
        decision = schedule(key, memory, self.slots(), self.user_memory)
        if isinstance(decision, Warm):
            entry: E = decision.id  # type: ignore[assignment]
            del self._idle[entry]
            self._cancel_timer(entry)
            self._busy.add(entry)
            return entry
        if isinstance(decision, Create):
            for victim in decision.evict:
                self._remove_idle(victim)  # type: ignore[arg-type]
            entry = self._take_stem(key, memory, kind) or self._make(key, memory)
            self._busy.add(entry)
            return entry
        return None

    def _sweep(self, key: ActionKey) -> None:
        """Drop idle entries that died, and stale revisions of the action being scheduled."""
        for entry in [e for e in self._idle if not e.usable]:
            self._remove_idle(entry)
        for victim in stale(key, self.slots()):
            self._remove_idle(victim)  # type: ignore[arg-type]

    def _drain(self) -> None:
        while self._buffer:
            head = self._buffer[0]
            if head.future.done():  # cancelled while waiting
                self._buffer.popleft()
                continue
            entry = self._try(head.key, head.memory, head.kind)
            if entry is None:
                return
            self._buffer.popleft()
            head.future.set_result(entry)

    def _take_stem(self, key: ActionKey, memory: int, kind: str | None) -> E | None:
        if kind is None:
            return None
        dead = [s for s in self._stems if not s[0].usable]
        for stem in dead:
            self._stems.remove(stem)
            stem[0].evict()
            if self._on_stem_gone is not None:
                self._on_stem_gone(stem[1], stem[2])
        chosen = pick_stem(kind, memory, self._stems)
        if chosen is None:
            return None
        index = next(i for i, s in enumerate(self._stems) if s[0] is chosen)
        entry, _, stem_memory = self._stems.pop(index)
        entry.adopt(key, memory)
        if self._on_stem_gone is not None:
            self._on_stem_gone(kind, stem_memory)  # the runtime's configured stem cell again
        return entry

    def _remove_idle(self, entry: E) -> None:
        if self._idle.pop(entry, None) is not None:
            self._cancel_timer(entry)
            entry.evict()

    def _pause(self, entry: E) -> None:
        self._timers.pop(entry, None)
        if entry not in self._idle:
            return
        entry.pause()
        if self.idle_timeout > 0:
            loop = asyncio.get_running_loop()
            rest = self.idle_timeout - self.pause_grace
            self._timers[entry] = loop.call_later(rest, self._expire, entry)

    def _expire(self, entry: E) -> None:
        self._timers.pop(entry, None)
        if entry in self._idle:
            self._remove_idle(entry)
            self._drain()

    def _cancel_timer(self, entry: E) -> None:
        timer = self._timers.pop(entry, None)
        if timer is not None:
            timer.cancel()
