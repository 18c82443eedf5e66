"""The SQLite group committer on a real file: where a commit runs, and what it never does.

A journal write someone waits for is committed by the event loop itself when nothing else is
being committed (no thread wake-up on the answer's path), writes of one loop turn share that
commit, a lock held by another connection sends the write to the writer thread instead of
stalling the loop, and the WAL is still checkpointed when only the loop commits.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pywhisk.common.messages import ActivationMessage
from pywhisk.common.store import sqlite_commits
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.common.store.sqlite_commits import GroupCommitter
from pywhisk.common.store.sqlite_journal import SqliteJournal
from tests.support.journal import message, rows
from tests.support.store_docs import activation


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await s.open()
    yield s
    await s.close()


def padded(aid: str, size: int) -> ActivationMessage:
    return message(aid).model_copy(update={"content": {"pad": "x" * size}})


def parts(store: SqliteStore) -> tuple[SqliteJournal, GroupCommitter]:
    assert isinstance(store.journal, SqliteJournal) and store._commits is not None
    return store.journal, store._commits


async def test_an_idle_write_is_committed_on_the_loop(store: SqliteStore, tmp_path: Path) -> None:
    journal, commits = parts(store)
    for i in range(20):
        await journal.accept(message(f"{i:032x}"), 60_000)
        assert f"{i:032x}" in rows(tmp_path / "store.db")  # on disk when it returns
    await journal.answered(activation("guest", "b" * 32, 1))
    assert commits.loop_commits == 21
    assert commits.thread_commits == 0  # the writer thread was never woken for them


async def test_writes_of_one_loop_turn_share_one_commit(store: SqliteStore) -> None:
    journal, commits = parts(store)
    await asyncio.gather(*(journal.accept(message(f"{i:032x}"), 60_000) for i in range(100)))
    assert commits.commits == 1
    assert len(await journal.pending()) == 100


async def test_big_writes_are_committed_beside_the_loop(store: SqliteStore) -> None:
    """A 1 MB payload's accept would hold the loop for milliseconds of page writes: the
    thread makes it, its sqlite calls running beside the loop; a turn's small writes stop
    gathering at LOOP_MAX_BYTES and the rest join the thread's commit."""
    journal, commits = parts(store)
    await journal.accept(padded("b" * 32, 1_000_000), 60_000)
    assert (commits.loop_commits, commits.thread_commits) == (0, 1)
    n = sqlite_commits.LOOP_MAX_BYTES // 1000 * 2  # twice what one commit on the loop takes
    accepts = (journal.accept(padded(f"{i:032x}", 1000), 60_000) for i in range(n))
    await asyncio.gather(*accepts)
    assert commits.loop_commits == 1 and commits.thread_commits >= 2
    assert len(await journal.pending()) == n + 1


async def test_a_held_lock_never_stalls_the_loop(store: SqliteStore, tmp_path: Path) -> None:
    """Another process writing (here: a connection on a thread of its own) holds the lock:
    the write waits for it on the writer thread while the loop goes on serving."""
    journal, commits = parts(store)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with sqlite3.connect(tmp_path / "store.db") as other:
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(10)
            other.rollback()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    await asyncio.to_thread(locked.wait, 10)
    accept = asyncio.create_task(journal.accept(message("a" * 32), 60_000))
    gaps, last = [], time.monotonic()
    for _ in range(40):  # 0.4 s of ticks while the lock is held
        await asyncio.sleep(0.01)
        now = time.monotonic()
        gaps.append(now - last)
        last = now
    assert not accept.done()
    release.set()
    await asyncio.wait_for(accept, 10)
    await asyncio.to_thread(holder.join)
    assert max(gaps) < 0.2, f"the loop stalled {max(gaps):.3f}s"
    assert rows(tmp_path / "store.db") == {"a" * 32: 0}
    assert commits.thread_commits == 1


async def test_the_wal_is_checkpointed_when_only_the_loop_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop's connection never checkpoints; every LOOP_STREAK commits one batch goes to
    the thread, which does. What reached the database file (not only the WAL) shows it."""
    monkeypatch.setattr(sqlite_commits, "LOOP_STREAK", 5)
    monkeypatch.setattr(sqlite_commits, "CHECKPOINT_EVERY", 0.0)
    s = SqliteStore(f"sqlite:///{tmp_path / 'store.db'}")
    await s.open()
    try:
        journal, commits = parts(s)
        for i in range(12):
            await journal.accept(message(f"{i:032x}"), 60_000)
        assert commits.thread_commits == 2 and commits.loop_commits == 10
        await asyncio.sleep(0.1)  # the checkpoint follows the thread's commit
        shutil.copy(tmp_path / "store.db", tmp_path / "file-only.db")  # without its WAL
    finally:
        await s.close()
    with sqlite3.connect(tmp_path / "file-only.db") as copy:
        (count,) = copy.execute("SELECT COUNT(*) FROM journal").fetchone()
    assert count >= 11
