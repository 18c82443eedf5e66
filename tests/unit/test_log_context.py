"""Which activation a platform log line names: the one being handled, and none for work that
outlives the activation that happened to start it (a batch writer's retries)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from pywhisk.common.logcontext import ContextFilter, activation_context
from pywhisk.common.store.base import StoreError
from pywhisk.common.store.writebehind import WriteBehind


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept() -> Iterator[Kept]:
    handler = Kept()
    logger = logging.getLogger("pywhisk.common.store.writebehind")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


class FailingOnce(WriteBehind):
    """Records of several activations, whose first flush fails."""

    def __init__(self) -> None:
        self._pending: list[str] = []
        self._lock = asyncio.Lock()
        self.flushes = 0

    def put(self, activation_id: str) -> None:
        self._pending.append(activation_id)
        self._wake()

    async def flush(self) -> None:
        self.flushes += 1
        if self.flushes == 1:
            raise StoreError("the store is away")
        self._pending.clear()


async def test_a_batch_writer_started_by_an_activation_does_not_name_it(kept: Kept) -> None:
    writer = FailingOnce()
    with activation_context("a" * 32, "tid-a"):
        writer.put("a" * 32)  # starts the flusher
        with activation_context("b" * 32, "tid-b"):
            writer.put("b" * 32)
    await writer.settle()
    (retry,) = [r for r in kept.records if "failed" in r.getMessage()]
    assert retry.getMessage().startswith("writing 2 activation records failed")
    # About both records, so about neither activation: no ids, not the first one's.
    assert (retry.activation_id, retry.transid) == ("", "")  # type: ignore[attr-defined]


async def test_lines_inside_an_activation_name_it_and_nested_ones_their_own(kept: Kept) -> None:
    log = logging.getLogger("pywhisk.common.store.writebehind")
    with activation_context("a" * 32, "tid"):
        log.warning("outer")
        with activation_context("b" * 32):  # a sequence's component: same transaction
            log.warning("inner")
        log.warning("outer again")
    log.warning("outside")
    got = [(r.getMessage(), r.activation_id, r.transid) for r in kept.records]  # type: ignore[attr-defined]
    assert got == [
        ("outer", "a" * 32, "tid"),
        ("inner", "b" * 32, "tid"),
        ("outer again", "a" * 32, "tid"),
        ("outside", "", ""),
    ]
