"""Write-behind for activation records, shared by the store backends.

`put` queues a record and wakes one flusher task, which writes what is queued every
`FLUSH_DELAY` seconds in one batch (a burst of activations costs one write, not one each)
and keeps going while records arrive. The invoker has already answered when it stores a
record, so the queue is the record's only keeper: a failed flush leaves its records queued
and is retried with backoff. Reads flush first, so a record is readable from this process
as soon as `put` returned.

A backend supplies `_pending` (anything sized), `_lock` (held while writing) and `flush()`
(write what is queued; on failure requeue it and raise).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sized

from pywhisk.common.logcontext import without_ids
from pywhisk.common.retry import Backoff, retry

FLUSH_DELAY = 0.02
RETRY_MAX = 5.0
CLOSE_ATTEMPTS = 4
# A failing store: pauses grow fourfold up to RETRY_MAX, for as long as it takes. At close
# the process is going away: a few attempts, then the loss is logged with its size.
_FAILING = Backoff(FLUSH_DELAY * 4, factor=4, cap=RETRY_MAX)
_CLOSING = Backoff(FLUSH_DELAY, factor=4, retries=CLOSE_ATTEMPTS - 1)

log = logging.getLogger(__name__)


class WriteBehind:
    _pending: Sized
    _lock: asyncio.Lock
    _flusher: asyncio.Task[None] | None = None
    # For `settle`: records put so far, how many of them are surely written, and the event
    # that wakes settlers after a flush.
    _queued: int = 0
    _written: int = 0
    _flushed: asyncio.Event | None = None

    async def flush(self) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        """Called once per `put`, after the record is queued."""
        self._queued += 1
        self._start_flusher()

    def _start_flusher(self) -> None:
        if self._flusher is None or self._flusher.done():
            # Records of many activations: its lines name none of them.
            self._flusher = asyncio.get_running_loop().create_task(
                self._flush_while_pending(), context=without_ids()
            )

    async def _flush_while_pending(self) -> None:
        # Records queued while a flush is under way saw this task running and rely on it.
        while len(self._pending):
            await asyncio.sleep(FLUSH_DELAY)
            await retry(self._flush_counted, _FAILING, before_pause=self._failed)

    def _failed(self, error: BaseException, tries: int, pause: float) -> None:
        log.warning(
            "writing %d activation records failed (%s); retrying in %.2fs",
            len(self._pending),
            error,
            pause,
        )

    async def _flush_counted(self) -> None:
        # Every record queued before this call is written once it returns: those already
        # queued are swapped out by this flush, or by one that held the lock before it.
        upto = self._queued
        await self.flush()
        if upto > self._written:
            self._written = upto
            if self._flushed is not None:
                self._flushed.set()
                self._flushed = None

    async def settle(self) -> None:
        """Wait until every record `put` so far is written (however many retries it takes)."""
        ticket = self._queued
        while self._written < ticket:
            if self._flushed is None:
                self._flushed = asyncio.Event()
            await self._flushed.wait()

    async def _flush_for_read(self) -> None:
        # A read must not fail because a write did: it answers from what is stored, and the
        # background flusher keeps retrying the rest.
        if not len(self._pending) and not self._lock.locked():
            return
        try:
            await self._flush_counted()
        except Exception:
            self._start_flusher()

    async def close(self) -> None:
        """Write what is queued before the connection closes; the process is going away, so
        a few attempts, then the loss is logged with its size."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        try:
            await retry(self._flush_counted, _CLOSING, before_pause=_close_failed)
            return
        except Exception:
            log.exception("writing activation records at close failed, for the last time")
        log.error("%d activation records could not be written and are lost", len(self._pending))


def _close_failed(error: BaseException, tries: int, pause: float) -> None:
    log.error("writing activation records at close failed (attempt %d): %s", tries, error)
