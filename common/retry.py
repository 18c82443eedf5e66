"""Trying again: the platform's one retry loop, with growing pauses.

Every place that retries (Kafka calls a restarting broker refuses, activation records a store
could not take, a feed's fire a busy controller refused, a database-changes follower that lost
its connection, a subject document another controller wrote first) states *what* it retries
and *how long*, and `retry` does the rest: `attempt()` again after each exception of `on`
that `give_up` does not claim, a pause from `Backoff` between tries, the last exception raised
once the tries or the deadline run out.

Written here rather than taken from tenacity: Kafka's every send goes through this, and a
tenacity retrier measured 60-100 µs per successful call on the machines we test on (one
object per call, its statistics and hooks); this costs one coroutine frame until something
fails.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pauses between tries: `first`, then each `factor` times the one before, at most `cap`
    seconds; `retries` pauses (tries after the first) at most, or no limit when None."""

    first: float
    factor: float = 1.0
    cap: float = math.inf
    retries: int | None = None

    def pauses(self) -> Iterator[float]:
        pause, given = self.first, 0
        while self.retries is None or given < self.retries:
            yield min(pause, self.cap)
            pause *= self.factor
            given += 1


def never(_: BaseException) -> bool:
    return False


async def retry(
    attempt: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    on: type[BaseException] | tuple[type[BaseException], ...] = Exception,
    give_up: Callable[[BaseException], bool] = never,
    deadline: float | None = None,
    before_pause: Callable[[BaseException, int, float], None] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """What `attempt()` returns, once it returns.

    `deadline` is a time of the running loop's clock past which no pause is taken (the last
    error is raised instead); `before_pause(error, tries so far, pause)` is where the caller
    logs. Exceptions outside `on`, and those `give_up` claims, are raised at once.
    """
    pauses = backoff.pauses()
    tries = 0
    while True:
        try:
            return await attempt()
        except on as error:
            tries += 1
            pause = next(pauses, None)
            if pause is None or give_up(error):
                raise
            if deadline is not None and asyncio.get_running_loop().time() + pause >= deadline:
                raise
            if before_pause is not None:
                before_pause(error, tries, pause)
        await sleep(pause)
