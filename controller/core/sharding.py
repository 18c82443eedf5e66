"""OpenWhisk's sharding scheme as pure functions (docs/openwhisk-compatibility.md §8.3, OW
`ShardingContainerPoolBalancer`: `generateHash`, `pairwiseCoprimeNumbersUntil`, `schedule`).

An action's home invoker is `hash(namespace, action) % n`; from there the balancer probes
with a step size coprime to n, so every invoker is tried once and different actions walk
different orders. An invoker takes the activation if it is usable (Healthy) and its slots
(MB of its user memory, divided across controllers) can hold the action's memory. When
none can, a random usable invoker is forced to take it (OW: "system is overloaded").
No I/O here: the balancer owns the state and applies these.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil, floor, gcd


class NoInvokers(Exception):
    """No healthy invoker can take the activation (HTTP 503)."""


def java_hash(text: str) -> int:
    """Java's `String.hashCode` (a signed 32-bit int), so homes match OpenWhisk's."""
    data = text.encode("utf-16-be")
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def generate_hash(namespace: str, action: str) -> int:
    """`|ns.hashCode ^ actionFQN.hashCode|` (OW `generateHash`)."""
    return abs(java_hash(namespace) ^ java_hash(action))


def pairwise_coprime_numbers_until(n: int) -> list[int]:
    """Numbers in 1..n coprime to n and to each other (OW `pairwiseCoprimeNumbersUntil`)."""
    found: list[int] = []
    for cur in range(1, n + 1):
        if gcd(cur, n) == 1 and all(gcd(p, cur) == 1 for p in found):
            found.append(cur)
    return found


def probe_order(hash_: int, n: int) -> list[int]:
    """Invoker indexes in the order they are tried: home, home+step, … (each once)."""
    if n <= 0:
        return []
    steps = pairwise_coprime_numbers_until(n)
    step = steps[hash_ % len(steps)]
    home = hash_ % n
    return [(home + i * step) % n for i in range(n)]


MANAGED_FRACTION = 0.9  # OW controller reference.conf `managed-fraction`
BLACKBOX_FRACTION = 0.1  # OW `blackbox-fraction`


def partition(
    n: int, managed_fraction: float = MANAGED_FRACTION, blackbox_fraction: float = BLACKBOX_FRACTION
) -> tuple[range, range]:
    """Invoker ids for managed (code) actions and for blackbox (image) actions: the first
    ⌈n·managed⌉ and the last ⌊n·blackbox⌋, at least one each; they may overlap (OW
    `ShardingContainerPoolBalancerState.updateInvokers`)."""
    if n <= 0:
        return range(0), range(0)
    managed = min(n, max(1, ceil(n * managed_fraction)))
    blackbox = min(n, max(1, floor(n * blackbox_fraction)))
    return range(managed), range(n - blackbox, n)


def shard_memory(user_memory: int, controllers: int, min_memory: int) -> int:
    """An invoker's slots (MB) as seen by one controller: its user memory divided across
    controllers, but never less than the smallest action (OW `invokerShardMemorySize`)."""
    share = user_memory // max(controllers, 1)
    return max(share, min_memory)


@dataclass
class Slots:
    """One invoker's memory slots as seen by this controller (OW `NestedSemaphore`, without
    intra-container concurrency). May go negative after a forced acquire."""

    capacity: int
    free: int

    @classmethod
    def of(cls, capacity: int) -> Slots:
        return cls(capacity, capacity)

    def try_acquire(self, memory: int) -> bool:
        if self.free >= memory:
            self.free -= memory
            return True
        return False

    def force_acquire(self, memory: int) -> None:
        self.free -= memory

    def release(self, memory: int) -> None:
        self.free = min(self.free + memory, self.capacity)

    def resize(self, capacity: int) -> None:
        """A new capacity (the invoker announced another user memory); keeps what is used."""
        self.free += capacity - self.capacity
        self.capacity = capacity


@dataclass(frozen=True, slots=True)
class Candidate:
    """An invoker slot in the balancer's list (index = invoker id)."""

    usable: bool
    slots: Slots


def schedule(
    invokers: Sequence[Candidate | None],
    hash_: int,
    memory: int,
    rng: random.Random | None = None,
) -> tuple[int, bool]:
    """The invoker id that takes an activation of `memory` MB, and whether it was forced.

    `invokers[i]` is invoker i (None: never seen). Acquires the slots it picks.
    Raises NoInvokers when no invoker is usable.
    """
    for index in probe_order(hash_, len(invokers)):
        candidate = invokers[index]
        if candidate is not None and candidate.usable and candidate.slots.try_acquire(memory):
            return index, False
    usable = [i for i, c in enumerate(invokers) if c is not None and c.usable]
    if not usable:
        raise NoInvokers
    chosen = (rng or random).choice(usable)
    slots = invokers[chosen]
    assert slots is not None
    slots.slots.force_acquire(memory)
    return chosen, True
