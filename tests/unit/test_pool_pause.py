"""ContainerPool keep-alive: idle entries are paused after the grace period, still reused, and
removed at the idle timeout counted from their release (OW pause-grace, idle-container)."""

from __future__ import annotations

import asyncio

from pywhisk.invoker.pool import ContainerPool
from pywhisk.invoker.scheduling import ActionKey
from tests.support.clocks import TickingClock
from tests.support.pool_entries import Entry

A = ActionKey("guest", "guest/a", "1")


class PausingEntry(Entry):
    def __init__(self, key: ActionKey, memory: int) -> None:
        super().__init__(key, memory)
        self.pauses = 0

    def pause(self) -> None:
        assert not self.evicted, "paused after eviction"
        self.pauses += 1


def make_pool(pause_grace: float, idle_timeout: float = 0.0) -> ContainerPool[PausingEntry]:
    return ContainerPool(
        512, PausingEntry, idle_timeout, clock=TickingClock(), pause_grace=pause_grace
    )


async def test_idle_entry_is_paused_after_the_grace_and_still_reused() -> None:
    pool = make_pool(pause_grace=0.05)
    entry = await pool.acquire(A, 256)
    pool.release(entry)
    await asyncio.sleep(0.02)
    assert entry.pauses == 0
    await asyncio.sleep(0.06)
    assert entry.pauses == 1 and not entry.evicted
    assert await pool.acquire(A, 256) is entry  # the proxy resumes it before running
    pool.release(entry)
    await asyncio.sleep(0.08)
    assert entry.pauses == 2


async def test_reuse_within_the_grace_cancels_the_pause() -> None:
    # Margins of hundreds of milliseconds: a busy machine delays timers by tens.
    pool = make_pool(pause_grace=0.3)
    entry = await pool.acquire(A, 256)
    pool.release(entry)
    await asyncio.sleep(0.01)
    assert await pool.acquire(A, 256) is entry
    await asyncio.sleep(0.35)
    assert entry.pauses == 0  # busy entries are never paused


async def test_paused_entry_still_expires_at_the_idle_timeout() -> None:
    pool = make_pool(pause_grace=0.03, idle_timeout=0.5)
    entry = await pool.acquire(A, 256)
    pool.release(entry)
    await asyncio.sleep(0.15)
    assert entry.pauses == 1 and not entry.evicted
    await asyncio.sleep(0.45)
    assert entry.evicted and pool.entries == []


async def test_no_pause_when_the_idle_timeout_comes_first_or_grace_is_zero() -> None:
    for grace, idle in ((0.05, 0.03), (0.0, 0.03)):
        pool = make_pool(pause_grace=grace, idle_timeout=idle)
        entry = await pool.acquire(A, 256)
        pool.release(entry)
        await asyncio.sleep(0.07)
        assert entry.evicted and entry.pauses == 0


async def test_evicted_entries_are_not_paused() -> None:
    pool = make_pool(pause_grace=0.03)
    entry = await pool.acquire(A, 256)
    pool.release(entry)
    assert pool.evict_all() == []
    await asyncio.sleep(0.05)
    assert entry.evicted and entry.pauses == 0
