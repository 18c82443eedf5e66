"""What the factory keeps running ahead (process mode's booted spares) counts against the
pool's memory budget, and is the first thing to go when room is short (invoker/pool.py)."""

from __future__ import annotations

import asyncio

from pywhisk.invoker.pool import ContainerPool
from pywhisk.invoker.pool_policy import FORMER, PoolPolicy
from pywhisk.invoker.scheduling import ActionKey
from tests.support.clocks import TickingClock
from tests.support.pool_entries import Entry

MEASURED = PoolPolicy(budget="measured", evict="histogram", host_reserve=0, sample_interval=0.01)


class Spares:
    """Stands in for a factory's booted spares: `mb` in use until shed, made again by `boot`."""

    def __init__(self, mb: int) -> None:
        self.mb = mb
        self.sheds = 0

    def held(self) -> int:
        return self.mb

    def shed(self) -> None:
        self.sheds += 1
        self.mb = 0


def key(name: str) -> ActionKey:
    return ActionKey("guest", f"guest/{name}", "1")


def pool_of(
    user_memory: int, policy: PoolPolicy, spares: Spares, host: list[int] | None = None
) -> ContainerPool[Entry]:
    free = host if host is not None else [1 << 20]
    return ContainerPool(
        user_memory,
        Entry,
        0.0,
        clock=TickingClock(),
        policy=policy,
        meter=lambda e: 30,
        host_memory=lambda: free[0],
        held=spares.held,
        shed=spares.shed,
    )


async def test_memory_held_ahead_is_counted_by_reservation() -> None:
    """512 MB, booted spares using 100 MB: one 256 MB container fits beside them; for a
    second one the spares go."""
    spares = Spares(100)
    pool = pool_of(512, FORMER, spares)
    first = await pool.acquire(key("a"), 256)
    assert spares.sheds == 0  # 256 + 100 fit in 512
    second = await pool.acquire(key("b"), 256)  # 512 + 100 do not
    assert spares.sheds == 1
    assert not first.evicted and set(pool.entries) == {first, second}


async def test_memory_held_ahead_is_counted_when_measured() -> None:
    """Budgeted by use, 150 MB of 256 held ahead: one container (64 MB until measured) fits
    beside them; for a second one the spares go."""
    spares = Spares(150)
    pool = pool_of(256, MEASURED, spares)
    await pool.acquire(key("a"), 256)
    assert spares.sheds == 0
    await pool.acquire(key("b"), 256)
    assert spares.sheds == 1
    pool.evict_all()


async def test_a_warm_container_is_kept_and_the_spares_go() -> None:
    """A new action that fits only by evicting an idle warm container, or by giving up the
    booted spares: the spares go (they save ~70 ms of a cold start, a warm container all of
    it), and the warm container is still warm."""
    spares = Spares(100)
    pool = pool_of(512, FORMER, spares)
    warm = await pool.acquire(key("a"), 256)
    pool.release(warm)
    other = await pool.acquire(key("b"), 256)
    assert spares.sheds == 1
    assert not warm.evicted
    pool.release(other)
    assert await pool.acquire(key("a"), 256) is warm


async def test_spares_never_keep_a_caller_waiting() -> None:
    """An action as large as the whole budget, booted spares holding some of it: without
    shedding them it would wait for ever, since nothing else will free that memory."""
    spares = Spares(120)
    pool = pool_of(256, FORMER, spares)
    entry = await asyncio.wait_for(pool.acquire(key("big"), 256), 1.0)
    assert spares.sheds == 1 and pool.entries == [entry]


async def test_a_sample_over_budget_sheds_spares_before_evicting_idle_containers() -> None:
    """Three idle containers using 30 MB each in a 200 MB budget; then booted spares come to
    hold 150 MB: the next sample finds the pool over its budget, and the spares go, not the
    warm containers."""
    spares = Spares(0)
    pool = pool_of(200, MEASURED, spares)
    entries = [await pool.acquire(key(f"a{i}"), 128) for i in range(3)]
    for entry in entries:
        pool.release(entry)
    await asyncio.sleep(0.05)  # sampled: 3 × 30 MB
    spares.mb = 150
    await asyncio.sleep(0.05)
    assert spares.sheds == 1
    assert not any(e.evicted for e in entries)
    pool.evict_all()
