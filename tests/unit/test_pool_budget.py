"""The pool's measured memory budget, its eviction order by idle-time histograms and its cap
on cold starts, against the reservation policy of before (invoker/pool_policy.py)."""

from __future__ import annotations

import asyncio

from pywhisk.invoker.idle_times import IdleTimes
from pywhisk.invoker.pool import ContainerPool
from pywhisk.invoker.pool_policy import FORMER, PoolPolicy
from pywhisk.invoker.scheduling import ActionKey
from tests.support.clocks import ManualClock, TickingClock
from tests.support.pool_entries import Entry

MEASURED = PoolPolicy(budget="measured", evict="histogram", host_reserve=0, sample_interval=0.01)
HOST_PLENTY = 1 << 20  # MB


def key(name: str) -> ActionKey:
    return ActionKey("guest", f"guest/{name}", "1")


def pool_of(
    user_memory: int,
    policy: PoolPolicy,
    use: dict[Entry, int] | None = None,
    host: list[int] | None = None,
    clock: object = None,
    default_use: int = 30,
) -> ContainerPool[Entry]:
    """A pool whose entries use `use[entry]` MB (`default_use` when not set) on a host with
    `host[0]` MB available."""
    used = use if use is not None else {}
    free = host if host is not None else [HOST_PLENTY]
    return ContainerPool(
        user_memory,
        Entry,
        0.0,
        clock=clock or TickingClock(),  # type: ignore[arg-type]
        policy=policy,
        meter=lambda e: used.get(e, default_use),
        host_memory=lambda: free[0],
    )


async def sampled() -> None:
    await asyncio.sleep(0.05)  # a few of the pool's samples


async def test_small_actions_stay_warm_where_reservations_evicted_them() -> None:
    """Ten 256 MB actions each using 30 MB: a 512 MB budget keeps them all warm when
    budgeted by use, and a second round of calls finds every one warm; by reservation it
    holds two, and in a round over all ten each call evicts the one the next call needs."""
    for policy, kept, warm_again in ((MEASURED, 10, 10), (FORMER, 2, 0)):
        pool = pool_of(512, policy)
        entries = []
        for i in range(10):
            entry = await pool.acquire(key(f"a{i}"), 256)
            pool.release(entry)
            entries.append(entry)
            await sampled()
        assert sum(not e.evicted for e in entries) == kept, policy
        warm = 0
        for i, entry in enumerate(entries):
            again = await pool.acquire(key(f"a{i}"), 256)
            warm += again is entry
            pool.release(again)
        assert warm == warm_again, policy
        pool.evict_all()


async def test_a_container_growing_past_the_budget_makes_room_by_eviction() -> None:
    use: dict[Entry, int] = {}
    pool = pool_of(300, MEASURED, use)
    busy = await pool.acquire(key("busy"), 256)
    idle = []
    for name in ("x", "y", "z"):
        entry = await pool.acquire(key(name), 256)
        pool.release(entry)
        idle.append(entry)
    await sampled()
    assert not any(e.evicted for e in idle)  # 4 × 30 MB
    use[busy] = 260  # the running action grows: 260 + 3 × 30 > 300
    await sampled()
    assert [e.evicted for e in idle] == [True, True, False]  # least worth first, until it fits
    assert not busy.evicted  # a running activation is never the one to go
    pool.evict_all()


async def test_the_hosts_available_memory_bounds_the_pool() -> None:
    host = [HOST_PLENTY]
    pool = pool_of(100_000, MEASURED, host=host)
    first = await pool.acquire(key("a"), 256)
    await sampled()
    host[0] = 20  # less than a container of `a` was seen to use (30 MB)
    await sampled()
    waiting = asyncio.ensure_future(pool.acquire(key("a"), 256))
    await sampled()
    assert not waiting.done()  # no second container while the host has no room for it
    host[0] = 1000
    await sampled()
    second = await waiting
    assert second is not first
    pool.evict_all()


async def test_callers_queued_behind_a_full_pool_are_served_in_arrival_order() -> None:
    use: dict[Entry, int] = {}
    pool = pool_of(256, MEASURED, use)
    one = await pool.acquire(key("a"), 256)
    use[one] = 100
    await sampled()  # a's containers use 100 MB: two fit in 256, not three
    two = await pool.acquire(key("a"), 256)
    use[two] = 100
    order: list[int] = []

    async def caller(n: int) -> None:
        entry = await pool.acquire(key("a"), 256)
        order.append(n)
        await asyncio.sleep(0.01 * (n % 3))  # runs of different lengths
        pool.release(entry)

    callers = []
    for n in range(12):
        callers.append(asyncio.ensure_future(caller(n)))
        await asyncio.sleep(0)  # arrival order is call order
    await sampled()
    assert order == [] and pool.buffered == 12
    pool.release(one)
    pool.release(two)
    await asyncio.gather(*callers)
    assert order == list(range(12))
    assert len(pool.entries) == 2  # served by the two the budget holds
    pool.evict_all()


async def test_cold_starts_beyond_the_cap_wait_in_order() -> None:
    policy = PoolPolicy(budget="measured", evict="histogram", cold_starts=2, host_reserve=0)
    pool = pool_of(100_000, policy)
    first = [await pool.acquire(key("a"), 256) for _ in range(2)]
    later = [asyncio.ensure_future(pool.acquire(key("a"), 256)) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(f.done() for f in later)  # two starting already: the rest wait
    pool.release(first[0])  # a start is over: its container serves the next caller
    assert await later[0] is first[0]
    await asyncio.sleep(0)
    assert later[1].done() and later[1].result() not in first  # a start's place is free
    assert not later[2].done()
    pool.release(first[1])
    assert await later[2] is first[1]
    pool.evict_all()


async def test_histogram_keeps_the_regularly_called_action_over_the_more_recent_one() -> None:
    """`tick` is called every 30 s; `once` was called once, more recently. LRU would evict
    `tick` (idle 25 s against 6 s); its histogram says it is due within seconds."""
    clock = ManualClock()
    pool = pool_of(256, MEASURED, clock=clock, default_use=100)
    for _ in range(6):
        entry = await pool.acquire(key("tick"), 256)
        clock.now += 0.1
        pool.release(entry)
        clock.now += 30
    tick = entry
    clock.now -= 11  # tick idle 19 s
    once = await pool.acquire(key("once"), 256)
    clock.now += 0.1
    pool.release(once)
    clock.now += 6  # once idle 6 s, tick 25 s
    await sampled()
    newcomer = await pool.acquire(key("new"), 256)  # room for two of 100 MB: one must go
    assert once.evicted and not tick.evicted and newcomer.usable
    pool.evict_all()


def test_idle_times_rank_by_each_actions_history() -> None:
    times = IdleTimes(horizon=10)
    a, b = ("guest", "guest/a"), ("guest", "guest/b")
    now = 0.0
    for _ in range(20):  # a: every 60 s
        times.started(a, now)
        times.ended(a, now + 0.1)
        now += 60
    for _ in range(20):  # b: every 2 s
        times.started(b, now)
        times.ended(b, now + 0.1)
        now += 2
    # 55 s idle: a's next call is due, b's is long overdue.
    assert times.worth(a, 55) > 0.5 > times.worth(b, 55)
    # A new action falls back to recency; a second idle container is worth less.
    c = ("guest", "guest/c")
    assert times.worth(c, 1) > times.worth(c, 100)
    assert times.worth(b, 1, rank=2) < times.worth(b, 1)


async def test_a_start_is_made_only_when_it_serves_the_queue_sooner() -> None:
    """A 50 ms action whose containers take 200 ms to start: one caller behind a running
    activation waits for it (50 ms) rather than start a container (200 ms); ten callers
    behind it (500 ms for the last) get a new container."""
    clock = ManualClock()
    policy = PoolPolicy(budget="measured", evict="histogram", cold_starts=4, host_reserve=0)
    pool = pool_of(100_000, policy, clock=clock)
    first = await pool.acquire(key("a"), 256)  # starts its container
    clock.now += 0.2
    pool.release(first)
    running = await pool.acquire(key("a"), 256)
    assert running is first
    clock.now += 0.05
    pool.release(running)  # usual times learned: a run 50 ms, a start 200 ms
    running = await pool.acquire(key("a"), 256)
    one = asyncio.ensure_future(pool.acquire(key("a"), 256))
    await asyncio.sleep(0)
    assert not one.done()  # waits for the running one
    more = [asyncio.ensure_future(pool.acquire(key("a"), 256)) for _ in range(9)]
    await asyncio.sleep(0)  # all ten queued
    pool.release(running)
    assert await one is running  # the head takes the container freed
    await asyncio.sleep(0)
    started = [f for f in more if f.done()]
    assert started and all(f.result() is not running for f in started)  # 9 × 50 ms > 200 ms
    pool.evict_all()
