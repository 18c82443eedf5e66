"""Group commits for the SQLite store: one writer thread with its own connection commits, in
one transaction, everything queued while its previous commit ran.

Why. An accepted activation must be on disk before its 202 goes out, and a blocking answer
before what rebuilds its record is. A commit per request would put a thread hop and a commit
on every request and line them up one behind the other. Here a request queues its statements
and waits; the writer takes everything queued since it last looked, commits it at once and
releases that commit's waiters with one wake-up of the event loop. Under load N requests
share one commit; a lone request pays a hop to the thread, a commit and a hop back (about
0.1 ms on these 2-core machines, see README "Durability"). No sqlite call runs on the event
loop, and the loop never waits for the thread but by awaiting a future.

Statements nobody waits for (records written behind, after an activation's logs) wait up to
`LAZY_DELAY` for company unless something urgent is queued, as the write-behind they replace
did: a burst of activations costs one commit, not hundreds.

Order. Operations run in the order they were queued, but for one exception: waited ones go
at once, in a commit of their own, ahead of the lazy ones queued before them (so a blocking
answer's commit does not carry the previous activation's whole record). Ours allow it: each
operation touches one activation's rows, and the lazy one (a record, deleting the entry)
only ever comes after that activation's waited ones, or removes what a late one added.
Consecutive operations with the same statements run as one `executemany` per statement, so
those statements must commute across operations (ours do: a second write of one id keeps
the last).

Durability. WAL with `synchronous=NORMAL`: a commit has reached the OS when it returns, so it
survives the platform's process dying (kill -9, the OOM killer) but not a power cut or a
kernel crash, which may take the commits since the last checkpoint with them.

Failures. A batch that fails (disk full, I/O error, another process holding the lock past the
busy timeout) is rolled back; its `retry` operations (records: the store is their only keeper
once the invoker has answered) go back to the front of the queue and are retried with backoff;
the others fail their waiters, so an activation that cannot be made durable is refused rather
than promised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pywhisk.common.store.base import StoreError

LAZY_DELAY = 0.02  # s a statement nobody waits for may wait for company
RETRY_MAX = 5.0  # s between retries of a failing batch, at most
CLOSE_ATTEMPTS = 4

Statement = tuple[str, tuple[Any, ...]]

log = logging.getLogger(__name__)


class CommitFailed(StoreError):
    """The statements could not be committed (or the committer is closed)."""


@dataclass(slots=True)
class _Op:
    sqls: tuple[str, ...]
    params: tuple[tuple[Any, ...], ...]
    retry: bool
    future: asyncio.Future[None] | None
    seq: int


def _runs(batch: Sequence[_Op]) -> list[list[_Op]]:
    """Consecutive operations with the same statements, grouped."""
    runs: list[list[_Op]] = []
    for op in batch:
        if runs and runs[-1][0].sqls == op.sqls:
            runs[-1].append(op)
        else:
            runs.append([op])
    return runs


class GroupCommitter:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._cond = threading.Condition()
        # Shared with the thread, under `_cond`:
        self._queue: list[_Op] = []
        self._lazy_since: float | None = None  # when the oldest queued lazy operation came
        self._waited = 0  # queued operations someone waits for
        self._flush_all = False  # a reader or settler waits for everything queued
        self._closing = False
        self._taken = 0  # the highest seq taken so far (the thread's own)
        # The event loop's own:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._seq = 0  # operations queued so far
        self._attempted = 0  # every operation up to this seq was tried at least once
        self._written = 0  # every one up to this seq is committed (or failed, not retried)
        self._retrying: set[int] = set()  # seqs of failed operations queued again
        self._watchers: list[tuple[int, bool, asyncio.Future[None]]] = []
        self._closed = False
        self.commits = 0  # successful ones, for tests and benchmarks

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="sqlite-commits", daemon=True
        )
        self._thread.start()
        await asyncio.wrap_future(ready)

    async def close(self) -> None:
        """Commit what is queued (a few attempts), then stop the thread."""
        if self._thread is None or self._closed:
            return
        self._closed = True
        with self._cond:
            self._closing = True
            self._cond.notify()
        await asyncio.to_thread(self._thread.join)
        for op in self._queue:  # what the last attempts could not write
            if op.future is not None and not op.future.done():
                op.future.set_exception(CommitFailed("the store is closed"))
        if self._queue:
            log.error("%d activation writes could not be committed and are lost", len(self._queue))
        for _, _, future in self._watchers:
            if not future.done():
                future.set_result(None)

    # -- the event loop's side ---------------------------------------------------------------

    def submit(self, statements: Sequence[Statement], *, retry: bool, wait: bool) -> Any:
        """Queue statements to commit together; with `wait`, a future set once they are
        committed (CommitFailed if not). `retry` operations are never failed: they are
        retried until written."""
        if self._closed or self._loop is None:
            raise CommitFailed("the store is closed")
        assert not (retry and wait), "a waiter of a retried write could wait forever"
        self._seq += 1
        future = self._loop.create_future() if wait else None
        op = _Op(
            tuple(s for s, _ in statements),
            tuple(p for _, p in statements),
            retry,
            future,
            self._seq,
        )
        with self._cond:
            was_empty = not self._queue
            self._queue.append(op)
            if wait:
                self._waited += 1
            elif self._lazy_since is None:
                self._lazy_since = time.monotonic()
            if wait or was_empty:  # else the thread is already awake or timing its wait
                self._cond.notify()
        return future

    async def settled(self, *, written: bool) -> None:
        """Return once everything queued so far was tried (`written=False`: reads see what
        could be written, without waiting out a failing disk) or is written."""
        ticket = self._seq
        if (self._written if written else self._attempted) >= ticket:
            return
        assert self._loop is not None
        future: asyncio.Future[None] = self._loop.create_future()
        self._watchers.append((ticket, written, future))
        with self._cond:
            self._flush_all = True
            self._cond.notify()
        await future

    def _settle(self, batch: list[_Op], tried: int, error: Exception | None) -> None:
        self._attempted = max(self._attempted, tried)
        if error is None:
            self._retrying.difference_update(op.seq for op in batch)
        else:
            self._retrying.update(op.seq for op in batch if op.retry)
        # Tried and not queued again: committed, or failed for good.
        self._written = min(self._retrying, default=self._attempted + 1) - 1
        for op in batch:
            if op.future is None or op.future.done():
                continue
            if error is None:
                op.future.set_result(None)
            else:
                op.future.set_exception(CommitFailed(str(error)))
        waiting = []
        for ticket, written, future in self._watchers:
            if (self._written if written else self._attempted) >= ticket:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((ticket, written, future))
        self._watchers = waiting

    # -- the writer thread -------------------------------------------------------------------

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        try:
            db = self._connect()
        except sqlite3.Error as exc:
            ready.set_exception(exc)
            return
        ready.set_result(None)
        assert self._loop is not None
        delay = 0.0
        failed_closing = 0  # failures since the store began to close
        try:
            while (taken := self._take(delay)) is not None:
                batch, tried = taken
                error = self._commit(db, batch)
                give_up = False
                if error is None:
                    delay = 0.0
                    self.commits += 1
                else:
                    delay = min(max(delay * 4, LAZY_DELAY), RETRY_MAX)
                    retried = [op for op in batch if op.retry]
                    log.warning(
                        "committing %d activation writes failed (%s); %d kept, retrying in %.2fs",
                        len(batch),
                        error,
                        len(retried),
                        delay,
                    )
                    with self._cond:
                        if retried:  # due again once the backoff is over
                            self._queue[:0] = retried
                            self._lazy_since = time.monotonic() - LAZY_DELAY
                        if self._closing:
                            failed_closing += 1
                            give_up = failed_closing >= CLOSE_ATTEMPTS
                self._loop.call_soon_threadsafe(self._settle, batch, tried, error)
                if give_up:
                    break
        finally:
            db.close()

    def _take(self, backoff: float) -> tuple[list[_Op], int] | None:
        """The next batch, and the seq up to which every operation will have been tried once
        it is; None when closing with nothing left. Waited operations go at once, alone: the
        lazy ones queued before them keep waiting for company (see "Order" above). Everything
        goes when a reader or settler waits, when the oldest lazy one has waited `LAZY_DELAY`,
        or when the store closes."""
        with self._cond:
            if backoff:  # after a failure; a waiter cuts it short
                until = time.monotonic() + backoff
                while (
                    not (self._waited or self._flush_all) and (left := until - time.monotonic()) > 0
                ):
                    self._cond.wait(left)
            while True:
                if not self._queue:
                    if self._closing:
                        return None
                    self._flush_all = False  # a watcher with nothing left to wait for
                    self._cond.wait()
                    continue
                due = self._lazy_since is not None and (
                    time.monotonic() - self._lazy_since >= LAZY_DELAY
                )
                if self._flush_all or self._closing or due or self._waited == len(self._queue):
                    batch, self._queue = self._queue, []
                    self._lazy_since = None
                    self._flush_all = False
                elif self._waited:
                    batch = [op for op in self._queue if op.future is not None]
                    self._queue = [op for op in self._queue if op.future is None]
                else:
                    assert self._lazy_since is not None
                    self._cond.wait(LAZY_DELAY - (time.monotonic() - self._lazy_since))
                    continue
                self._waited = 0
                self._taken = max(self._taken, batch[-1].seq)
                # The queue stays in seq order: below its head, everything was taken.
                return batch, (self._queue[0].seq - 1) if self._queue else self._taken

    @staticmethod
    def _commit(db: sqlite3.Connection, batch: list[_Op]) -> Exception | None:
        try:
            for run in _runs(batch):
                for i, sql in enumerate(run[0].sqls):
                    if len(run) == 1:
                        db.execute(sql, run[0].params[i])
                    else:
                        db.executemany(sql, [op.params[i] for op in run])
            db.commit()
        except sqlite3.Error as exc:
            try:
                db.rollback()  # an open transaction would hold the write lock
            except sqlite3.Error:
                log.exception("rolling back a failed commit failed")
            return exc
        return None


def connector(path: str, *, uri: bool = False) -> Callable[[], sqlite3.Connection]:
    """How the writer thread opens its connection (in the thread: sqlite3 connections stay on
    the thread that made them)."""

    def connect() -> sqlite3.Connection:
        db = sqlite3.connect(path, uri=uri, timeout=5.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    return connect
