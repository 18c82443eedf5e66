"""What feed tests share: a real SQLite store and a recorder standing in for trigger fires."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from common.store.base import Store, store_from_url
from controller.feeds.firing import Refusal
from controller.feeds.registry import FeedRecord


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
