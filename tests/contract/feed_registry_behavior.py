"""Feed documents in the entity store, run on every store backend (mixed into each backend's
store contract class): what alarms and changes feeds rely on to fire each event once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from pywhisk.common.store.base import Conflict, Store
from pywhisk.controller.core.feeds.registry import FeedRecord, FeedRegistry
from tests.support.store_docs import entity


def record(namespace: str, trigger: str, provider: str = "alarms", **state: int) -> FeedRecord:
    config = {"kind": "cron", "cron": "* * * * *"}
    return FeedRecord(provider, namespace, trigger, config, dict(state), created=1)


class FeedRegistryBehavior:
    async def test_feed_created_once_read_back_and_removed(self, store: Store) -> None:
        alarms = FeedRegistry(store, "alarms")
        first = await alarms.put(record("ns", "every minute@1", lastDue=5))
        with pytest.raises(Conflict):
            await alarms.put(record("ns", "every minute@1"))  # create-if-absent
        found = await alarms.get("ns", "every minute@1")
        assert found == first and found.state == {"lastDue": 5}
        assert await FeedRegistry(store, "couchdb").get("ns", "every minute@1") is None
        assert await alarms.remove("ns", "every minute@1") is True
        assert await alarms.get("ns", "every minute@1") is None
        assert await alarms.remove("ns", "every minute@1") is False

    async def test_one_claim_of_a_due_time_wins(self, store: Store) -> None:
        """Controllers that read the same revision and claim the same due time: one write
        goes through, the others conflict and so do not fire."""
        alarms = FeedRegistry(store, "alarms")
        seen = await alarms.put(record("ns", "t", lastDue=0))
        claims = [replace(seen, state={"lastDue": 60_000, "fired": 1}) for _ in range(5)]
        results = await asyncio.gather(*(alarms.put(c) for c in claims), return_exceptions=True)
        assert sum(isinstance(r, FeedRecord) for r in results) == 1
        assert sum(isinstance(r, Conflict) for r in results) == 4
        with pytest.raises(Conflict):
            await alarms.delete(seen)  # the revision that was read is gone

    async def test_all_lists_every_namespace_and_no_entity_listing_shows_them(
        self, store: Store
    ) -> None:
        alarms = FeedRegistry(store, "alarms")
        for ns in ("a", "b", "c"):
            await alarms.put(record(ns, "t"))
        await FeedRegistry(store, "couchdb").put(record("a", "t", "couchdb", since=3))
        await store.entities.put(
            "whisk.system/utils", entity("whisk.system", "utils", "package"), None
        )
        assert sorted(r.namespace for r in await alarms.all()) == ["a", "b", "c"]
        assert [r.state for r in await FeedRegistry(store, "couchdb").all()] == [{"since": 3}]
        for kind in ("action", "package", "trigger", "rule"):
            listed = await store.entities.list("whisk.system", kind)
            assert all(d["entityType"] == kind for d in listed)
        assert await store.entities.count("whisk.system", "action") == 0
