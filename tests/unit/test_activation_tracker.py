"""The activation tracker's promise, "no activation ends without a record", checked with a
fake store and the in-process queue: forced acks, invokers going silent, `stored_until`,
late and malformed completions, shutdown.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pywhisk.common.entities.activation import Status
from pywhisk.common.logcontext import ContextFilter
from pywhisk.common.messages import ActivationMessage, CompletionMessage, User, completion_topic
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.controller.core import tracker as tracker_module
from pywhisk.controller.core.health import Result
from pywhisk.controller.core.reroute import Takeover
from pywhisk.controller.core.tracker import LOGS_LOST, LOST, NO_ANSWER, STRANDED, ActivationTracker

_ids = itertools.count()


class FakeActivations:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def get(self, namespace: str, activation_id: str) -> dict[str, Any] | None:
        return self.docs.get(activation_id)

    async def put(self, doc: dict[str, Any]) -> None:
        self.docs[doc["activationId"]] = doc


class FakeStore:
    def __init__(self) -> None:
        self.activations = FakeActivations()


class Harness:
    def __init__(self, tracker: ActivationTracker, queue: MemoryQueue, store: FakeStore) -> None:
        self.tracker = tracker
        self.queue = queue
        self.store = store
        self.released: list[tuple[str, Result | None]] = []

    def message(self, namespace: str = "guest") -> ActivationMessage:
        return ActivationMessage(
            transid="tid",
            activation_id=f"{next(_ids):032x}",
            action=f"{namespace}/hello",
            revision="1",
            version="0.0.1",
            user=User(namespace=namespace, subject=namespace, auth="u:k"),
            controller=0,
            blocking=True,
            content={},
            received=int(time.time() * 1000),
        )

    def register(
        self, msg: ActivationMessage, invoker: int = 0, blocking: bool = True, **kw: Any
    ) -> asyncio.Future[dict[str, Any] | None] | None:
        future = self.tracker.register(
            msg.activation_id, msg.user.namespace, blocking, 60_000, message=msg, **kw
        )
        self.tracker.placed(msg.activation_id, invoker)
        return future

    async def complete(
        self, msg: ActivationMessage, invoker: int = 0, accepted: int = 0, **kw: Any
    ) -> None:
        record: dict[str, Any] = {
            "activationId": msg.activation_id,
            "namespace": msg.user.namespace,
            "response": {"status": "success", "statusCode": 0, "result": {"ok": 1}},
        }
        done = CompletionMessage(
            transid="tid",
            activation_id=msg.activation_id,
            invoker=invoker,
            activation=record,
            accepted=accepted,
            **kw,
        )
        await self.queue.send(completion_topic(0), done.to_bytes())

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)
        if self.tracker._writes:
            await asyncio.wait(set(self.tracker._writes))


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    queue = MemoryQueue()
    store = FakeStore()
    released: list[tuple[str, Result | None]] = []
    tracker = ActivationTracker(
        queue,
        0,
        on_release=lambda aid, result: released.append((aid, result)),
        store=store,  # type: ignore[arg-type]
    )
    harness = Harness(tracker, queue, store)
    harness.released = released
    await tracker.start()
    yield harness
    await tracker.stop()


def whisk_error(record: dict[str, Any] | None) -> str:
    assert record is not None
    assert record["response"]["status"] == "whisk internal error"
    assert "statusCode" not in record["response"], "callers get the API form"
    return str(record["response"]["result"]["error"])


async def test_a_completion_answers_the_waiting_caller_and_releases(h: Harness) -> None:
    msg = h.message()
    future = h.register(msg)
    assert future is not None and h.tracker.in_flight("guest") == 1
    await h.complete(msg)
    answer = await asyncio.wait_for(future, 5)
    assert answer is not None and answer["response"]["result"] == {"ok": 1}
    assert h.tracker.in_flight("guest") == 0
    assert h.released == [(msg.activation_id, Result.SUCCESS)]


async def test_a_system_error_completion_counts_against_the_invokers_health(h: Harness) -> None:
    msg = h.message()
    h.register(msg, blocking=False)
    await h.complete(msg, system_error=True)
    await h.settle()
    assert h.released == [(msg.activation_id, Result.SYSTEM_ERROR)]


async def test_non_blocking_activations_are_counted_until_answered(h: Harness) -> None:
    first, second = h.message(), h.message("other")
    assert h.register(first, blocking=False) is None
    h.register(second, blocking=False)
    assert (h.tracker.in_flight("guest"), h.tracker.in_flight("other")) == (1, 1)
    await h.complete(first)
    await h.settle()
    assert (h.tracker.in_flight("guest"), h.tracker.in_flight("other")) == (0, 1)


async def test_forced_ack_writes_a_whisk_error_record_and_answers_with_it(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_module, "forced_ack_timeout", lambda ms: 0.01)
    msg = h.message()
    future = h.register(msg)
    assert future is not None
    answer = await asyncio.wait_for(future, 5)
    assert whisk_error(answer) == NO_ANSWER
    await h.settle()
    stored = h.store.activations.docs[msg.activation_id]
    assert stored["response"]["statusCode"] == int(Status.WHISK_ERROR)
    assert h.released == [(msg.activation_id, Result.TIMEOUT)]
    assert h.tracker.in_flight("guest") == 0


async def test_forced_ack_timeout_follows_openwhisk() -> None:
    assert tracker_module.forced_ack_timeout(1_000) == 180.0  # max(1 s, 60 s) * 2 + 60 s
    assert tracker_module.forced_ack_timeout(300_000) == 660.0


async def test_a_late_completion_after_the_forced_ack_changes_nothing(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_module, "forced_ack_timeout", lambda ms: 0.01)
    msg = h.message()
    future = h.register(msg)
    assert future is not None
    await asyncio.wait_for(future, 5)
    await h.complete(msg)
    await h.settle()
    assert len(h.released) == 1, "released once"
    assert h.tracker.in_flight("guest") == 0, "the count never goes negative"


async def test_an_invoker_gone_answers_what_it_held_and_nothing_else(h: Harness) -> None:
    lost, elsewhere = h.message(), h.message()
    lost_future = h.register(lost, invoker=1)
    other_future = h.register(elsewhere, invoker=2)
    assert lost_future is not None and other_future is not None
    h.tracker.invoker_gone(1)
    assert whisk_error(await asyncio.wait_for(lost_future, 5)) == LOST
    await h.settle()
    assert lost.activation_id in h.store.activations.docs
    assert not other_future.done(), "another invoker's activation still waits for its answer"
    assert elsewhere.activation_id not in h.store.activations.docs


async def test_the_line_about_a_lost_activation_names_it_and_its_transaction(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The controller answers for an invoker that went away, outside any request: its
    line still carries the activation's ids, as every line about an activation does."""
    lost = h.message()
    h.register(lost, invoker=1, blocking=False)
    caplog.handler.addFilter(ContextFilter())
    with caplog.at_level(logging.ERROR):
        h.tracker.invoker_gone(1)
    (line,) = [r for r in caplog.records if "whisk internal error" in r.getMessage()]
    assert (line.activation_id, line.transid) == (lost.activation_id, "tid")  # type: ignore[attr-defined]
    # One greppable line: which activation, what its record says, and where it had been sent.
    assert line.getMessage().startswith(
        f"whisk internal error: activation {lost.activation_id} (transaction tid) of "
    )
    assert line.getMessage().endswith(f"{LOST} (cause: sent to invoker1)")
    await h.settle()


async def test_answered_records_not_yet_stored_are_written_when_the_invoker_goes(
    h: Harness,
) -> None:
    h.tracker.invoker_stored(1, until=1_000)  # invoker 1 keeps an account of its writes
    written, unwritten, old = h.message(), h.message(), h.message()
    for msg in (written, unwritten, old):
        h.register(msg, invoker=1, blocking=False)
    await h.complete(old, invoker=1, accepted=500)  # before stored_until: already written
    await h.complete(written, invoker=1, accepted=2_000)
    await h.complete(unwritten, invoker=1, accepted=2_001)
    await h.settle()
    h.store.activations.docs[written.activation_id] = {"as": "the invoker wrote it"}
    h.tracker.invoker_gone(1)
    await h.settle()
    docs = h.store.activations.docs
    assert docs[written.activation_id] == {"as": "the invoker wrote it"}, "not overwritten"
    assert old.activation_id not in docs, "a record below stored_until is the invoker's"
    rewritten = docs[unwritten.activation_id]
    assert rewritten["response"]["result"] == {"ok": 1}, "the answer the caller got"
    assert rewritten["logs"][-1].endswith(f"stderr: {LOGS_LOST}")


async def test_stored_until_moving_on_drops_what_is_kept(h: Harness) -> None:
    h.tracker.invoker_stored(1, until=1_000)
    msg = h.message()
    h.register(msg, invoker=1, blocking=False)
    await h.complete(msg, invoker=1, accepted=2_000)
    await h.settle()
    h.tracker.invoker_stored(1, until=3_000)  # the invoker wrote it
    h.tracker.invoker_gone(1)
    await h.settle()
    assert msg.activation_id not in h.store.activations.docs


async def test_a_standalone_invoker_without_an_account_keeps_nothing(h: Harness) -> None:
    msg = h.message()
    h.register(msg, invoker=0, blocking=False)
    await h.complete(msg, invoker=0, accepted=2_000)
    await h.settle()
    assert h.tracker._answered == {}


async def test_a_malformed_completion_is_dropped_and_the_next_one_served(h: Harness) -> None:
    msg = h.message()
    future = h.register(msg)
    assert future is not None
    await h.queue.send(completion_topic(0), b"{not json")
    await h.complete(msg)
    assert (await asyncio.wait_for(future, 5)) is not None


async def test_forget_undoes_a_registration_without_a_record(h: Harness) -> None:
    msg = h.message()
    future = h.register(msg)
    h.tracker.forget(msg.activation_id)
    assert future is not None and future.result() is None
    assert h.tracker.in_flight("guest") == 0
    assert h.released == [(msg.activation_id, None)]
    await h.settle()
    assert h.store.activations.docs == {}


async def test_stop_waiting_lets_callers_go_but_keeps_counting(h: Harness) -> None:
    caller, sequence_step = h.message(), h.message()
    caller_future = h.register(caller)
    step_future = h.register(sequence_step, internal=True)
    assert caller_future is not None and step_future is not None
    h.tracker.stop_waiting()
    assert caller_future.done() and caller_future.result() is None  # → 202 with the id
    assert not step_future.done(), "a running sequence still waits for its component"
    assert h.tracker.in_flight("guest") == 2
    await h.complete(sequence_step)
    assert (await asyncio.wait_for(step_future, 5)) is not None


async def test_fallback_records_carry_the_cause_of_a_sequence_component(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_module, "forced_ack_timeout", lambda ms: 0.01)
    msg = h.message().model_copy(update={"cause": "f" * 32})
    future = h.register(msg)
    assert future is not None
    record = await asyncio.wait_for(future, 5)
    assert record is not None and record["cause"] == "f" * 32
    assert {"key": "causedBy", "value": "sequence"} in record["annotations"]


# -- a gone invoker's work taken over (cluster): the tracker's side, with a fake rerouter --


class FakeRerouter:
    """Says which activations moved where, which had started, which no invoker took."""

    def __init__(self) -> None:
        self.moves: dict[str, int] = {}
        self.started: set[str] = set()
        self.fenced: list[str] = []
        self.asked: list[list[str]] = []
        self.before_answer: Any = None  # called while the claim call is "in flight"

    async def take_over(self, messages: list[ActivationMessage]) -> Takeover:
        ids = [m.activation_id for m in messages]
        self.asked.append(ids)
        if self.before_answer is not None:
            await self.before_answer()
        done = Takeover()
        for aid in ids:
            if aid in self.started:
                done.started.append(aid)
            elif aid in self.moves:
                done.moved[aid] = self.moves[aid]
            else:
                done.stranded.append(aid)
        return done

    async def fence(self, activation_ids: list[str]) -> None:
        self.fenced.extend(activation_ids)


@pytest.fixture
async def rh(h: Harness) -> Harness:
    h.tracker.rerouter = FakeRerouter()  # type: ignore[assignment]
    return h


def rerouter(h: Harness) -> FakeRerouter:
    return h.tracker.rerouter  # type: ignore[return-value]


async def test_a_gone_invokers_unstarted_work_waits_for_its_new_invoker(rh: Harness) -> None:
    moved, started, stranded = rh.message(), rh.message(), rh.message()
    futures = {m.activation_id: rh.register(m, invoker=1) for m in (moved, started, stranded)}
    rerouter(rh).moves = {moved.activation_id: 2}
    rerouter(rh).started = {started.activation_id}
    rh.tracker.invoker_gone(1)
    await rh.settle()

    assert sorted(rerouter(rh).asked[0]) == sorted(futures)
    assert whisk_error(futures[started.activation_id].result()) == LOST  # type: ignore[union-attr]
    assert whisk_error(futures[stranded.activation_id].result()) == STRANDED  # type: ignore[union-attr]
    # What had started is not fenced (it ran); what nobody took is.
    assert rerouter(rh).fenced == [stranded.activation_id]
    # Not counted against any invoker's health: the death is not their fault.
    assert (started.activation_id, None) in rh.released
    assert (stranded.activation_id, None) in rh.released
    # The moved one waits for its real answer, from its new invoker...
    waiting = futures[moved.activation_id]
    assert waiting is not None and not waiting.done()
    assert moved.activation_id not in rh.store.activations.docs
    await rh.complete(moved, invoker=2)
    assert (await asyncio.wait_for(waiting, 5))["response"]["result"] == {"ok": 1}  # type: ignore[index]
    assert (moved.activation_id, Result.SUCCESS) in rh.released


async def test_a_moved_activation_goes_with_its_new_invoker_if_that_one_dies(
    rh: Harness,
) -> None:
    msg = rh.message()
    future = rh.register(msg, invoker=1)
    rerouter(rh).moves = {msg.activation_id: 2}
    rh.tracker.invoker_gone(1)
    await rh.settle()
    rh.tracker.invoker_gone(1)  # said again: it holds nothing any more
    await rh.settle()
    assert rerouter(rh).asked == [[msg.activation_id]]
    rerouter(rh).moves = {}
    rh.tracker.invoker_gone(2)
    await rh.settle()
    assert rerouter(rh).asked[-1] == [msg.activation_id]
    assert whisk_error(await asyncio.wait_for(future, 5)) == STRANDED  # type: ignore[arg-type]


async def test_a_completion_during_the_take_over_ends_it_where_it_ran(rh: Harness) -> None:
    msg = rh.message()
    future = rh.register(msg, invoker=1)
    rerouter(rh).moves = {msg.activation_id: 2}

    async def answered_meanwhile() -> None:  # the invoker was only slow
        await rh.complete(msg, invoker=1)
        await asyncio.wait_for(asyncio.shield(future), 5)  # type: ignore[arg-type]

    rerouter(rh).before_answer = answered_meanwhile
    rh.tracker.invoker_gone(1)
    await rh.settle()
    assert future is not None and future.result()["response"]["result"] == {"ok": 1}  # type: ignore[index]
    assert rh.tracker.in_flight("guest") == 0
    assert msg.activation_id not in rh.store.activations.docs  # no lost record written


async def test_the_forced_ack_fences_the_activation_it_answers(
    rh: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_module, "forced_ack_timeout", lambda _ms: 0.01)
    msg = rh.message()
    future = rh.register(msg, invoker=1)
    assert whisk_error(await asyncio.wait_for(future, 5)) == NO_ANSWER  # type: ignore[arg-type]
    await rh.settle()
    assert rerouter(rh).fenced == [msg.activation_id]
    assert rerouter(rh).asked == []
