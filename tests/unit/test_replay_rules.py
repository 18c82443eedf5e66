"""The restart rules for journaled activations (controller/core/replay.py), every edge."""

from __future__ import annotations

from typing import Any

import pytest

from pywhisk.common.messages import ActivationMessage, User
from pywhisk.common.store.journal import JournalEntry, Stage
from pywhisk.controller.core.replay import (
    EXPIRED,
    INTERRUPTED,
    Decision,
    deadline,
    decide,
    namespace_of,
    record_for,
)
from pywhisk.controller.core.tracker import LOGS_LOST

RECEIVED = 1_700_000_000_000


def message(blocking: bool = False) -> ActivationMessage:
    return ActivationMessage(
        transid="t",
        activation_id="a" * 32,
        action="guest/pkg/hello",
        revision="1",
        version="0.0.1",
        user=User(namespace="guest", subject="alice", auth="u:k"),
        controller=0,
        blocking=blocking,
        content={"x": 1},
        received=RECEIVED,
    )


def entry(
    stage: Stage,
    *,
    timeout: int = 60_000,
    msg: ActivationMessage | None = None,
    record: dict[str, Any] | None = None,
) -> JournalEntry:
    if msg is None and record is None:
        msg = message()
    return JournalEntry("a" * 32, stage, timeout, msg, record)


ANSWERED = {
    "namespace": "guest",
    "name": "hello",
    "activationId": "a" * 32,
    "start": RECEIVED + 5,
    "end": RECEIVED + 9,
    "response": {"status": "success", "statusCode": 0, "success": True, "result": {"ok": 1}},
    "logs": [],
    "annotations": [],
}


def test_deadline_is_the_forced_ack_timeout_from_receipt() -> None:
    # max(timeout, 60 s) * 2 + 60 s, as OpenWhisk's controller gives up
    assert deadline(entry(Stage.ACCEPTED, timeout=1_000)) == RECEIVED + 180_000
    assert deadline(entry(Stage.ACCEPTED, timeout=300_000)) == RECEIVED + 660_000


@pytest.mark.parametrize("stage", list(Stage))
def test_a_recorded_activation_is_settled_whatever_its_stage(stage: Stage) -> None:
    assert decide(entry(stage, record=ANSWERED), True, RECEIVED) is Decision.SETTLED
    assert decide(entry(stage), True, RECEIVED + 10**9) is Decision.SETTLED


def test_never_started_runs_until_its_deadline_then_expires() -> None:
    accepted = entry(Stage.ACCEPTED)
    assert decide(accepted, False, RECEIVED + 1) is Decision.RUN
    assert decide(accepted, False, deadline(accepted)) is Decision.RUN
    assert decide(accepted, False, deadline(accepted) + 1) is Decision.EXPIRED


def test_started_is_lost_never_run_again_even_at_once() -> None:
    assert decide(entry(Stage.STARTED), False, RECEIVED) is Decision.LOST
    assert decide(entry(Stage.STARTED), False, RECEIVED + 10**9) is Decision.LOST


def test_answered_is_written_as_answered_even_past_its_deadline() -> None:
    answered = entry(Stage.ANSWERED, record=ANSWERED)
    assert decide(answered, False, RECEIVED + 10**9) is Decision.ANSWERED
    record = record_for(Decision.ANSWERED, answered, RECEIVED + 10**9)
    assert record is not None
    assert record["response"] == ANSWERED["response"]
    assert record["logs"][-1].endswith(f"stderr: {LOGS_LOST}")


def test_unreadable_entries_are_dropped() -> None:
    assert decide(JournalEntry("a", Stage.ACCEPTED, 1, None, None), False, 0) is Decision.UNREADABLE
    assert decide(JournalEntry("a", Stage.ANSWERED, 1, None, None), False, 0) is Decision.UNREADABLE
    assert namespace_of(JournalEntry("a", Stage.ANSWERED, 1, None, None)) is None


@pytest.mark.parametrize(
    ("decision", "reason"), [(Decision.LOST, INTERRUPTED), (Decision.EXPIRED, EXPIRED)]
)
def test_lost_and_expired_are_whisk_internal_errors(decision: Decision, reason: str) -> None:
    record = record_for(decision, entry(Stage.STARTED), RECEIVED + 7)
    assert record is not None
    assert record["activationId"] == "a" * 32
    assert record["namespace"] == "guest"
    assert record["response"]["status"] == "whisk internal error"
    assert record["response"]["statusCode"] == 3
    assert record["response"]["result"] == {"error": reason}
    assert record["start"] == RECEIVED + 7


def test_runs_and_settled_write_no_record() -> None:
    assert record_for(Decision.RUN, entry(Stage.ACCEPTED), 0) is None
    assert record_for(Decision.SETTLED, entry(Stage.ACCEPTED), 0) is None
