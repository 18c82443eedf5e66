"""Container scheduling as pure functions over snapshots (docs/openwhisk-compatibility.md §8.4).

OpenWhisk's classic ContainerPool rules: an idle warm container of the same invoking
namespace + action + revision → a cold container if the pool has memory for it → evict
least-recently-used idle containers and create → otherwise wait in a FIFO buffer. Each
container runs one activation at a time (concurrency limit 1).

These functions know nothing about containers or asyncio, so every rule is unit tested on
plain tuples; `invoker.pool.ContainerPool` owns the mutable state and applies what they decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActionKey:
    """What a warm container can be reused for: OW matches invoking namespace and action."""

    namespace: str  # the invoking user's namespace, not the action's
    action: str  # store doc id `ns[/pkg]/name`
    revision: str


@dataclass(frozen=True, slots=True)
class Slot:
    """One container as the scheduler sees it."""

    id: object
    key: ActionKey
    memory: int  # MB
    idle: bool
    last_used: float
    # What keeping it idle is worth (invoker/idle_times.py); evicted lowest first, the least
    # recently used first among equals. 0 for all: plain LRU.
    keep: float = 0.0


@dataclass(frozen=True, slots=True)
class Warm:
    id: object


@dataclass(frozen=True, slots=True)
class Create:
    evict: tuple[object, ...] = ()


@dataclass(frozen=True, slots=True)
class Wait:
    pass


Decision = Warm | Create | Wait
WAIT = Wait()
CREATE = Create()


def used_memory(slots: Iterable[Slot]) -> int:
    return sum(s.memory for s in slots)


def find_warm(key: ActionKey, slots: Iterable[Slot]) -> object | None:
    """The most recently used idle container for `key`: keeps the others cold enough to expire."""
    best: Slot | None = None
    for s in slots:
        if s.idle and s.key == key and (best is None or s.last_used > best.last_used):
            best = s
    return best.id if best else None


def evictions(memory: int, slots: Iterable[Slot], user_memory: int) -> tuple[object, ...] | None:
    """The idle containers worth least (`Slot.keep`, then least recently used) whose removal
    makes room for `memory` (OW `remove`, which goes by last use only).

    None when even removing every idle container would not be enough.
    """
    slots = tuple(slots)
    missing = used_memory(slots) + memory - user_memory
    if missing <= 0:
        return ()
    chosen: list[object] = []
    for s in sorted((s for s in slots if s.idle), key=lambda s: (s.keep, s.last_used)):
        chosen.append(s.id)
        missing -= s.memory
        if missing <= 0:
            return tuple(chosen)
    return None


def schedule(key: ActionKey, memory: int, slots: Iterable[Slot], user_memory: int) -> Decision:
    slots = tuple(slots)
    warm = find_warm(key, slots)
    if warm is not None:
        return Warm(warm)
    evict = evictions(memory, slots, user_memory)
    if evict is None:
        return WAIT
    return Create(evict) if evict else CREATE


def stale(key: ActionKey, slots: Iterable[Slot]) -> tuple[object, ...]:
    """Idle containers of the same action at another revision: the action was updated, so
    they will never be reused (OW keys warm containers by revision)."""
    return tuple(s.id for s in slots if s.idle and is_stale(key, s.key))


def is_stale(key: ActionKey, other: ActionKey) -> bool:
    """Is `other` the action of `key` at another revision?"""
    return (
        other.revision != key.revision
        and other.action == key.action
        and other.namespace == key.namespace
    )


def pick_stem(kind: str, memory: int, stems: Iterable[tuple[object, str, int]]) -> object | None:
    """A prewarmed container (started, not initialized) of the same kind: a cold start then
    costs only /init (OW takePrewarmContainer). One of the same memory if there is one; else
    the one closest in size, resized in place (a container's memory is a limit the engine
    changes at once: Docker's `update`, the sandbox's cgroup), which is far cheaper than a
    new container (OW only takes prewarms of the same size)."""
    best: tuple[object, int] | None = None
    for stem_id, stem_kind, stem_memory in stems:
        if stem_kind != kind:
            continue
        if stem_memory == memory:
            return stem_id
        gap = abs(stem_memory - memory)
        if best is None or gap < best[1]:
            best = (stem_id, gap)
    return best[0] if best is not None else None
