"""The container pool: applies the scheduling decisions of `invoker.scheduling` to live
containers (idle/busy bookkeeping, the FIFO run buffer, pausing and idle expiry), under the
memory budget, eviction order and cold-start cap of its `PoolPolicy` (invoker/pool_policy.py)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pywhisk.invoker.idle_times import IdleTimes
from pywhisk.invoker.pool_policy import FORMER, PoolPolicy, host_available_mb
from pywhisk.invoker.scheduling import (
    ActionKey,
    Create,
    Decision,
    Slot,
    Wait,
    Warm,
    is_stale,
    pick_stem,
    schedule,
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
        policy: PoolPolicy = FORMER,
        meter: Callable[[E], int | None] | None = None,
        host_memory: Callable[[], int | None] = host_available_mb,
        held: Callable[[], int] | None = None,
        shed: Callable[[], None] | None = None,
    ) -> None:
        """`meter`: MB an entry's container uses now (None: not known yet), for a
        `measured` policy; `host_memory`: the host's available MB; `held`: MB the factory's
        processes made ahead use now, `shed`: give them up."""
        self.user_memory = user_memory
        self._held_of = held
        self._shed = shed
        self._held: tuple[float, int] = (float("-inf"), 0)  # (when read, MB)
        self.policy = policy
        self._meter = meter
        self._host_memory = host_memory
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
        self.idle_times = IdleTimes()
        # Entries whose first activation (start or adoption, /init, run) is under way.
        self._cold: set[E] = set()
        # Pacing (with a cold-start cap): when each busy entry was handed out, and per action
        # the usual time of a warm activation and of one that starts its container.
        self._began: dict[E, float] = {}
        self._run_time: dict[tuple[str, str], float] = {}
        self._start_time: dict[tuple[str, str], float] = {}
        # Measured budget: each entry's last sampled use, and the most an action's
        # containers were seen to use (a new container's estimate), in MB.
        self._used: dict[E, int] = {}
        self._peak: dict[tuple[str, str], int] = {}
        self._sampler: asyncio.TimerHandle | None = None
        self._host: tuple[float, int | None] = (float("-inf"), None)  # (when read, MB)

    # -- snapshot -------------------------------------------------------------------------------

    def slots(self) -> list[Slot]:
        """Every container with what it counts for against the budget (its memory limit,
        or with a measured budget its last sampled use) and, when idle, its worth."""
        now = self._clock()
        ranks: dict[tuple[str, str], int] = {}
        out: list[Slot] = []
        for e, t in sorted(self._idle.items(), key=lambda item: -item[1]):
            keep = 0.0
            if self.policy.evict == "histogram":
                action = _action(e.key)
                ranks[action] = rank = ranks.get(action, 0) + 1
                keep = self.idle_times.worth(action, now - t, rank)
            out.append(Slot(e, e.key, self._charge(e), True, t, keep))
        out.extend(Slot(e, e.key, self._charge(e), False, 0.0) for e in self._busy)
        return out

    def _charge(self, entry: E) -> int:
        if not self.policy.measured:
            return entry.memory
        used = self._used.get(entry)
        if used is None:
            used = self._estimate(entry.key, entry.memory)
        return min(used, entry.memory)

    def _estimate(self, key: ActionKey, memory: int) -> int:
        """What a new container of `key` will use: the most its action's were seen to."""
        return min(self._peak.get(_action(key), self.policy.first_estimate), memory)

    def capacity(self, charged: int) -> int:
        """MB the pool may plan for, `charged` being what its containers count for now: the
        user memory, and with a measured budget no more than the host has available beyond
        its reserve (read at most every 50 ms: it is read on every cold start)."""
        if not self.policy.measured:
            return self.user_memory
        now = self._clock()
        if now - self._host[0] > 0.05:
            self._host = (now, self._host_memory())
        available = self._host[1]
        if available is None:
            return self.user_memory
        return min(self.user_memory, charged + available - self.policy.host_reserve)

    def room(self, memory: int) -> bool:
        """Does `memory` MB more fit in the budget now, beside the containers and what is
        held ahead? (Asked before something more is made ahead.)"""
        charged = self._charged() + self.held()
        return charged + memory <= self.capacity(charged)

    def _charged(self) -> int:
        """MB the containers count for now (`slots()`' sum, without ranking the idle ones)."""
        return sum(map(self._charge, self._idle)) + sum(map(self._charge, self._busy))

    def held(self) -> int:
        """MB the factory's processes made ahead use (read at most every 50 ms, as the
        host's memory: it is read on every cold start)."""
        if self._held_of is None:
            return 0
        now = self._clock()
        if now - self._held[0] > 0.05:
            self._held = (now, self._held_of())
        return self._held[1]

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
        if self.policy.measured and self._sampler is None and self._meter is not None:
            loop = asyncio.get_running_loop()
            self._sampler = loop.call_later(self.policy.sample_interval, self._sample)
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
        self._learn_times(entry)
        self._finished(entry)
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
        self._finished(entry)
        self._used.pop(entry, None)
        if self._idle.pop(entry, None) is not None:
            self._cancel_timer(entry)
        self._drain()

    def _finished(self, entry: E) -> None:
        if entry in self._busy:
            self._busy.discard(entry)
            self.idle_times.ended(_action(entry.key), self._clock())
        self._cold.discard(entry)
        self._began.pop(entry, None)

    def _learn_times(self, entry: E) -> None:
        began = self._began.get(entry)
        if began is None:
            return
        took = self._clock() - began
        times = self._start_time if entry in self._cold else self._run_time
        action = _action(entry.key)
        before = times.get(action)
        times[action] = took if before is None else 0.8 * before + 0.2 * took

    def _worth_waiting(self, key: ActionKey) -> bool:
        """Would the callers of `key` waiting now be served sooner by the containers of it
        already running than by starting one more? The Q of them queue behind B running
        activations of the usual time r: the last is served after Q × r / B, against c for a
        start. Counted are running activations not past twice the usual time (one stuck in
        a long run frees nothing soon). No history: start one, as OpenWhisk does."""
        action = _action(key)
        run, start = self._run_time.get(action), self._start_time.get(action)
        if run is None or start is None:
            return False
        now = self._clock()
        running = sum(
            1
            for e in self._busy
            if e.key == key
            and now - self._began.get(e, now) <= 2 * (start if e in self._cold else run)
        )
        if running == 0:
            return False
        queued = max(1, sum(1 for w in self._buffer if w.key == key and not w.future.done()))
        return queued * run / running <= start

    def evict_all(self) -> list[E]:
        """Forget and evict every idle entry and fail the waiting jobs with PoolClosed; busy
        entries are returned for the caller to deal with. The pool takes no new jobs after."""
        self._closed = True
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None
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
        # A warm container first (the most recently used: keeps the others cold enough to
        # expire), before anything is measured or ranked.
        warm: E | None = None
        for entry, last_used in self._idle.items():
            if entry.key == key and (warm is None or last_used > self._idle[warm]):
                warm = entry
        if warm is not None:
            return self._take_warm(warm)
        cap = self.policy.cold_starts
        if cap > 0 and (len(self._cold) >= cap or self._worth_waiting(key)):
            return None  # as many starting as make sense: wait for one of them, or a release
        held = self.held()
        need = self._estimate(key, memory) if self.policy.measured else memory
        charged = self._charged()
        room = self.capacity(charged + held) if self.policy.measured else self.user_memory
        if charged + need <= room - held:
            # It fits as things are: what `schedule` would decide (no warm one for `key` was
            # found above, nothing to evict), without ranking every idle container first.
            return self._create(key, memory, kind, ())
        slots = self.slots()
        decision = schedule(key, need, slots, room - held)
        if held and self._shed is not None and _costly(decision):
            without = schedule(key, need, slots, room)
            if isinstance(without, Create) and (
                isinstance(decision, Wait)
                or (isinstance(decision, Create) and len(without.evict) < len(decision.evict))
            ):  # what is held ahead is in the way: it goes, not the warm containers
                self._shed()
                self._held = (self._clock(), 0)
                decision = without
        if isinstance(decision, Warm):
            return self._take_warm(decision.id)  # type: ignore[arg-type]
        if isinstance(decision, Create):
            return self._create(key, memory, kind, decision.evict)
        return None

    def _create(
        self, key: ActionKey, memory: int, kind: str | None, evict: tuple[object, ...]
    ) -> E:
        for victim in evict:
            self._remove_idle(victim)  # type: ignore[arg-type]
        entry = self._take_stem(key, memory, kind) or self._make(key, memory)
        self._busy.add(entry)
        self._cold.add(entry)
        self._began[entry] = self._clock()
        self.idle_times.started(_action(key), self._clock())
        return entry

    def _take_warm(self, entry: E) -> E:
        del self._idle[entry]
        self._cancel_timer(entry)
        self._busy.add(entry)
        self._began[entry] = now = self._clock()
        self.idle_times.started(_action(entry.key), now)
        return entry

    def _sample(self) -> None:
        """Measure every container; if they no longer fit the budget (one grew, the host has
        less free), evict idle ones, least worth first, until they do; let waiters in."""
        self._sampler = None
        if self._closed or self._meter is None:
            return
        for entry in [*self._idle, *self._busy]:
            used = self._meter(entry)
            if used is None:
                continue
            self._used[entry] = used
            action = _action(entry.key)
            if used > self._peak.get(action, 0):
                self._peak[action] = used
        self._host = (float("-inf"), None)  # read afresh
        self._held = (float("-inf"), 0)
        slots = self.slots()
        held = self.held()
        charged = sum(s.memory for s in slots) + held
        over = charged - self.capacity(charged)
        if over > 0 and held and self._shed is not None:
            self._shed()  # the least worth keeping: gone before any warm container
            self._held = (self._clock(), 0)
            over -= held
        if over > 0:
            for slot in sorted((s for s in slots if s.idle), key=lambda s: (s.keep, s.last_used)):
                self._remove_idle(slot.id)  # type: ignore[arg-type]
                over -= slot.memory
                if over <= 0:
                    break
        self._drain()
        loop = asyncio.get_running_loop()
        self._sampler = loop.call_later(self.policy.sample_interval, self._sample)

    def _sweep(self, key: ActionKey) -> None:
        """Drop idle entries that died, and stale revisions of the action being scheduled."""
        # Runs on every acquire, warm ones included: one pass, no Slot built per container.
        gone = [e for e in self._idle if not e.usable or is_stale(key, e.key)]
        for entry in gone:
            self._remove_idle(entry)

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
            self._used.pop(entry, None)
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


def _costly(decision: Decision) -> bool:
    """Does the decision make a caller wait, or evict warm containers?"""
    return isinstance(decision, Wait) or (isinstance(decision, Create) and bool(decision.evict))


def _action(key: ActionKey) -> tuple[str, str]:
    """Whose idle times and memory use are learned: OW's warm match less the revision."""
    return (key.namespace, key.action)
