"""The store contract against SQLite, plus what only a file-backed store promises."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pywhisk.common.store.base import Conflict, store_from_url
from pywhisk.common.store.sqlite import SqliteStore
from tests.contract.api_docs_behavior import ApiDocsBehavior
from tests.contract.feed_registry_behavior import FeedRegistryBehavior
from tests.contract.layer_store_behavior import LayerStoreBehavior
from tests.contract.store_behavior import StoreBehavior
from tests.support.polling import wait_until_async
from tests.support.store_docs import activation, entity


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def observer(tmp_path: Path, store: SqliteStore) -> AsyncIterator[SqliteStore]:
    """A second connection to the same file: sees only what was written."""
    s = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await s.open()
    yield s
    await s.close()


class TestSqliteStore(StoreBehavior, FeedRegistryBehavior, ApiDocsBehavior, LayerStoreBehavior):
    pass


async def test_survives_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'store.db'}"
    first = store_from_url(url)
    await first.open()
    await first.entities.put("ns/a", entity("ns", "a"), None)
    await first.activations.put(activation("ns", "b" * 32, 1))
    await first.close()  # flushes write-behind activations
    second = store_from_url(url)
    await second.open()
    assert await second.entities.get("ns/a") is not None
    assert await second.activations.get("ns", "b" * 32) is not None
    await second.close()


async def test_a_failed_flush_loses_no_record(tmp_path: Path) -> None:
    """A write-behind commit that fails (disk full, I/O error, a lock held too long) keeps the
    records queued and retries; reads still answer meanwhile, and close writes them out."""
    path = tmp_path / "store.db"
    store = SqliteStore(f"sqlite:///{path}")
    await store.open()
    # A real failure from SQLite itself, injected from another connection as an operator's
    # mistake or a full disk would: every insert into activations aborts.
    # Used from a thread below: its lock waits must not block the event loop the store needs
    # to roll its failed transaction back.
    other = sqlite3.connect(path, check_same_thread=False)
    other.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON activations "
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    other.commit()
    try:
        await store.activations.put(activation("ns", "c" * 32, 1))
        await asyncio.sleep(0.1)  # the background flush fails at least once
        assert await store.activations.list("ns") == []  # reads work; the record is not lost
        await asyncio.to_thread(other.execute, "DROP TRIGGER refuse")
        await asyncio.to_thread(other.commit)
        await wait_until_async(
            lambda: store.activations.get("ns", "c" * 32),
            "the refused record written once the trigger is gone",
            timeout=10,
        )
        await store.activations.put(activation("ns", "d" * 32, 2))
    finally:
        other.close()
        await store.close()
    reopened = SqliteStore(f"sqlite:///{path}")
    await reopened.open()
    assert {d["activationId"] for d in await reopened.activations.list("ns")} == {
        "c" * 32,
        "d" * 32,
    }
    await reopened.close()


def test_unknown_scheme_names_known_ones() -> None:
    with pytest.raises(ValueError, match="sqlite://"):
        store_from_url("mongo://x")


async def test_records_put_during_a_flush_reach_the_disk_unprompted(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    writer = store_from_url(f"sqlite:///{path}")
    await writer.open()
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        await writer.activations.put(activation("ns", "a" * 32, 1))
        blocker.execute("BEGIN IMMEDIATE")  # hold the write lock: the writer's flush will wait
        await asyncio.sleep(0.1)  # the flush has taken record a and is blocked writing it
        await writer.activations.put(activation("ns", "b" * 32, 2))  # lands during the flush
        blocker.execute("ROLLBACK")
        await asyncio.sleep(0.3)  # no further activity on the writer: nothing prompts a flush
        count = blocker.execute("SELECT COUNT(*) FROM activations").fetchone()[0]
        assert count == 2
    finally:
        blocker.close()
        await writer.close()


async def test_two_connections_one_revision_one_write(tmp_path: Path) -> None:
    """Two processes on one SQLite file (two stores here, each with its own connection and
    lock) writing at the revision both read: one write goes through, the rest conflict.
    Feeds claim due times this way when several controllers share the file."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first, second = store_from_url(url), store_from_url(url)
    await first.open()
    await second.open()
    try:
        rev = await first.entities.put("ns/a", entity("ns", "a"), None)
        writes = [
            s.entities.put("ns/a", entity("ns", "a", v=i), rev)
            for i in range(6)
            for s in (first, second)
        ]
        results = await asyncio.gather(*writes, return_exceptions=True)
        assert sum(isinstance(r, str) for r in results) == 1, results
        assert all(isinstance(r, str | Conflict) for r in results)
        creates = [s.entities.put("ns/b", entity("ns", "b"), None) for s in (first, second)]
        created = await asyncio.gather(*creates, return_exceptions=True)
        assert sorted(type(r).__name__ for r in created) == ["Conflict", "str"]
    finally:
        await first.close()
        await second.close()


async def test_a_store_from_before_usage_gets_its_records_counted(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the activations table as it was before usage
        db.execute(
            "CREATE TABLE activations (id TEXT PRIMARY KEY, namespace TEXT NOT NULL,"
            " name TEXT NOT NULL, start INTEGER NOT NULL, doc BLOB NOT NULL)"
        )
        old = activation("ns", "o" * 32, 10, "ns/a", duration=4)
        old["annotations"].append({"key": "limits", "value": {"memory": 512}})
        db.execute(
            "INSERT INTO activations VALUES (?, ?, ?, ?, ?)",
            (old["activationId"], "ns", "a", 10, json.dumps(old).encode()),
        )
    store = SqliteStore(f"sqlite:///{path}")
    await store.open()
    try:
        await store.activations.put(activation("ns", "n" * 32, 20, "ns/a", duration=6))
        [usage] = await store.activations.usage("ns")
        assert (usage.name, usage.invocations, usage.mb_ms) == ("a", 2, 512 * 4 + 256 * 6)
    finally:
        await store.close()
