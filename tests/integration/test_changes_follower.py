"""Changes followers against a real CouchDB API (pouchdb-server): one fire per document
change, none missed or repeated across a restart, none doubled by two controllers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pywhisk.common.store.base import Store
from pywhisk.controller.core.feeds.alarm_spec import FeedRefused
from pywhisk.controller.core.feeds.changes import ChangesFollowers
from pywhisk.controller.core.feeds.feed_hosts import HostPolicy
from pywhisk.controller.core.feeds.lifecycle import ChangesProvider, handle
from pywhisk.controller.core.feeds.registry import FeedRegistry
from tests.support.couchdb import ADMIN, PouchDBServer, TcpGate, couchdb_server
from tests.support.feeds import Fires, any_store
from tests.support.polling import wait_until_async

__all__ = ["any_store", "couchdb_server"]  # fixtures, used by the tests below

_names = itertools.count()


# pouchdb-server listens on loopback: allowed here as an operator would allow it.
LOOPBACK = HostPolicy.parse("127.0.0.1")


@pytest.fixture
def database(couchdb_server: PouchDBServer) -> Iterator[str]:
    name = f"photos{next(_names)}"
    with couchdb_server.client() as client:
        client.put(f"/{name}").raise_for_status()
    yield name
    with couchdb_server.client() as client:
        client.delete(f"/{name}")


def ids(fires: Fires) -> list[str]:
    return [p["id"] for p in fires.payloads()]


def params(server: PouchDBServer, database: str, **extra: Any) -> dict[str, Any]:
    user, password = ADMIN
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "dbname": database,
        "username": user,
        "password": password,
        **extra,
    }


async def put_doc(server: PouchDBServer, database: str, doc_id: str, **fields: Any) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, auth=ADMIN) as client:
        (await client.put(f"/{database}/{doc_id}", json=fields)).raise_for_status()


def followers(store: Store, fires: Fires) -> ChangesFollowers:
    return ChangesFollowers(
        FeedRegistry(store, "couchdb"), fires, tick=0.05, longpoll=0.5, policy=LOOPBACK
    )


async def fired(fires: Fires, count: int, exactly: bool = True) -> None:
    """Until `count` fires (or more, unless `exactly`) are recorded."""
    await wait_until_async(
        lambda: list(fires.seen),
        f"{'' if exactly else 'at least '}{count} fires",
        timeout=10,
        interval=0.02,
        until=lambda seen: len(seen) == count if exactly else len(seen) >= count,
    )


async def test_each_change_fires_once_across_a_restart(
    any_store: Store, couchdb_server: PouchDBServer, database: str
) -> None:
    store = any_store
    await put_doc(couchdb_server, database, "before")  # before the feed: not fired (since=now)
    registry = FeedRegistry(store, "couchdb")
    feed = params(couchdb_server, database, trigger_payload={"site": "365"})
    await handle(registry, ChangesProvider(policy=LOOPBACK), "guest", "photos", "CREATE", feed, 0)
    fires = Fires()
    first = followers(store, fires)
    await first.start()
    try:
        await put_doc(couchdb_server, database, "a")
        await put_doc(couchdb_server, database, "b")
        await fired(fires, 2)
    finally:
        await first.stop()
    assert ids(fires) == ["a", "b"]
    assert fires.payloads()[0]["site"] == "365" and fires.payloads()[0]["dbname"] == database
    assert fires.payloads()[0]["changes"][0]["rev"].startswith("1-")
    await put_doc(couchdb_server, database, "c")  # while no controller runs
    second = followers(store, fires)
    await second.start()
    try:
        await put_doc(couchdb_server, database, "d")
        await fired(fires, 4)
        await asyncio.sleep(0.7)  # a further long poll: nothing more
    finally:
        await second.stop()
    assert ids(fires) == ["a", "b", "c", "d"]
    record = await registry.get("guest", "photos")
    assert record is not None and record.state["fired"] == 4


async def test_two_controllers_fire_each_change_once(
    any_store: Store, couchdb_server: PouchDBServer, database: str
) -> None:
    store = any_store
    registry = FeedRegistry(store, "couchdb")
    await handle(
        registry,
        ChangesProvider(policy=LOOPBACK),
        "guest",
        "photos",
        "CREATE",
        params(couchdb_server, database),
        0,
    )
    fires = Fires()
    both = [followers(store, fires), followers(store, fires)]
    for f in both:
        await f.start()
    try:
        for n in range(12):
            await put_doc(couchdb_server, database, f"doc{n:02d}")
        await fired(fires, 12, exactly=False)
        await asyncio.sleep(1.0)
    finally:
        for f in both:
            await f.stop()
    assert sorted(ids(fires)) == [f"doc{n:02d}" for n in range(12)]


async def test_since_zero_replays_and_max_triggers_stops(
    any_store: Store, couchdb_server: PouchDBServer, database: str
) -> None:
    store = any_store
    for n in range(3):
        await put_doc(couchdb_server, database, f"old{n}")
    registry = FeedRegistry(store, "couchdb")
    feed = params(couchdb_server, database, since=0, maxTriggers=2)
    await handle(registry, ChangesProvider(policy=LOOPBACK), "guest", "photos", "CREATE", feed, 0)
    fires = Fires()
    f = followers(store, fires)
    await f.start()
    try:
        await fired(fires, 2)
        await asyncio.sleep(0.5)
    finally:
        await f.stop()
    assert ids(fires) == ["old0", "old1"]
    record = await registry.get("guest", "photos")
    assert record is not None and not record.active


async def test_a_database_that_cannot_be_read_is_refused(
    any_store: Store, couchdb_server: PouchDBServer, database: str
) -> None:
    store = any_store
    registry = FeedRegistry(store, "couchdb")
    bad_password = params(couchdb_server, "nosuchdb")
    with pytest.raises(FeedRefused) as caught:
        await handle(
            registry, ChangesProvider(policy=LOOPBACK), "guest", "photos", "CREATE", bad_password, 0
        )
    assert caught.value.status == 400
    assert caught.value.message.startswith("couchdb trigger feed: database 'nosuchdb' answered 404")
    with pytest.raises(FeedRefused, match="couchdb trigger feed: missing dbname parameter"):
        await handle(
            registry,
            ChangesProvider(policy=LOOPBACK),
            "guest",
            "photos",
            "CREATE",
            {"host": "x"},
            0,
        )
    assert await registry.get("guest", "photos") is None


async def test_a_network_cut_loses_no_change(
    any_store: Store, couchdb_server: PouchDBServer, database: str
) -> None:
    """The database unreachable for a while (a long poll cut mid-wait, then refused
    connections): the follower retries and fires what changed meanwhile, once each."""
    store = any_store
    gate = TcpGate(couchdb_server.port)
    await gate.restore()
    feed = {**params(couchdb_server, database), "port": gate.port}
    await handle(
        FeedRegistry(store, "couchdb"),
        ChangesProvider(policy=LOOPBACK),
        "guest",
        "p",
        "CREATE",
        feed,
        0,
    )
    fires = Fires()
    f = ChangesFollowers(
        FeedRegistry(store, "couchdb"), fires, tick=0.05, longpoll=0.5, retry=0.2, policy=LOOPBACK
    )
    await f.start()
    try:
        await put_doc(couchdb_server, database, "a")
        await fired(fires, 1)
        await gate.cut()
        await put_doc(couchdb_server, database, "b")
        await put_doc(couchdb_server, database, "c")
        await asyncio.sleep(1.0)
        assert ids(fires) == ["a"]
        await gate.restore()
        await fired(fires, 3)
        await asyncio.sleep(0.7)
    finally:
        await f.stop()
        await gate.cut()
    assert ids(fires) == ["a", "b", "c"]


async def test_a_feed_whose_host_is_no_longer_allowed_is_switched_off(
    any_store: Store, couchdb_server: PouchDBServer, database: str
) -> None:
    """Created while loopback was allowed (or while its name resolved elsewhere): the
    follower checks again before each poll, and switches the feed off instead of connecting."""
    store = any_store
    registry = FeedRegistry(store, "couchdb")
    feed = params(couchdb_server, database)
    await handle(registry, ChangesProvider(policy=LOOPBACK), "guest", "photos", "CREATE", feed, 0)
    fires = Fires()
    strict = ChangesFollowers(registry, fires, tick=0.05, longpoll=0.5, policy=HostPolicy())
    await strict.start()
    try:
        await put_doc(couchdb_server, database, "a")

        async def switched_off() -> bool:
            record = await registry.get("guest", "photos")
            return record is not None and not record.active

        await wait_until_async(switched_off, "the feed switched off", timeout=10)
    finally:
        await strict.stop()
    record = await registry.get("guest", "photos")
    assert record is not None and record.reason is not None
    assert "host '127.0.0.1' cannot be used" in record.reason["message"]
    assert fires.seen == []
