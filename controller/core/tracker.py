"""Activations in flight: who waits for them and how many each namespace has.

Every published activation is registered here until its CompletionMessage arrives on
`completed{controller}`. Blocking callers wait on a future; the namespace's in-flight
count feeds the concurrency throttle. If no completion ever arrives (an invoker died),
the entry is released after OpenWhisk's forced-ack timeout, so counts never leak.
Each release is also handed to `on_release` (the balancer: free the invoker's slots and
count the outcome for its health).

No activation ends without a record (docs/openwhisk-compatibility.md §8.3 goes further than OpenWhisk here,
which writes none when an invoker dies):
- an activation held by an invoker that went silent (`invoker_gone`) is sent to another
  invoker if it had not started (`controller.reroute`, in a cluster); one that had, or that
  nobody answered by the forced-ack timeout, gets a whisk internal error record written
  here, and its blocking caller that record (in a cluster, its claim is fenced first, so
  no invoker starts it afterwards);
- an answered one whose record its invoker had not written yet when it died is written
  here from the completion, which carries the record: completions are kept per invoker
  until the invoker's pings say everything it took before a time is stored
  (`invoker_stored`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pywhisk.common.entities.activation import ActivationResponse, Status, api_form
from pywhisk.common.fallback_records import fallback
from pywhisk.common.logcontext import activation_context
from pywhisk.common.messages import ActivationMessage, CompletionMessage, completion_topic
from pywhisk.common.metrics import Metrics
from pywhisk.common.queue.base import Committer, Consumer, Queue
from pywhisk.common.store.base import Store
from pywhisk.common.whisk_errors import log_whisk_error
from pywhisk.controller.core.health import Result
from pywhisk.controller.core.reroute import Rerouter

log = logging.getLogger(__name__)

LOST = "The activation was lost: the invoker running it stopped before answering."
STRANDED = "The activation was lost: its invoker stopped, and no other invoker could take it."
NO_ANSWER = "The activation was not answered in time by the invoker it was sent to."
LOGS_LOST = "The invoker stopped before this activation's logs were stored."
KEPT_MAX = 100_000  # answered records kept per invoker while its store writes lag


def forced_ack_timeout(action_timeout_ms: int) -> float:
    """OW CommonLoadBalancer: max(timeout, 60 s) × 2 + 1 min."""
    return max(action_timeout_ms / 1000, 60.0) * 2 + 60.0


@dataclass
class _Entry:
    namespace: str
    future: asyncio.Future[dict[str, Any] | None] | None
    internal: bool = False  # the controller waits (a sequence's component), not a caller
    timer: asyncio.TimerHandle | None = field(default=None)
    message: ActivationMessage | None = None  # what a record needs if no answer comes
    invoker: int | None = None


class ActivationTracker:
    def __init__(
        self,
        queue: Queue,
        controller_id: int,
        on_release: Callable[[str, Result | None], None] | None = None,
        store: Store | None = None,
        rerouter: Rerouter | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.queue = queue
        self.rerouter = rerouter
        self.metrics = metrics or Metrics()
        self.controller_id = controller_id
        self.on_release = on_release
        self.store = store
        self._answered: dict[int, deque[tuple[int, dict[str, Any]]]] = {}
        self._stored_until: dict[int, int] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._entries: dict[str, _Entry] = {}
        self._in_flight: Counter[str] = Counter()
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = await self.queue.consumer(
            completion_topic(self.controller_id), f"controller{self.controller_id}"
        )
        self._task = asyncio.get_running_loop().create_task(self._consume(self._consumer))
        self._expect()

    def _expect(self) -> None:
        """Completions are read only while some activation is in flight: resumed before
        the first is sent, paused when the last ends, so an idle controller does not poll
        the broker (a completion that comes after its activation was given up waits in the
        topic until the next one is sent)."""
        if self._consumer is None:
            return
        if self._entries:
            self._consumer.resume()
        else:
            self._consumer.pause()

    async def stop(self) -> None:
        if self._writes:  # records of lost activations: let them reach the store's queue
            await asyncio.wait(set(self._writes), timeout=5)
        if self._consumer is not None:
            await self._consumer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for entry in self._entries.values():
            if entry.timer:
                entry.timer.cancel()
            if entry.future and not entry.future.done():
                entry.future.set_result(None)
        self._entries.clear()

    def stop_waiting(self) -> None:
        """Let every blocking caller go now (they answer 202 with the activation id); the
        entries stay until their completion or forced-ack timeout releases them. Running
        sequences keep waiting for their components: the shutdown drains them."""
        for entry in self._entries.values():
            if entry.internal:
                continue
            if entry.future is not None and not entry.future.done():
                entry.future.set_result(None)

    def in_flight(self, namespace: str) -> int:
        return self._in_flight[namespace]

    @property
    def total_in_flight(self) -> int:
        return len(self._entries)

    def register(
        self,
        activation_id: str,
        namespace: str,
        blocking: bool,
        action_timeout_ms: int,
        message: ActivationMessage | None = None,
        internal: bool = False,
    ) -> asyncio.Future[dict[str, Any] | None] | None:
        loop = asyncio.get_running_loop()
        future = loop.create_future() if blocking else None
        entry = _Entry(namespace, future, internal, message=message)
        entry.timer = loop.call_later(
            forced_ack_timeout(action_timeout_ms), self._give_up, activation_id, NO_ANSWER
        )
        self._entries[activation_id] = entry
        self._in_flight[namespace] += 1
        if len(self._entries) == 1:
            self._expect()
        return future

    def placed(self, activation_id: str, invoker: int) -> None:
        """The balancer sent it to `invoker`."""
        entry = self._entries.get(activation_id)
        if entry is not None:
            entry.invoker = invoker

    # -- what the balancer says of invokers ------------------------------------------------

    def invoker_stored(self, invoker: int, until: int) -> None:
        """Invoker `invoker` has written the records of all it took before `until`."""
        self._stored_until[invoker] = until
        kept = self._answered.get(invoker)
        while kept and kept[0][0] < until:
            kept.popleft()

    def invoker_gone(self, invoker: int) -> None:
        """Invoker `invoker` went silent: what it held is lost, and what it answered may
        lack its record."""
        held = [aid for aid, entry in self._entries.items() if entry.invoker == invoker]
        answered = self._answered.pop(invoker, None)
        self._stored_until.pop(invoker, None)
        if held or answered:
            log.warning(
                "invoker%d is gone: %d activations held, %d answered ones to check",
                invoker,
                len(held),
                len(answered or ()),
            )
        if self.rerouter is not None and held:
            self._background(self._take_over(invoker, self.rerouter, held))
        else:
            for activation_id in held:
                self._give_up(activation_id, LOST, fence=False)
        if answered:
            self._background(self._rewrite_missing([doc for _, doc in answered]))

    async def _take_over(self, invoker: int, rerouter: Rerouter, held: list[str]) -> None:
        messages = []
        for activation_id in held:
            entry = self._entries.get(activation_id)
            if entry is not None and entry.message is not None:
                messages.append(entry.message)
            else:
                self._give_up(activation_id, LOST, fence=False)
        done = await rerouter.take_over(messages)
        for activation_id, target in done.moved.items():
            entry = self._entries.get(activation_id)
            if entry is not None:  # else its completion came meanwhile: it ran where it was
                entry.invoker = target
        # Placed on their would-be new invokers by now: not counted against those.
        for activation_id in done.started:
            self._give_up(activation_id, LOST, fence=False, result=None)
        for activation_id in done.stranded:
            self._give_up(activation_id, STRANDED, result=None)
        log.warning(
            "invoker%d's held activations: %d sent to other invokers, %d lost while running, "
            "%d with no invoker to take them",
            invoker,
            len(done.moved),
            len(done.started),
            len(done.stranded),
        )

    def _give_up(
        self,
        activation_id: str,
        reason: str,
        fence: bool = True,
        result: Result | None = Result.TIMEOUT,
    ) -> None:
        """No answer will come: record a whisk internal error and answer with it. `fence`:
        make sure no invoker starts it later (needless when it is known to have started);
        `result`: what its invoker's health counts (None: nothing)."""
        entry = self._entries.get(activation_id)
        if entry is None:
            return
        transid = entry.message.transid if entry.message is not None else None
        with activation_context(activation_id, transid):
            self._give_up_entry(activation_id, entry, reason, fence, result)

    def _give_up_entry(
        self,
        activation_id: str,
        entry: _Entry,
        reason: str,
        fence: bool,
        result: Result | None,
    ) -> None:
        message = entry.message
        log_whisk_error(
            log,
            activation_id,
            message.transid if message is not None else None,
            reason,
            # The reason says what happened; the operator still needs where.
            cause=f"sent to invoker{entry.invoker}" if entry.invoker is not None else None,
            action=message.action if message is not None else None,
        )
        if fence and self.rerouter is not None:
            self._background(self.rerouter.fence([activation_id]))
        record: dict[str, Any] | None = None
        if entry.message is not None and self.store is not None:
            error = ActivationResponse.error(Status.WHISK_ERROR, reason)
            doc = fallback(entry.message, error, int(time.time() * 1000)).to_json()
            self._background(self._put(doc))
            record = api_form(doc)
        self._release(activation_id, record, result)

    async def _rewrite_missing(self, answered: list[dict[str, Any]]) -> None:
        assert self.store is not None
        for doc in answered:
            with activation_context(doc["activationId"]):
                try:
                    if await self.store.activations.get(doc["namespace"], doc["activationId"]):
                        continue
                except Exception:
                    log.exception("checking the record of %s failed", doc["activationId"])
                response = ActivationResponse.from_json(doc["response"]).to_json()
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
                logs = [*doc.get("logs", ()), f"{stamp} stderr: {LOGS_LOST}"]
                log.warning("rewriting the record of %s, its logs lost", doc["activationId"])
                await self._put({**doc, "response": response, "logs": logs})

    async def _put(self, doc: dict[str, Any]) -> None:
        assert self.store is not None
        try:
            await self.store.activations.put(doc)
        except Exception:
            log.exception("writing the record of %s failed", doc["activationId"])

    def _background(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def forget(self, activation_id: str) -> None:
        """Undo a registration whose message could not be published."""
        self._release(activation_id, None, None)

    def _release(
        self, activation_id: str, activation: dict[str, Any] | None, result: Result | None
    ) -> None:
        entry = self._entries.pop(activation_id, None)
        if entry is None:
            return
        if not self._entries:
            self._expect()
        if self.on_release is not None:
            try:
                self.on_release(activation_id, result)
            except Exception:
                transid = entry.message.transid if entry.message is not None else None
                with activation_context(activation_id, transid):
                    log.exception("releasing activation %s in the balancer failed", activation_id)
        if entry.timer:
            entry.timer.cancel()
        self._in_flight[entry.namespace] -= 1
        if self._in_flight[entry.namespace] <= 0:
            del self._in_flight[entry.namespace]
        if entry.future is not None and not entry.future.done():
            entry.future.set_result(activation)

    def _keep(self, message: CompletionMessage) -> None:
        # Kept only for invokers whose pings say what is stored (none in standalone).
        stored_until = self._stored_until.get(message.invoker)
        if stored_until is None or message.activation is None or not message.accepted:
            return
        if message.accepted < stored_until:
            return  # its record is already written
        kept = self._answered.get(message.invoker)
        if kept is None:
            kept = self._answered[message.invoker] = deque(maxlen=KEPT_MAX)
        kept.append((message.accepted, message.activation))

    async def _consume(self, consumer: Consumer) -> None:
        # Committed so that a restarted controller does not replay an hour of completions
        # (and their results) for activations nobody waits for any more.
        commits = Committer(consumer, "completion messages")
        committer = asyncio.get_running_loop().create_task(commits.run())
        try:
            async for payload in consumer:
                commits.mark()
                try:
                    message = CompletionMessage.from_bytes(payload)
                except ValueError:
                    log.exception("dropping malformed completion message")
                    continue
                if message.sent:
                    self.metrics.queue_latency("completed", time.time() - message.sent / 1000)
                result = Result.SYSTEM_ERROR if message.system_error else Result.SUCCESS
                self._keep(message)
                self._release(message.activation_id, message.activation, result)
        finally:
            committer.cancel()
