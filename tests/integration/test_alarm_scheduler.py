"""The alarm scheduler on a real store (SQLite, and CouchDB's API) with a clock the test moves: each due time
fired once by any number of schedulers, kept across a restart, switched off as OpenWhisk's
provider does."""

from __future__ import annotations

import asyncio
from typing import Any

from pywhisk.common.store.base import Store
from pywhisk.controller.core.feeds.alarm_spec import create_config
from pywhisk.controller.core.feeds.alarms import AlarmScheduler
from pywhisk.controller.core.feeds.firing import Refusal
from pywhisk.controller.core.feeds.lifecycle import AlarmsProvider, handle
from pywhisk.controller.core.feeds.registry import FeedRecord, FeedRegistry
from tests.support.couchdb import couchdb_server
from tests.support.feeds import Fires, any_store

__all__ = ["any_store", "couchdb_server"]  # fixtures, used by the tests below

T0 = 31_666_667 * 60_000  # a whole minute (2030-03-17T17:47Z), in ms


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def scheduler(
    store: Store, fires: Fires, clock: Clock, deleted: list[Any] | None = None
) -> AlarmScheduler:
    async def delete_trigger(record: FeedRecord, with_rules: bool) -> None:
        if deleted is not None:
            deleted.append((record.trigger, with_rules))

    return AlarmScheduler(FeedRegistry(store, "alarms"), fires, delete_trigger, clock=clock)


async def create(store: Store, trigger: str, params: dict[str, Any], now: int = T0) -> None:
    registry = FeedRegistry(store, "alarms")
    await handle(registry, AlarmsProvider(), "guest", trigger, "CREATE", params, now)


async def test_every_minute_fires_once_per_due_time(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    await create(store, "tick", {"cron": "* * * * *", "trigger_payload": {"x": 1}})
    alarms = scheduler(store, fires, clock)
    assert await alarms.run_once() == []
    assert alarms.next_due == T0 + 60_000  # the loop wakes then, not a tick later
    clock.now = T0 + 60_000
    assert len(await alarms.run_once()) == 1
    assert alarms.next_due == T0 + 120_000
    assert await alarms.run_once() == []  # same due time, next tick
    clock.now = T0 + 90_000
    assert await alarms.run_once() == []
    clock.now = T0 + 120_500
    assert len(await alarms.run_once()) == 1
    assert fires.seen == [("tick", {"x": 1}), ("tick", {"x": 1})]


async def test_three_controllers_fire_each_due_time_once(any_store: Store) -> None:
    store = any_store
    """Three schedulers on one store (three controllers) tick at the same moment: all three
    read the alarm before any claims it, and the store lets one claim through."""
    clock, fires = Clock(), Fires()
    await create(store, "tick", {"cron": "*/10 * * * * *"})
    controllers = [scheduler(store, fires, clock) for _ in range(3)]
    for step in range(1, 31):
        clock.now = T0 + step * 1_000
        claims = await asyncio.gather(*(c.run_once() for c in controllers))
        assert sum(len(c) for c in claims) == (1 if step % 10 == 0 else 0)
    assert len(fires.seen) == 3  # 10 s, 20 s, 30 s


async def test_a_restart_between_two_alarms_loses_and_doubles_none(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    await create(store, "tick", {"cron": "* * * * *"})
    clock.now = T0 + 60_000
    await scheduler(store, fires, clock).run_once()
    clock.now = T0 + 61_000  # stopped after the first alarm; a new one starts before the next
    restarted = scheduler(store, fires, clock)
    assert await restarted.run_once() == []
    clock.now = T0 + 120_000
    assert len(await restarted.run_once()) == 1
    assert len(fires.seen) == 2


async def test_downtime_across_due_times_catches_up_once(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    await create(store, "tick", {"cron": "* * * * *"})
    clock.now = T0 + 7 * 60_000 + 30_000  # down from T0 to 7.5 minutes later
    claims = await scheduler(store, fires, clock).run_once()
    assert [due for _, due in claims] == [T0 + 7 * 60_000]
    clock.now = T0 + 8 * 60_000
    assert len(await scheduler(store, fires, clock).run_once()) == 1
    assert len(fires.seen) == 2


async def test_max_triggers_then_switched_off(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    await create(store, "twice", {"cron": "* * * * *", "maxTriggers": 2})
    alarms = scheduler(store, fires, clock)
    for minute in range(1, 5):
        clock.now = T0 + minute * 60_000
        await alarms.run_once()
    assert len(fires.seen) == 2
    record = await FeedRegistry(store, "alarms").get("guest", "twice")
    assert record is not None and not record.active
    assert record.reason == {
        "kind": "AUTO",
        "message": "Automatically disabled after reaching max triggers",
    }


async def test_stop_date_ends_the_schedule(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    await create(store, "short", {"cron": "* * * * *", "stopDate": T0 + 150_000})
    alarms = scheduler(store, fires, clock)
    for minute in range(1, 6):
        clock.now = T0 + minute * 60_000
        await alarms.run_once()
    assert len(fires.seen) == 2
    record = await FeedRegistry(store, "alarms").get("guest", "short")
    assert record is not None and record.reason is not None
    assert (
        record.reason["message"]
        == "Automatically disabled after firing last scheduled cron trigger"
    )


async def test_once_with_delete_after_fire(any_store: Store) -> None:
    store = any_store
    clock, fires, deleted = Clock(), Fires(), list[Any]()
    await create(store, "later", {"fireOnce": True, "date": T0 + 5_000, "deleteAfterFire": "rules"})
    alarms = scheduler(store, fires, clock, deleted)
    clock.now = T0 + 6_000
    await alarms.run_once()
    clock.now = T0 + 600_000
    await alarms.run_once()
    assert fires.seen == [("later", {})]
    assert deleted == [("later", True)]
    assert await FeedRegistry(store, "alarms").get("guest", "later") is None


async def test_a_refused_fire_switches_the_alarm_off(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    await create(store, "gone", {"cron": "* * * * *"})
    fires.refuse = Refusal(404, "The requested resource does not exist.")
    alarms = scheduler(store, fires, clock)
    for minute in (1, 2, 3):
        clock.now = T0 + minute * 60_000
        await alarms.run_once()
    assert len(fires.seen) == 1
    record = await FeedRegistry(store, "alarms").get("guest", "gone")
    assert record is not None and record.reason == {
        "kind": "AUTO",
        "statusCode": 404,
        "message": "Trigger automatically disabled: The requested resource does not exist.",
    }


async def test_pause_skips_what_falls_in_the_pause(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    registry = FeedRegistry(store, "alarms")
    await create(store, "tick", {"cron": "* * * * *"})
    alarms = scheduler(store, fires, clock)
    await handle(registry, AlarmsProvider(), "guest", "tick", "PAUSE", {}, T0 + 1_000)
    clock.now = T0 + 5 * 60_000 + 1_000
    assert await alarms.run_once() == []
    payload = {"trigger_payload": {"y": 2}}
    await handle(registry, AlarmsProvider(), "guest", "tick", "UPDATE", payload, clock.now)
    assert await alarms.run_once() == []  # an update does not end the pause
    await handle(registry, AlarmsProvider(), "guest", "tick", "UNPAUSE", {}, clock.now)
    assert await alarms.run_once() == []  # 00:05 fell in the pause
    clock.now = T0 + 6 * 60_000
    assert len(await alarms.run_once()) == 1
    assert fires.payloads() == [{"y": 2}]
    read = await handle(registry, AlarmsProvider(), "guest", "tick", "READ", {}, clock.now)
    assert read["status"]["active"] is True
    assert read["config"] == {
        "name": "tick",
        "namespace": "guest",
        **{
            "payload": {"y": 2},
            "startDate": None,
            "stopDate": None,
            "cron": "* * * * *",
            "timezone": None,
        },
    }


async def test_an_update_applies_from_now(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    registry = FeedRegistry(store, "alarms")
    await create(store, "tick", {"cron": "0 * * * *"})
    clock.now = T0 + 90_000
    await handle(
        registry, AlarmsProvider(), "guest", "tick", "UPDATE", {"cron": "* * * * *"}, clock.now
    )
    alarms = scheduler(store, fires, clock)
    assert await alarms.run_once() == []  # 00:01 matched the new cron, but came before the update
    clock.now = T0 + 120_000
    assert len(await alarms.run_once()) == 1
    assert create_config({"cron": "* * * * *"}, T0)["cron"] == "* * * * *"


async def test_interval_from_its_start_date(any_store: Store) -> None:
    store = any_store
    clock, fires = Clock(), Fires()
    await create(store, "every2", {"isInterval": True, "minutes": 2})  # starts at T0 + 30 s
    alarms = scheduler(store, fires, clock)
    fired_at: list[int] = []
    for second in range(0, 6 * 60, 5):
        clock.now = T0 + second * 1_000
        if await alarms.run_once():
            fired_at.append(second)
    assert fired_at == [30, 150, 270]


async def test_a_stopping_scheduler_lets_a_fire_under_way_finish(any_store: Store) -> None:
    store = any_store
    clock, finished = Clock(), list[str]()

    async def slow_fire(record: FeedRecord, payload: dict[str, Any]) -> Refusal | None:
        await asyncio.sleep(0.3)
        finished.append(record.trigger)
        return None

    await create(store, "tick", {"cron": "* * * * *"})
    alarms = scheduler(store, slow_fire, clock)  # type: ignore[arg-type]
    clock.now = T0 + 60_000
    assert len(await alarms.run_once(wait=False)) == 1  # claimed, the fire under way
    await alarms.stop(grace=2.0)
    assert finished == ["tick"]


async def test_aws_schedules_fire_at_their_times(any_store: Store) -> None:
    """The talk's `cron(0 */2 * * ? *)` fires on the even hours (UTC) and `rate(5 minutes)`
    every five minutes from its creation, each due time once, through the scheduler."""
    store = any_store
    clock, fires = Clock(), Fires()
    await create(store, "build", {"cron": "cron(0 */2 * * ? *)", "trigger_payload": {"y": 1}})
    await create(store, "often", {"cron": "rate(5 minutes)"})
    alarms = scheduler(store, fires, clock)
    assert await alarms.run_once() == []  # 17:47, nothing due
    fired: dict[str, list[int]] = {"build": [], "often": []}  # minutes after T0
    while alarms.next_due is not None and alarms.next_due <= T0 + 140 * 60_000:
        clock.now = alarms.next_due
        for record_id, due in await alarms.run_once():
            fired["build" if record_id.endswith("build") else "often"].append((due - T0) // 60_000)
    assert fired["build"] == [13, 133]  # 18:00 and 20:00
    assert fired["often"] == list(range(5, 141, 5))
    assert ("build", {"y": 1}) in fires.seen and len(fires.seen) == 30
