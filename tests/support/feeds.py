"""What feed tests share: a real SQLite store and a recorder standing in for trigger fires."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pywhisk.common.store.base import Store, store_from_url
from pywhisk.controller.core.feeds.firing import Refusal
from pywhisk.controller.core.feeds.registry import FeedRecord


class Fires:
    """Records every fire (trigger, payload); answers `refuse` (None: fired)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.refuse: Refusal | None = None

    async def __call__(self, record: FeedRecord, payload: dict[str, Any]) -> Refusal | None:
        self.seen.append((record.trigger, payload))
        return self.refuse

    def payloads(self) -> list[dict[str, Any]]:
        return [payload for _, payload in self.seen]


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = store_from_url(f"sqlite:///{tmp_path / 'store.db'}")
    await store.open()
    yield store
    await store.close()


_prefixes = itertools.count()


@pytest.fixture(params=["sqlite", "couchdb"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each store backend in turn: SQLite, and CouchDB's API on pouchdb-server (the test
    module imports the `couchdb_server` fixture)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        couch = request.getfixturevalue("couchdb_server")
        prefix = f"feeds{next(_prefixes)}_"
        url = couch.store_url(prefix)
        request.addfinalizer(lambda: couch.drop_databases(prefix))
    store = store_from_url(url)
    await store.open()
    yield store
    await store.close()
