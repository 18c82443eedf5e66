"""The controller's entity cache against invalidations that arrive while it reads."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from pywhisk.common.store.base import Doc, Store
from pywhisk.controller.core.cache import EntityCache


class _Entities:
    """One package whose store read waits at a gate, so a test can change it mid-read."""

    def __init__(self) -> None:
        self.publish = True
        self.rev = 1
        self.gate = asyncio.Event()
        self.reading = asyncio.Event()

    async def get(self, doc_id: str) -> tuple[Doc, str] | None:
        namespace, _, name = doc_id.partition("/")
        doc: Doc = {
            "entityType": "package",
            "namespace": namespace,
            "name": name,
            "publish": self.publish,
        }
        snapshot = (doc, str(self.rev))  # what the store held when the read was served
        self.reading.set()
        await self.gate.wait()
        return snapshot


class _Store:
    def __init__(self) -> None:
        self.entities = _Entities()


async def _changed_while_read(read: Any, cache: EntityCache, store: _Store) -> None:
    pending = asyncio.create_task(read("alice/pub"))
    await store.entities.reading.wait()
    # another controller makes the package private; its invalidation arrives mid-read
    store.entities.publish, store.entities.rev = False, 2
    cache.invalidate("alice/pub")
    store.entities.gate.set()
    await pending  # that one read may answer with what it read before the change


async def test_a_read_overtaken_by_an_invalidation_is_not_cached() -> None:
    store = _Store()
    cache = EntityCache(cast(Store, store))
    await _changed_while_read(cache.get, cache, store)
    hit = await cache.get("alice/pub")
    assert hit is not None and (hit[0]["publish"], hit[1]) == (False, "2")


async def test_a_parse_overtaken_by_an_invalidation_is_not_cached() -> None:
    store = _Store()
    cache = EntityCache(cast(Store, store))
    await _changed_while_read(cache.package, cache, store)
    hit = await cache.package("alice/pub")
    assert hit is not None and (hit[0].publish, hit[1]) == (False, "2")


async def test_reads_without_a_change_are_cached() -> None:
    store = _Store()
    store.entities.gate.set()
    cache = EntityCache(cast(Store, store))
    first = await cache.package("alice/pub")
    store.entities.publish = False  # not announced: the cache keeps what it read
    assert await cache.package("alice/pub") == first
