"""A damaged SQLite store fails as the store family does: `StoreError`, the one error its
callers catch (a read answered without, a write retried), never sqlite3's own exceptions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pywhisk.common.entities import Identity
from pywhisk.common.ids import new_auth
from pywhisk.common.store.base import StoreError
from pywhisk.common.store.sqlite import SqliteStore

ENTITY = {"namespace": "guest", "name": "a", "entityType": "action", "updated": 1}


async def test_what_sqlite_refuses_is_a_store_error(tmp_path: Path) -> None:
    uuid, key = new_auth()
    path = tmp_path / "pywhisk.db"
    store = SqliteStore(f"sqlite:///{path}")
    await store.open()
    try:
        await store.entities.put("guest/a", ENTITY, None)
        # Another process damages the file's tables behind the store's back.
        with sqlite3.connect(path) as other:
            other.executescript("DROP TABLE entities; DROP TABLE subjects;")
        with pytest.raises(StoreError, match="no such table"):
            await store.entities.get("guest/a")
        with pytest.raises(StoreError, match="no such table"):
            await store.entities.put("guest/b", ENTITY, None)
        with pytest.raises(StoreError, match="no such table"):
            await store.subjects.by_namespace("guest")
        with pytest.raises(StoreError, match="no such table"):
            await store.subjects.put(
                Identity(namespace="guest", subject="guest", uuid=uuid, key=key)
            )
    finally:
        await store.close()


async def test_a_file_that_is_no_database_is_a_store_error_at_open(tmp_path: Path) -> None:
    path = tmp_path / "pywhisk.db"
    path.write_bytes(b"this is not a database, only text that happens to be here\n" * 100)
    with pytest.raises(StoreError):
        await SqliteStore(f"sqlite:///{path}").open()
