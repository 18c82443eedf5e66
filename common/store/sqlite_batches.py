"""What the SQLite group committer (`sqlite_commits.py`) commits, and how: queued operations,
one transaction per batch, and the two connections that run them.

Consecutive operations with the same statements run as one `executemany` per statement, so
those statements must commute across operations (ours do: a second write of one id keeps the
last). A batch that fails is rolled back, so that no connection keeps the write lock.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Statement = tuple[str, tuple[Any, ...]]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Op:
    sqls: tuple[str, ...]
    params: tuple[tuple[Any, ...], ...]
    retry: bool
    future: asyncio.Future[None] | None
    size: int  # bytes of text and blobs it writes
    seq: int = 0  # 0 until it is queued for the writer thread


def op_of(statements: Sequence[Statement], retry: bool, future: asyncio.Future[None] | None) -> Op:
    params = tuple(p for _, p in statements)
    size = sum(len(v) for row in params for v in row if isinstance(v, bytes | str))
    return Op(tuple(s for s, _ in statements), params, retry, future, size)


def runs(batch: Sequence[Op]) -> list[list[Op]]:
    """Consecutive operations with the same statements, grouped."""
    grouped: list[list[Op]] = []
    for op in batch:
        if grouped and grouped[-1][0].sqls == op.sqls:
            grouped[-1].append(op)
        else:
            grouped.append([op])
    return grouped


def commit(db: sqlite3.Connection, batch: Sequence[Op]) -> Exception | None:
    """Run `batch` in one transaction; the error if it was rolled back instead. `db` is in
    autocommit mode (`connector`): a lone statement, the usual batch on the event loop, is
    its own transaction, which spares preparing BEGIN and COMMIT (~12 of ~50 µs a commit
    costs inside a busy server, where SQLite's code is no longer in the CPU's caches)."""
    try:
        if len(batch) == 1 and len(batch[0].sqls) == 1:
            db.execute(batch[0].sqls[0], batch[0].params[0])
            return None
        db.execute("BEGIN")
        for run in runs(batch):
            for i, sql in enumerate(run[0].sqls):
                if len(run) == 1:
                    db.execute(sql, run[0].params[i])
                else:
                    db.executemany(sql, [op.params[i] for op in run])
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        try:
            db.rollback()  # an open transaction would hold the write lock
        except sqlite3.Error:
            log.exception("rolling back a failed commit failed")
        return exc
    return None


def checkpoint(db: sqlite3.Connection) -> None:
    """Copy what the WAL holds into the database file, beside readers and writers (PASSIVE:
    it waits for nobody, and what it cannot copy yet waits for the next one)."""
    try:
        db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:
        log.warning("checkpointing the WAL failed: %s", exc)


class Connect(Protocol):
    def __call__(self, *, for_loop: bool = False) -> sqlite3.Connection: ...


def connector(path: str, *, uri: bool = False) -> Connect:
    """How the writer thread opens its connections (in the thread: opening does I/O).

    Neither checkpoints when it commits (the thread does, apart: `checkpoint`), so a commit
    is a few page writes to the WAL and nothing more. The thread's own waits up to 5 s for a
    lock another connection holds; the event loop's (`for_loop`) never waits (busy timeout
    0: the batch goes to the thread instead)."""

    def connect(*, for_loop: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(
            path, uri=uri, timeout=5.0, isolation_level=None, check_same_thread=not for_loop
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA wal_autocheckpoint=0")
        if for_loop:
            db.execute("PRAGMA busy_timeout=0")
        return db

    return connect
