"""The invoker: consumes `invoker{N}`, runs each activation in a container, answers on
`completed{controller}` and records the activation (docs/openwhisk-compatibility.md §8.2, §8.4).

Critical path per activation: cached action → pool (warm container, or cold start) → /run →
completion message. Everything else (log collection, the record write, container removal)
runs in background tasks afterwards, so it never delays the answer or the next activation.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Coroutine
from typing import Any

from pydantic import ValidationError

from pywhisk.common.config import Settings
from pywhisk.common.entities.activation import Activation, ActivationResponse, Status, api_form
from pywhisk.common.logcontext import activation_context
from pywhisk.common.messages import (
    INVALIDATION_TOPIC,
    OFFLINE_AFTER,
    ActivationMessage,
    CompletionMessage,
    InvalidationMessage,
    completion_topic,
    invoker_topic,
)
from pywhisk.common.metrics import Metrics
from pywhisk.common.queue.base import Committer, Consumer, Queue
from pywhisk.common.runtimes import Manifest, Runtime, default_manifest
from pywhisk.common.store.base import Store, StoreError
from pywhisk.common.store.claims import ClaimStore, claim_owner
from pywhisk.common.store.journal import ActivationJournal
from pywhisk.common.whisk_errors import log_whisk_error
from pywhisk.invoker import gauges, outcomes, records
from pywhisk.invoker.actions import ActionCache, ParsedActions
from pywhisk.invoker.claims import ClaimBatcher, ClaimFailed
from pywhisk.invoker.client import now_ms
from pywhisk.invoker.containers.base import ContainerFactory
from pywhisk.invoker.containers.logs import format_line
from pywhisk.invoker.pool import ContainerPool, NoCapacity, PoolClosed
from pywhisk.invoker.proxy import ContainerProxy, RunOutcome
from pywhisk.invoker.proxy import State as ProxyState
from pywhisk.invoker.records import PreparedAction
from pywhisk.invoker.scheduling import ActionKey

log = logging.getLogger("pywhisk.invoker")

FETCH_FAILED = "Action could not be fetched."
INTERNAL_ERROR = "There was an error processing your request."
_STEM = ActionKey("", "", "")  # a stem cell's key until it is adopted
_COMMIT_INTERVAL = 1.0


class Invoker:
    """One invoker. `start()` subscribes and begins serving; `stop()` drains and cleans up."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        queue: Queue,
        factory: ContainerFactory,
        invoker_id: int | None = None,
        *,
        prewarm: bool = True,
        manifest: Manifest | None = None,
        journal: ActivationJournal | None = None,
        claims: ClaimStore | None = None,
        metrics: Metrics | None = None,
        parsed: ParsedActions | None = None,
    ) -> None:
        """`claims`: in a cluster, where a message may reach more than one invoker, each
        activation is claimed in the store before it runs (`invoker.claims`). `parsed`: in
        standalone, the controller's entity cache, where the action a message names was
        just read (`invoker.actions`)."""
        self.settings = settings
        self.store = store
        self.queue = queue
        self.factory = factory
        self.id = settings.invoker_id if invoker_id is None else invoker_id
        self.metrics = metrics or Metrics()
        self.actions = ActionCache(
            store.entities, settings.zip_unpacked_max, self.metrics, parsed=parsed
        )
        self.manifest = manifest or default_manifest()
        self.prewarm = prewarm
        # Standalone: starts and blocking answers are journaled before they happen, so a
        # restart neither runs again what may have run nor loses what was answered.
        self.journal = journal
        self.claims = None if claims is None else ClaimBatcher(claims, claim_owner(self.id))
        self.pool: ContainerPool[ContainerProxy] = ContainerPool(
            settings.user_memory,
            self._new_proxy,
            settings.idle_timeout,
            on_stem_gone=self._replace_stem,
            pause_grace=settings.pause_grace,
            policy=factory.pool_policy(),
            meter=_memory_used,
            held=factory.held_memory,
            shed=factory.shed,
        )
        # Spares are made ahead only while the budget has room for them (process mode).
        factory.budget = self.pool.room
        self._names = itertools.count()
        gauges.register(
            self.metrics, self.id, self.pool, lambda: len(self._inflight) - self.pool.buffered
        )
        self._consumer: Consumer | None = None
        self._invalidations: Consumer | None = None
        self._consuming: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._refills: set[asyncio.TimerHandle] = set()  # stem cells to replace, later
        # Activations taken whose records are not written yet, with when each was taken:
        # pings report the oldest, so controllers know which answered ones are safe.
        self._unstored: dict[str, int] = {}

    def stored_until(self) -> int:
        """Every activation taken before this epoch ms has its record written."""
        return min(self._unstored.values(), default=now_ms())

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.factory.start()
        if self.prewarm:
            for runtime in self.manifest.runtimes:
                for count, memory in runtime.stem_cells:
                    for _ in range(count):
                        self._spawn(self._grow_stem(runtime, memory))
        self._consumer = await self.queue.consumer(invoker_topic(self.id), f"invoker{self.id}")
        self._consuming = asyncio.get_running_loop().create_task(self._consume(self._consumer))
        # Not prompt: it only frees the memory of containers no activation will use.
        self._invalidations = await self.queue.consumer(
            INVALIDATION_TOPIC, f"invoker{self.id}", prompt=False
        )
        self._spawn(self._forget_changed(self._invalidations))

    async def stop(self, drain_timeout: float = 10.0) -> None:
        """Stop taking messages, let running activations finish (up to `drain_timeout`,
        then their containers are destroyed and they end as errors), flush the records and
        destroy every container."""
        self._stopping = True
        for handle in self._refills:
            handle.cancel()
        self._refills.clear()
        if self._invalidations is not None:
            await self._invalidations.close()
            self._invalidations = None
        if self._consumer is not None:
            await self._consumer.close()
            self._consumer = None
        if self._consuming is not None:
            self._consuming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consuming
            self._consuming = None
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=drain_timeout)
        for proxy in self.pool.evict_all():
            proxy.evict()
        while self._inflight or self._background:
            await asyncio.gather(*self._inflight, *self._background, return_exceptions=True)
        await self.factory.close()

    # -- consuming -------------------------------------------------------------------------

    async def _consume(self, consumer: Consumer) -> None:
        commits = Committer(consumer, "activation messages", _COMMIT_INTERVAL)
        committer = asyncio.get_running_loop().create_task(commits.run())
        try:
            async for payload in consumer:
                try:
                    msg = ActivationMessage.from_bytes(payload)
                except ValidationError as exc:
                    log.error("dropping a malformed activation message: %s", exc)
                    continue
                self._track(self._inflight, self.handle(msg))
                commits.mark()
        finally:
            committer.cancel()

    async def _forget_changed(self, consumer: Consumer) -> None:
        """Actions updated or deleted: their warm containers would only sit out the idle
        timeout holding memory, so they go now (busy ones when their activation ends)."""
        async for payload in consumer:
            try:
                changed = InvalidationMessage.from_bytes(payload)
            except ValidationError as exc:
                log.error("dropping a malformed invalidation message: %s", exc)
                continue
            self.actions.forget(changed.key)
            self.pool.retire(changed.key, changed.revision)
            await consumer.commit()

    def _track(
        self, tasks: set[asyncio.Task[None]], coro: Coroutine[Any, Any, None]
    ) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(self._done(tasks))
        return task

    @staticmethod
    def _done(tasks: set[asyncio.Task[None]]) -> Any:
        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("invoker task failed", exc_info=task.exception())

        return done

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return self._track(self._background, coro)

    def _new_proxy(self, key: ActionKey, memory: int) -> ContainerProxy:
        name = f"wsk{self.id}_{next(self._names)}"
        return ContainerProxy(
            key, memory, name, self.factory, self.settings.payload_max, self._spawn
        )

    # -- stem cells (prewarmed containers, runtimes.json `stemCells`) ------------------------

    async def _grow_stem(self, runtime: Runtime, memory: int) -> None:
        proxy = self._new_proxy(_STEM, memory)
        if await proxy.prewarm(runtime):
            self.pool.add_stem(proxy, runtime.kind, memory)
        else:  # e.g. the runtime is not installed here: cold starts will say so
            log.debug("no stem cell for %s: its container did not start", runtime.kind)

    def _replace_stem(self, kind: str, memory: int) -> None:
        """A stem cell was taken (or found dead): another one, `stem_refill_delay` later.

        Not at once: the taken one is being initialized and run for the first invoke of an
        action, which waits for it, and starting its replacement (a container made, its
        runtime set serving) would share the event loop and the cores with that."""
        delay = self.settings.stem_refill_delay
        if delay <= 0:
            self._grow_replacement(kind, memory)
            return

        def grow() -> None:
            self._refills.discard(handle)
            self._grow_replacement(kind, memory)

        handle = asyncio.get_running_loop().call_later(delay, grow)
        self._refills.add(handle)

    def _grow_replacement(self, kind: str, memory: int) -> None:
        runtime = self.manifest.resolve(kind)
        if runtime is not None and not self._stopping:
            self._spawn(self._grow_stem(runtime, memory))

    # -- one activation --------------------------------------------------------------------

    async def handle(self, msg: ActivationMessage) -> None:
        with activation_context(msg.activation_id, msg.transid):
            await self._handle(msg)

    async def _handle(self, msg: ActivationMessage) -> None:
        if self.claims is None and now_ms() - msg.received > OFFLINE_AFTER * 1000:
            if await self._given_up(msg):
                return
        # A second delivery of an activation already under way here must not move (or, when
        # skipped, drop) the first one's entry: pings would vouch for a record not written.
        first = msg.activation_id not in self._unstored
        if first:
            taken = self._unstored[msg.activation_id] = now_ms()
            self.metrics.queue_latency("invoker", (taken - msg.received) / 1000)
        try:
            prepared = await self.actions.get(msg.action, msg.revision)
        except Exception as exc:
            log.exception("fetching action %s failed", msg.action)
            failure = ActivationResponse.error(Status.WHISK_ERROR, FETCH_FAILED)
            cause = f"fetching {msg.action} failed: {type(exc).__name__}: {exc}"
            await self._finish_early(msg, records.fallback(msg, failure, now_ms()), cause)
            return
        if prepared is None:
            await self._finish_early(msg, records.not_found(msg, now_ms()))
            return
        key = ActionKey(msg.user.namespace, prepared.doc_id, prepared.revision)
        try:
            kind = prepared.runtime.kind if prepared.runtime is not None else None
            proxy = await self.pool.acquire(key, prepared.memory, kind)
        except (NoCapacity, PoolClosed) as exc:
            failure = ActivationResponse.error(Status.WHISK_ERROR, outcomes.PROVISION_FAILED)
            now = now_ms()
            record = records.activation(
                msg, prepared, failure, start=now, end=now, init_time=None, timed_out=False
            )
            cause = f"no container: {type(exc).__name__}: {exc}".rstrip(": ")
            await self._finish_early(msg, record, cause, prepared)
            return
        if self.claims is not None and not await self._claim(msg, proxy, first):
            return
        if self.journal is not None and not msg.blocking:
            await self._journal(self.journal.start(msg.activation_id), msg)
        try:
            outcome = await proxy.run(prepared, msg)
        except Exception as exc:  # a bug of ours: the caller still gets an answer, and a record
            log.exception("activation %s failed inside the invoker", msg.activation_id)
            cause = f"{type(exc).__name__}: {exc}"
            proxy.evict()
            self.pool.discard(proxy)
            failure = ActivationResponse.error(Status.WHISK_ERROR, INTERNAL_ERROR)
            now = now_ms()
            record = records.activation(
                msg, prepared, failure, start=now, end=now, init_time=None, timed_out=False
            )
            await self._finish_early(msg, record, cause, prepared)
            return
        except BaseException:
            proxy.evict()
            self.pool.discard(proxy)
            raise
        if outcome.kept:
            self.pool.release(proxy)
        else:
            self.pool.discard(proxy)
        record = records.activation(
            msg,
            prepared,
            outcome.response,
            start=outcome.start,
            end=outcome.end,
            init_time=outcome.init_time,
            timed_out=outcome.timed_out,
        )
        doc = record.to_json()
        # Queue the log collection before the completion send can yield: the container may
        # already run the next activation meanwhile, and collections are served in the order
        # they were queued, so a later one must never get in first and take these lines.
        self._spawn(self._bookkeep(doc, prepared, outcome, proxy))
        await self._complete(msg, record, doc, outcome.cause)
        self._count(msg, record, prepared, outcome.init_time)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "ran %s in %s: %s, %d ms%s",
                prepared.action_name,
                proxy.name,
                record.response.status.label,
                record.end - record.start,
                " (cold)" if outcome.init_time is not None else "",
            )

    def _count(
        self,
        msg: ActivationMessage,
        record: Activation,
        prepared: PreparedAction | None,
        init_ms: int | None = None,
    ) -> None:
        if prepared is None:  # never fetched: counted under the name it was invoked by
            namespace, _, action = msg.action.partition("/")
            kind, memory = "", 0
        else:
            namespace, _, action = prepared.doc_id.partition("/")
            kind = (
                prepared.runtime.kind if prepared.runtime is not None else prepared.action.exec.kind
            )
            memory = prepared.memory
        self.metrics.activation(
            namespace,
            record.namespace,
            action,
            kind,
            memory,
            int(record.response.status),
            record.duration if record.duration is not None else record.end - record.start,
            max(0, record.start - msg.received),
            init_ms,
            size=record.response.size,
            status_code=outcomes.user_status_code(record.response.result),
        )

    async def _complete(
        self,
        msg: ActivationMessage,
        record: Activation,
        doc: dict[str, Any],
        cause: str | None = None,
    ) -> None:
        if record.response.status == Status.WHISK_ERROR:
            # One line an operator can grep, whatever produced the error.
            log_whisk_error(
                log,
                msg.activation_id,
                msg.transid,
                _error_of(record.response.result),
                cause,
                action=msg.action,
            )
        completion = CompletionMessage(
            transid=msg.transid,
            activation_id=msg.activation_id,
            invoker=self.id,
            activation=api_form(doc),
            system_error=record.response.status == Status.WHISK_ERROR,
            accepted=self._unstored.get(msg.activation_id, 0),
            sent=now_ms(),
        )
        if self.journal is not None and msg.blocking:
            # Answered only once what rebuilds the record is on disk. Taken before the first
            # pause: the log collection fills `doc` in meanwhile.
            await self._journal(self.journal.answered(doc), msg)
        await self.queue.publish(completion_topic(msg.controller), completion)

    async def _finish_early(
        self,
        msg: ActivationMessage,
        record: Activation,
        cause: str | None = None,
        prepared: PreparedAction | None = None,
    ) -> None:
        doc = record.to_json()
        await self._complete(msg, record, doc, cause)
        self._count(msg, record, prepared)
        self._spawn(self._store(doc))

    @staticmethod
    async def _journal(write: Coroutine[Any, Any, None], msg: ActivationMessage) -> None:
        # Runs on regardless: the activation was accepted, and a disk that refuses this
        # write refuses the record's too (kept queued and retried by the store).
        try:
            await write
        except StoreError:
            log.exception("could not journal activation %s", msg.activation_id)

    async def _bookkeep(
        self,
        doc: dict[str, Any],
        prepared: PreparedAction,
        outcome: RunOutcome,
        proxy: ContainerProxy,
    ) -> None:
        doc["logs"] = await self._logs(prepared, outcome, proxy)
        await self._store(doc)

    async def _logs(
        self, prepared: PreparedAction, outcome: RunOutcome, proxy: ContainerProxy
    ) -> list[str]:
        container = outcome.container
        if container is None or prepared.log_limit <= 0:
            return []
        try:
            if outcome.kept:
                return await container.logs(prepared.log_limit, wait_for_sentinels=True)
            await proxy.removed()  # destroyed: its pipes hold everything there will be
            lines = await container.logs(prepared.log_limit, wait_for_sentinels=False)
        except Exception:
            log.exception("collecting logs of %s failed", container.name)
            return [format_line(now_ms() * 1_000_000, "stderr", outcomes.LOG_FAILURE)]
        if outcome.response.status == Status.DEVELOPER_ERROR:
            lines.append(format_line(now_ms() * 1_000_000, "stderr", outcomes.LOGS_MISSING))
        return lines

    async def _store(self, doc: dict[str, Any]) -> None:
        try:
            began = time.perf_counter()
            await self.store.activations.put(doc)
            await self.store.activations.settle()
            self.metrics.store_latency("activation_put", time.perf_counter() - began)
        except Exception:
            log.exception("storing activation %s failed", doc.get("activationId"))
        finally:
            self._unstored.pop(doc["activationId"], None)

    async def _claim(self, msg: ActivationMessage, proxy: ContainerProxy, first: bool) -> bool:
        """Claimed only now, with a container in hand: what waits in the pool's buffer is
        not started, and a controller may still hand it to another invoker if this one
        goes away. `first`: no other delivery of it is under way here."""
        assert self.claims is not None
        try:
            if await self.claims.start(msg.activation_id):
                return True
        except ClaimFailed:
            log.error("skipping activation %s: the store could not claim it", msg.activation_id)
        except BaseException:
            self._give_back(proxy)
            raise
        else:
            log.warning(
                "skipping activation %s: started or handed over elsewhere", msg.activation_id
            )
        self._give_back(proxy)
        if first:
            self._unstored.pop(msg.activation_id, None)  # nothing of ours to store
        return False

    def _give_back(self, proxy: ContainerProxy) -> None:
        """The container was acquired for a run that will not happen."""
        if proxy.state is ProxyState.NEW:  # nothing started: only its memory to free
            self.pool.discard(proxy)
        else:
            self.pool.release(proxy)

    async def _given_up(self, msg: ActivationMessage) -> bool:
        """An old message (this invoker was away): if controllers already answered it as
        lost, it must not run now. Only old messages pay for the lookup."""
        try:
            found = await self.store.activations.get(msg.user.namespace, msg.activation_id)
        except Exception:
            log.warning("could not check whether %s was given up; running it", msg.activation_id)
            return False
        if found is not None:
            log.info("skipping activation %s: already answered as lost", msg.activation_id)
        return found is not None


def _error_of(result: Any) -> Any:
    return result.get("error") if isinstance(result, dict) else result


def _memory_used(proxy: ContainerProxy) -> int | None:
    container = proxy.container
    return None if container is None else container.memory_used()
