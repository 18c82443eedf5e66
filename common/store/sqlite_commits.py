"""Group commits for the SQLite store: a write someone waits for is committed at once when
nothing else is being committed, and joins the next shared commit when something is; writes
nobody waits for are batched by a writer thread.

Why. An accepted activation must be on disk before its 202 goes out, and a blocking answer
before what rebuilds its record is. A commit on a thread costs two thread wake-ups per
request: on these loaded 2-core machines each waits for a core, and the thread also waits for
the event loop to let go of the GIL. Measured beside a server without the journal, that was
+0.23-0.35 ms on the warm blocking p50 and +0.6-0.9 ms on the 202's, for a commit of ~50 µs
of CPU.
So the committer works as a write-ahead log's group commit does: whoever comes first
commits at once, and those who come while a commit runs join the next one.

- On the loop, when idle. A waited write submitted while the writer thread neither commits
  nor holds waited writes is committed by the event loop itself, at the end of the loop's
  current turn, with every other such write of that turn (under load a turn handles several
  requests: they share the commit), up to `LOOP_MAX_BYTES` a commit. Its connection never
  waits: if the lock is taken (the thread commits, another connection writes), or anything
  else fails, the batch goes to the thread. It never checkpoints either (the thread does,
  apart from its commits, with their fsyncs). So the loop spends one short commit (a few page writes to the WAL: ~20 µs in a
  tight loop, ~50 µs of CPU inside a busy server, where SQLite's code has left the CPU's
  caches) and no thread wake-up at all: +0.04-0.06 ms on that p50 and +0.05 ms on the 202's
  in the same runs; +0.05-0.21 ms on the blocking p50 in `python -m bench.journal` (README
  "Durability").
- On the writer thread, under load. Otherwise the write is queued for the thread, which
  takes everything queued since it last looked, commits it at once and releases that
  commit's waiters with one wake-up of the event loop. The loop never waits for the thread
  but by awaiting a future.

Statements nobody waits for (records written behind, after an activation's logs) always go
to the thread and wait up to `LAZY_DELAY` for company unless something urgent is queued, as
the write-behind they replace did: a burst of activations costs one commit, not hundreds.
Waiting for them (`settled`: a read, or the invoker settling a record whose result is kept
nowhere else) commits what is queued at once.

Order. Operations reach the thread in the order they were submitted (a write still to be
committed on the loop is committed, or handed over, before anything after it is queued), and
run in that order, but for one exception: waited ones go first, at once, in a commit of their
own, ahead of the lazy ones queued before them (so a blocking answer's commit does not carry
the previous activation's whole record); a commit on the loop overtakes queued lazy ones
likewise, never a waited one. Ours allow it: each operation touches one activation's rows,
and the lazy one (a record, deleting the entry) only ever comes after that activation's
waited ones, or removes what a late one added.

Durability. WAL with `synchronous=NORMAL`: a commit has reached the OS when it returns, so it
survives the platform's process dying (kill -9, the OOM killer) but not a power cut or a
kernel crash, which may take the commits since the last checkpoint with them. Both paths
give the same promise: a waiter is released only once its commit returned.

Failures. A batch that fails on the thread (disk full, I/O error, another process holding
the lock past the busy timeout) is rolled back; its `retry` operations (records: the store is
their only keeper once the invoker has answered) go back to the front of the queue and are
retried with backoff; the others fail their waiters, so an activation that cannot be made
durable is refused rather than promised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from typing import Any

from pywhisk.common.store.base import StoreError
from pywhisk.common.store.sqlite_batches import (
    Connect,
    Op,
    Statement,
    checkpoint,
    commit,
    op_of,
)

LAZY_DELAY = 0.02  # s a statement nobody waits for may wait for company
RETRY_MAX = 5.0  # s between retries of a failing batch, at most
CLOSE_ATTEMPTS = 4
# The thread checkpoints the WAL after a commit of its own at most this often (s), outside
# the commit lock: a checkpoint copies pages and fsyncs (20-30 ms for 3,000 pages here),
# while commits on the loop go on. Neither connection checkpoints by itself.
CHECKPOINT_EVERY = 1.0
# Commits on the loop in a row before one batch goes to the thread anyway, so that the WAL
# is checkpointed even when no record is written for long.
LOOP_STREAK = 500
# Bigger waited writes go to the thread, whose sqlite calls run beside the loop: a 1 MB
# payload's accept is ~7 ms of page writes, a stall for every request if made on the loop
# (64 KB: 0.1 ms; 256 KB: 1.4 ms, measured alone).
LOOP_MAX_BYTES = 64 * 1024

log = logging.getLogger(__name__)


class CommitFailed(StoreError):
    """The statements could not be committed (or the committer is closed)."""


class GroupCommitter:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._cond = threading.Condition()
        # Held by whoever commits (thread or loop): the loop only ever tries it.
        self._writing = threading.Lock()
        # Shared with the thread, under `_cond`:
        self._queue: list[Op] = []
        self._lazy_since: float | None = None  # when the oldest queued lazy operation came
        self._waited = 0  # queued operations someone waits for
        self._flush_all = False  # a reader or settler waits for everything queued
        self._closing = False
        self._taken = 0  # the highest seq taken so far (the thread's own)
        # The event loop's own:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._on_loop: sqlite3.Connection | None = None  # made by the thread, used by the loop
        self._now: list[Op] = []  # waited operations to commit at the end of this loop turn
        self._now_bytes = 0  # what they write
        self._streak = 0  # commits on the loop since the thread's last
        self._seq = 0  # operations queued for the thread so far
        self._attempted = 0  # every operation up to this seq was tried at least once
        self._written = 0  # every one up to this seq is committed (or failed, not retried)
        self._retrying: set[int] = set()  # seqs of failed operations queued again
        self._watchers: list[tuple[int, bool, asyncio.Future[None]]] = []
        self._closed = False
        # Successful commits, for tests and benchmarks (each counter has one writer).
        self.thread_commits = 0
        self.loop_commits = 0

    @property
    def commits(self) -> int:
        return self.thread_commits + self.loop_commits

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
        self._commit_now()
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
        future = self._loop.create_future() if wait else None
        op = op_of(statements, retry, future)
        if wait and self._now_bytes + op.size <= LOOP_MAX_BYTES and self._idle():
            if not self._now:
                self._loop.call_soon(self._commit_now)
            self._now.append(op)
            self._now_bytes += op.size
        else:
            self._commit_now()  # what came before goes first
            self._enqueue([op])
        return future

    async def settled(self, *, written: bool) -> None:
        """Return once everything queued so far was tried (`written=False`: reads see what
        could be written, without waiting out a failing disk) or is written; what is queued
        is committed now."""
        self._commit_now()
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

    def _idle(self) -> bool:
        """The thread neither commits nor holds waited operations (read without its lock: a
        stale answer only sends a batch the slower way), nor is it due to take one."""
        return (
            self._on_loop is not None
            and not self._waited
            and self._streak < LOOP_STREAK
            and not self._writing.locked()
        )

    def _commit_now(self) -> None:
        """Commit on the loop what this turn submitted, if the lock is free at once; else
        (or if it fails) it goes to the thread, whose failure handling is the one there is."""
        if not self._now:
            return
        batch, self._now, self._now_bytes = self._now, [], 0
        assert self._on_loop is not None
        if (
            not self._waited
            and self._streak < LOOP_STREAK
            and self._writing.acquire(blocking=False)
        ):
            try:
                error = commit(self._on_loop, batch)
            finally:
                self._writing.release()
            if error is None:
                self.loop_commits += 1
                self._streak += 1
                for op in batch:
                    if op.future is not None and not op.future.done():
                        op.future.set_result(None)
                return
            log.debug("a commit on the loop failed (%s); the writer thread takes it", error)
        self._enqueue(batch)

    def _enqueue(self, ops: list[Op]) -> None:
        waited = 0
        for op in ops:
            self._seq += 1
            op.seq = self._seq
            waited += op.future is not None
        with self._cond:
            was_empty = not self._queue
            self._queue.extend(ops)
            self._waited += waited
            if waited < len(ops) and self._lazy_since is None:
                self._lazy_since = time.monotonic()
            if waited or was_empty:  # else the thread is already awake or timing its wait
                self._cond.notify()

    def _settle(self, batch: list[Op], tried: int, error: Exception | None) -> None:
        self._streak = 0
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
        try:
            self._on_loop = self._connect(for_loop=True)
        except sqlite3.Error as exc:
            db.close()
            ready.set_exception(exc)
            return
        ready.set_result(None)
        assert self._loop is not None
        delay = 0.0
        failed_closing = 0  # failures since the store began to close
        checkpointed = time.monotonic()
        try:
            while (taken := self._take(delay)) is not None:
                batch, tried = taken
                try:  # `_take` took the lock
                    error = commit(db, batch)
                finally:
                    self._writing.release()
                give_up = False
                if error is None:
                    delay = 0.0
                    self.thread_commits += 1
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
                if error is None and time.monotonic() - checkpointed >= CHECKPOINT_EVERY:
                    checkpoint(db)
                    checkpointed = time.monotonic()
        finally:
            db.close()
            if self._on_loop is not None:  # the loop is done with it: close() committed its last
                self._on_loop.close()

    def _take(self, backoff: float) -> tuple[list[Op], int] | None:
        """The next batch, and the seq up to which every operation will have been tried once
        it is, with `_writing` held; None when closing with nothing left. Waited operations
        go at once, alone: the lazy ones queued before them keep waiting for company (see
        "Order" above). Everything goes when a reader waits, when the oldest lazy one has
        waited `LAZY_DELAY`, or when the store closes."""
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
                # Taken before the queue's lock is let go: a loop that sees no waited
                # operation queued must also see the lock held, or it would overtake these.
                self._writing.acquire()
                self._taken = max(self._taken, batch[-1].seq)
                # The queue stays in seq order: below its head, everything was taken.
                return batch, (self._queue[0].seq - 1) if self._queue else self._taken
