"""The alarm scheduler every controller runs: each tick, fire the alarms that are due.

A tick comes every `tick` seconds, or sooner when the earliest due time seen comes first,
so an alarm fires within milliseconds of its time. Each tick reads the alarm documents, and for each active one whose next due time has
come, claims that due time (the registry's compare-and-set on `state.lastDue`) and fires
the trigger; only the controller whose claim was written fires, so N controllers fire
each due time once. Nothing is kept in memory between ticks: a new, updated, paused or
deleted alarm is seen at the next tick, and a restarted controller carries on from the
store.

Missed due times (every controller down, or a tick later than the alarm's period) are
caught up once: the latest due time not yet fired is fired, the earlier ones are not,
as a cron daemon that was off does not run a job once per missed minute.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from pywhisk.common.store.base import Conflict
from pywhisk.controller.core.feeds import alarm_spec
from pywhisk.controller.core.feeds.firing import Fire
from pywhisk.controller.core.feeds.registry import FeedRecord, FeedRegistry, now_ms
from pywhisk.controller.core.feeds.ticking import Ticking

log = logging.getLogger(__name__)

# deleteAfterFire: remove the trigger (and, for "rules", its rules) once fired.
DeleteTrigger = Callable[[FeedRecord, bool], Awaitable[None]]

_LAST = {
    "cron": "Automatically disabled after firing last scheduled cron trigger",
    "interval": "Automatically disabled after firing last scheduled interval trigger",
    "once": "Automatically disabled after firing once",
}
MAX_REACHED = "Automatically disabled after reaching max triggers"
WAKE_SLACK = 0.005  # seconds past a due time to wake, so the clock has reached it


def last_due(record: FeedRecord) -> int:
    return int(record.state.get("lastDue", record.created))


def after_claim(record: FeedRecord, due: int) -> FeedRecord:
    """The record once `due` is claimed: progress moved on, switched off if that was its
    last fire (maxTriggers reached, once fired, nothing due before its stopDate)."""
    fired = int(record.state.get("fired", 0)) + 1
    claimed = replace(record, state={**record.state, "lastDue": due, "fired": fired})
    limit = int(record.config.get("maxTriggers", -1))
    if limit > 0 and fired >= limit:
        return claimed.disabled(MAX_REACHED)
    if alarm_spec.next_due(record.config, due) is None:
        return claimed.disabled(_LAST[record.config["kind"]])
    return claimed


class AlarmScheduler(Ticking):
    def __init__(
        self,
        registry: FeedRegistry,
        fire: Fire,
        delete_trigger: DeleteTrigger,
        *,
        tick: float = 1.0,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        super().__init__(registry, fire, tick)
        self._delete_trigger = delete_trigger
        self._clock = clock
        self.next_due: int | None = None  # the earliest due time after the last look

    async def tick_once(self) -> float | None:
        """Between ticks, wake for the next due time known, so an alarm fires on time
        rather than up to a tick late (a few ms after it: cron times are whole seconds)."""
        await self.run_once(wait=False)
        if self.next_due is None:
            return None
        return max(0.0, (self.next_due - self._clock()) / 1000) + WAKE_SLACK

    async def run_once(self, wait: bool = True) -> list[tuple[str, int]]:
        """One tick: claim every due time that has come; `(record id, due)` of each claim.
        The fires run on as tasks (retries may sleep); `wait` waits for them."""
        now = self._clock()
        claims: list[tuple[str, int]] = []
        upcoming: list[int] = []
        for record in await self.registry.all():
            if not record.active:
                continue
            if alarm_spec.latest_due(record.config, last_due(record), now) is not None:
                claimed = await self._claim(record, now)
                if claimed is not None:
                    claims.append((claimed.id, last_due(claimed)))
                    self.spawn(self._fire_claimed(claimed), f"fire {claimed.id}")
            upcoming.append(alarm_spec.next_due(record.config, max(now, last_due(record))) or 0)
        self.next_due = min((t for t in upcoming if t), default=None)
        if wait and self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        return claims

    async def _claim(self, listed: FeedRecord, now: int) -> FeedRecord | None:
        """Write the claim of the due time at `now`, from the current revision; None if
        another controller claimed it first or the alarm changed meanwhile (the next tick
        looks again)."""
        record = await self.registry.reload(listed)
        if record is None or not record.active:
            return None
        due = alarm_spec.latest_due(record.config, last_due(record), now)
        if due is None:
            return None
        try:
            return await self.registry.put(after_claim(record, due))
        except Conflict:
            return None

    async def _fire_claimed(self, record: FeedRecord) -> None:
        try:
            refusal = await self._fire(record, dict(record.config.get("payload") or {}))
            if refusal is not None:
                await self.registry.switch_off(record, refusal.message, refusal.status)
            elif record.config["kind"] == "once" and record.config.get("deleteAfterFire") in (
                "true",
                "rules",
            ):
                await self._delete_trigger(record, record.config["deleteAfterFire"] == "rules")
                await self.registry.remove(record.namespace, record.trigger)
        except Exception:
            log.warning("alarm %s: firing failed", record.id, exc_info=True)
