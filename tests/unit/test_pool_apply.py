"""ContainerPool applying the decisions: busy/idle moves, FIFO buffer, eviction, idle expiry."""

from __future__ import annotations

import asyncio

import pytest

from pywhisk.invoker.pool import ContainerPool, NoCapacity
from pywhisk.invoker.scheduling import ActionKey
from tests.support.clocks import TickingClock
from tests.support.pool_entries import Entry

A = ActionKey("guest", "guest/a", "1")
A2 = ActionKey("guest", "guest/a", "2")
B = ActionKey("guest", "guest/b", "1")


def make_pool(user_memory: int = 512, idle_timeout: float = 0.0) -> ContainerPool[Entry]:
    return ContainerPool(user_memory, Entry, idle_timeout, clock=TickingClock())


async def test_cold_then_warm() -> None:
    pool = make_pool()
    first = await pool.acquire(A, 256)
    pool.release(first)
    again = await pool.acquire(A, 256)
    assert again is first
    assert pool.entries == [first]


async def test_concurrent_activations_get_their_own_containers() -> None:
    pool = make_pool()
    one = await pool.acquire(A, 256)
    two = await pool.acquire(A, 256)
    assert one is not two


async def test_full_pool_buffers_fifo_until_release() -> None:
    pool = make_pool(512)
    one = await pool.acquire(A, 256)
    two = await pool.acquire(A, 256)
    third = asyncio.ensure_future(pool.acquire(A, 256))
    fourth = asyncio.ensure_future(pool.acquire(A, 256))
    await asyncio.sleep(0)
    assert not third.done() and pool.buffered == 2
    pool.release(two)
    assert await third is two
    assert not fourth.done()
    pool.release(one)
    assert await fourth is one


async def test_buffered_job_evicts_an_idle_container_of_another_action() -> None:
    pool = make_pool(512)
    a1 = await pool.acquire(A, 256)
    a2 = await pool.acquire(A, 256)
    waiting = asyncio.ensure_future(pool.acquire(B, 256))
    await asyncio.sleep(0)
    pool.release(a1)
    b = await waiting
    assert a1.evicted and b.key == B and not a2.evicted


async def test_least_recently_used_idle_container_is_evicted() -> None:
    pool = make_pool(512)
    a = await pool.acquire(A, 256)
    b = await pool.acquire(B, 256)
    pool.release(a)
    pool.release(b)  # b used more recently
    c = await pool.acquire(ActionKey("guest", "guest/c", "1"), 256)
    assert a.evicted and not b.evicted and c in pool.entries


async def test_new_revision_evicts_idle_containers_of_the_old_one() -> None:
    pool = make_pool(1024)
    old = await pool.acquire(A, 256)
    pool.release(old)
    new = await pool.acquire(A2, 256)
    assert old.evicted and new is not old
    assert pool.entries == [new]


async def test_dead_idle_container_is_not_handed_out() -> None:
    pool = make_pool()
    first = await pool.acquire(A, 256)
    pool.release(first)
    first.dead = True
    again = await pool.acquire(A, 256)
    assert again is not first and first.evicted


async def test_discard_frees_memory_for_the_buffer() -> None:
    pool = make_pool(256)
    one = await pool.acquire(A, 256)
    waiting = asyncio.ensure_future(pool.acquire(A, 256))
    await asyncio.sleep(0)
    pool.discard(one)  # e.g. developer error: container destroyed
    two = await waiting
    assert two is not one


async def test_release_of_an_unusable_entry_frees_its_memory() -> None:
    pool = make_pool(256)
    one = await pool.acquire(A, 256)
    one.dead = True
    pool.release(one)
    assert pool.entries == []


async def test_idle_timeout_evicts() -> None:
    pool = make_pool(idle_timeout=0.05)
    one = await pool.acquire(A, 256)
    pool.release(one)
    await asyncio.sleep(0.1)
    assert one.evicted and pool.entries == []


async def test_reuse_cancels_idle_timeout() -> None:
    pool = make_pool(idle_timeout=0.05)
    one = await pool.acquire(A, 256)
    pool.release(one)
    assert await pool.acquire(A, 256) is one
    await asyncio.sleep(0.1)
    assert not one.evicted


async def test_cancelled_waiter_leaves_the_buffer() -> None:
    pool = make_pool(256)
    one = await pool.acquire(A, 256)
    waiting = asyncio.ensure_future(pool.acquire(B, 256))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    pool.release(one)
    assert pool.buffered == 0 and not one.evicted


async def test_action_bigger_than_the_invoker_is_refused() -> None:
    with pytest.raises(NoCapacity):
        await make_pool(256).acquire(A, 512)


async def test_evict_all_returns_busy_entries() -> None:
    pool = make_pool()
    idle = await pool.acquire(A, 256)
    busy = await pool.acquire(B, 256)
    pool.release(idle)
    assert pool.evict_all() == [busy]
    assert idle.evicted


async def test_closed_pool_fails_waiters_and_evicts_released_entries() -> None:
    from pywhisk.invoker.pool import PoolClosed

    pool = make_pool(256)
    busy = await pool.acquire(A, 256)
    waiting = asyncio.ensure_future(pool.acquire(B, 256))
    await asyncio.sleep(0)
    assert pool.evict_all() == [busy]
    with pytest.raises(PoolClosed):
        await waiting
    pool.release(busy)
    assert busy.evicted
    with pytest.raises(PoolClosed):
        await pool.acquire(A, 256)


STEM_KEY = ActionKey("", "", "")


async def test_stem_cell_of_the_same_kind_and_memory_is_adopted() -> None:
    gone: list[tuple[str, int]] = []
    pool = ContainerPool(
        512, Entry, 0.0, clock=TickingClock(), on_stem_gone=lambda k, m: gone.append((k, m))
    )
    small = Entry(STEM_KEY, 128)
    stem = Entry(STEM_KEY, 256)
    pool.add_stem(small, "python:3.11", 128)
    pool.add_stem(stem, "python:3.11", 256)
    assert pool.entries == []  # stems are not pool containers (nor counted memory)
    assert await pool.acquire(B, 256, "nodejs:20") is not stem  # other kind: cold
    got = await pool.acquire(A, 256, "python:3.11")
    assert got is stem and stem.key == A and gone == [("python:3.11", 256)]
    assert pool.stems == [small]
    pool.release(got)
    assert await pool.acquire(A, 256, "python:3.11") is stem  # now a warm container


async def test_stem_cell_of_another_size_is_adopted_at_the_size_asked() -> None:
    gone: list[tuple[str, int]] = []
    pool: ContainerPool[Entry] = ContainerPool(
        1024, Entry, 0.0, clock=TickingClock(), on_stem_gone=lambda k, m: gone.append((k, m))
    )
    stem = Entry(STEM_KEY, 256)
    pool.add_stem(stem, "python:3.11", 256)
    got = await pool.acquire(A, 512, "python:3.11")
    assert got is stem and stem.key == A and stem.memory == 512
    assert sum(s.memory for s in pool.slots()) == 512  # counted at the size it now has
    assert gone == [("python:3.11", 256)]  # the runtime's own stem cell size is replaced


async def test_dead_stem_is_dropped_and_replaced() -> None:
    gone: list[tuple[str, int]] = []
    pool = ContainerPool(
        512, Entry, 0.0, clock=TickingClock(), on_stem_gone=lambda k, m: gone.append((k, m))
    )
    stem = Entry(STEM_KEY, 256)
    pool.add_stem(stem, "python:3.11", 256)
    stem.dead = True
    got = await pool.acquire(A, 256, "python:3.11")
    assert got is not stem and stem.evicted and gone == [("python:3.11", 256)]


async def test_stem_is_taken_only_when_memory_allows() -> None:
    pool = make_pool(256)
    busy = await pool.acquire(B, 256)
    stem = Entry(STEM_KEY, 256)
    pool.add_stem(stem, "python:3.11", 256)
    waiting = asyncio.ensure_future(pool.acquire(A, 256, "python:3.11"))
    await asyncio.sleep(0)
    assert not waiting.done()
    pool.discard(busy)
    assert await waiting is stem


async def test_evict_all_evicts_stems() -> None:
    pool = make_pool()
    stem = Entry(STEM_KEY, 256)
    pool.add_stem(stem, "python:3.11", 256)
    pool.evict_all()
    assert stem.evicted and pool.stems == []
    late = Entry(STEM_KEY, 256)
    pool.add_stem(late, "python:3.11", 256)  # finished starting after shutdown began
    assert late.evicted


async def test_retired_revision_leaves_idle_now_and_busy_on_release() -> None:
    pool = make_pool(user_memory=1024)
    idle = await pool.acquire(A, 256)
    busy = await pool.acquire(A, 256)
    other = await pool.acquire(B, 256)
    pool.release(idle)
    pool.release(other)
    pool.retire("guest/a", "1")
    assert idle.evicted and not busy.evicted and not other.evicted
    pool.release(busy)  # its activation ends after the action changed: not kept warm
    assert busy.evicted
    assert pool.entries == [other]
    fresh = await pool.acquire(A2, 256)  # the new revision gets a new container
    assert fresh not in (idle, busy) and not fresh.evicted
