"""The store contract against SQLite, plus what only a file-backed store promises."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from common.store.base import store_from_url
from common.store.sqlite import SqliteStore
from tests.contract.store_behavior import StoreBehavior, activation, entity


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await s.open()
    yield s
    await s.close()


class TestSqliteStore(StoreBehavior):
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


def test_unknown_scheme_names_known_ones() -> None:
    with pytest.raises(ValueError, match="sqlite://"):
        store_from_url("mongo://x")
