"""The accepted-activations journal on a real SQLite file, and the restart that settles it.

Durable means: on return, another connection to the file (another process, or this one
after a kill) sees it. Records delete their entries in the same commit; concurrent journal
writes share commits; a journal write the disk refuses is refused to its caller, while the
records queued beside it are kept and written once the disk takes them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.messages import ActivationMessage, invoker_topic
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.base import StoreError
from pywhisk.common.store.journal import Stage
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.common.store.sqlite_journal import SqliteJournal
from pywhisk.controller.core.recovery import recover
from pywhisk.controller.core.replay import EXPIRED, INTERRUPTED, Decision
from pywhisk.controller.core.services import Services
from tests.support.journal import message, rows
from tests.support.store_docs import activation


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await s.open()
    yield s
    await s.close()


def journal_of(store: SqliteStore) -> SqliteJournal:
    assert isinstance(store.journal, SqliteJournal)
    return store.journal


async def test_each_write_is_on_disk_when_it_returns(store: SqliteStore, tmp_path: Path) -> None:
    path, journal = tmp_path / "store.db", journal_of(store)
    await journal.accept(message("a" * 32), 60_000)
    assert rows(path) == {"a" * 32: Stage.ACCEPTED}
    await journal.start("a" * 32)
    assert rows(path) == {"a" * 32: Stage.STARTED}
    await journal.answered(activation("guest", "b" * 32, 1))
    assert rows(path) == {"a" * 32: Stage.STARTED, "b" * 32: Stage.ANSWERED}
    # A record removes its entry in the commit that writes it.
    await store.activations.put(activation("guest", "a" * 32, 1))
    await store.activations.settle()
    assert rows(path) == {"b" * 32: Stage.ANSWERED}


async def test_later_writes_never_undo_an_answer(store: SqliteStore, tmp_path: Path) -> None:
    journal = journal_of(store)
    await journal.answered(activation("guest", "a" * 32, 1))
    await journal.accept(message("a" * 32), 60_000, started=True)  # a late 202's accept
    await journal.start("a" * 32)
    await journal.start("c" * 32)  # never journaled (a blocking one): nothing to mark
    assert rows(tmp_path / "store.db") == {"a" * 32: Stage.ANSWERED}
    [entry] = await journal.pending()
    assert entry.record is not None and entry.record["activationId"] == "a" * 32


async def test_concurrent_writes_share_commits(store: SqliteStore) -> None:
    journal = journal_of(store)
    commits = store._commits
    assert commits is not None
    before = commits.commits
    await asyncio.gather(*(journal.accept(message(f"{i:032x}"), 60_000) for i in range(200)))
    shared = commits.commits - before
    assert shared <= 20, f"200 accepts took {shared} commits"
    assert len(await journal.pending()) == 200


async def test_a_refused_accept_fails_and_records_beside_it_are_kept(
    store: SqliteStore, tmp_path: Path
) -> None:
    journal = journal_of(store)
    other = sqlite3.connect(tmp_path / "store.db", check_same_thread=False)
    for table in ("journal", "activations"):  # what a full disk would refuse
        other.execute(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )
    other.commit()
    try:
        await store.activations.put(activation("guest", "r" * 32, 1))
        with pytest.raises(StoreError, match="disk I/O error"):
            await journal.accept(message("a" * 32), 60_000)
        assert await store.activations.get("guest", "r" * 32) is None  # kept, not lost
        await asyncio.to_thread(
            other.executescript, "DROP TRIGGER refuse_journal; DROP TRIGGER refuse_activations;"
        )
        await asyncio.wait_for(store.activations.settle(), 30)
        assert await store.activations.get("guest", "r" * 32) is not None
        assert await journal.pending() == []
    finally:
        other.close()


async def test_a_restart_settles_each_entry_by_the_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    before = SqliteStore(url)
    await before.open()
    journal = journal_of(before)
    long_ago = int(time.time() * 1000) - 3_600_000
    await journal.accept(message("1" * 32), 60_000)  # never ran: runs
    await journal.accept(message("2" * 32, received=long_ago), 60_000)  # too late: expired
    await journal.accept(message("3" * 32), 60_000)
    await journal.start("3" * 32)  # was running: lost
    await journal.answered(activation("guest", "4" * 32, 1))  # answered: written
    await journal.accept(message("5" * 32), 60_000)
    await before.activations.put(activation("guest", "5" * 32, 1))  # recorded: settled
    await before.activations.settle()
    await journal.accept(message("5" * 32), 60_000)  # (a late accept after its record)
    await before.close()

    store, queue = SqliteStore(url), MemoryQueue()
    await store.open()
    consumer = await queue.consumer(invoker_topic(0), "invoker0")
    services = Services(Settings(data_dir=tmp_path), store, queue)
    try:
        with caplog.at_level(logging.ERROR, logger="pywhisk"):
            decisions = await recover(services, journal_of(store))
        assert decisions == {
            Decision.RUN: 1,
            Decision.EXPIRED: 1,
            Decision.LOST: 1,
            Decision.ANSWERED: 1,
            Decision.SETTLED: 1,
        }
        async with asyncio.timeout(5):
            published = await anext(aiter(consumer))
        assert ActivationMessage.from_bytes(published).activation_id == "1" * 32
        assert services.tracker.in_flight("guest") == 1
        expired = await store.activations.get("guest", "2" * 32)
        lost = await store.activations.get("guest", "3" * 32)
        assert expired is not None and expired["response"]["result"] == {"error": EXPIRED}
        assert lost is not None and lost["response"]["result"] == {"error": INTERRUPTED}
        assert await store.activations.get("guest", "4" * 32) is not None
        # The two whisk internal errors are each logged as one, naming the activation.
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert [line.split(" (")[0] for line in errors] == [
            f"whisk internal error: activation {'2' * 32}",
            f"whisk internal error: activation {'3' * 32}",
        ]
        assert errors[0].endswith(
            f"{EXPIRED} (cause: it still waited to run when the server last stopped)"
        )
        assert errors[1].endswith(
            f"{INTERRUPTED} (cause: it had started when the server last stopped)"
        )
        # Only the one running again stays journaled, until its record is written.
        assert [e.activation_id for e in await journal_of(store).pending()] == ["1" * 32]
    finally:
        await consumer.close()
        await services.tracker.stop()
        await store.close()
