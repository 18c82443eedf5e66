"""The queue contract against the in-process queue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pywhisk.common.queue.base import queue_from_url
from pywhisk.common.queue.memory import MemoryQueue
from tests.contract.queue_behavior import QueueBehavior


@pytest.fixture
async def queue() -> AsyncIterator[MemoryQueue]:
    q = queue_from_url("memory://")
    assert isinstance(q, MemoryQueue)
    await q.open()
    yield q
    await q.close()


class TestMemoryQueue(QueueBehavior):
    pass
