"""A running sequence's bookkeeping and its record (OW SequenceAccounting,
makeSequenceActivation; docs/openwhisk-compatibility.md §6.1)."""

from __future__ import annotations

from typing import Any

from pywhisk.common.entities import Action, ActionLimits, ActivationResponse, Exec, Status
from pywhisk.common.entities.activation import Activation
from pywhisk.common.entities.params import KeyValue
from pywhisk.controller.core.sequences.accounting import (
    FAILED,
    Accounting,
    SequenceRun,
    component_timeout,
    sequence_record,
)
from pywhisk.controller.core.sequences.checks import TOO_LONG

SEQ = Action(
    namespace="guest",
    name="s",
    version="0.0.3",
    exec=Exec(kind="sequence", components=("/guest/a", "/guest/b")),
    limits=ActionLimits(timeout=30_000),
)


def component(
    activation_id: str, result: Any, status: Status = Status.SUCCESS, memory: int = 256
) -> dict[str, Any]:
    return Activation(
        namespace="guest",
        name="a",
        subject="guest",
        activation_id=activation_id,
        start=1000,
        end=1000 + len(activation_id),
        response=ActivationResponse(status=status, result=result),
        annotations=(KeyValue(key="limits", value=ActionLimits(memory=memory).to_json()),),
    ).to_json()


def test_each_result_is_the_next_input() -> None:
    first = Accounting.start({"text": "b a"})
    assert first.next_input() == {"text": "b a"}
    second = first.step(component("id1", ["a", "b"]), 1, 50)
    assert second.next_input() == ["a", "b"]  # arrays pass as arrays
    third = second.step(component("id22", "just text"), 2, 50)
    assert third.next_input() is None  # neither: the next component gets only its defaults
    assert third.ids == ("id1", "id22")
    assert third.duration == len("id1") + len("id22")  # components' durations summed
    assert not third.stopped


def test_an_error_result_stops_the_chain_and_is_the_result() -> None:
    failed = Accounting.start({}).step(
        component("id1", {"error": "boom"}, Status.APPLICATION_ERROR), 1, 50
    )
    assert failed.stopped
    assert failed.response == ActivationResponse(
        status=Status.APPLICATION_ERROR, result={"error": "boom"}, size=16
    )
    # an error in the input does not count: only what a component returned
    assert not Accounting.start({"error": "given"}).stopped


def test_over_the_limit_at_run_time() -> None:
    over = Accounting.start({}, count=50).step(component("id51", {"ok": True}), 51, 50)
    assert over.stopped
    assert over.response.status is Status.APPLICATION_ERROR
    assert over.response.result == {"error": TOO_LONG}
    assert over.ids == ("id51",)


def test_failures_without_a_record() -> None:
    timed_out = Accounting.start({}).fail(Status.WHISK_ERROR, component_timeout("id9"), "id9")
    assert timed_out.ids == ("id9",) and timed_out.stopped
    assert timed_out.response.result == {
        "error": "Timeout reached when retrieving activation id9 for sequence component."
    }
    assert Accounting.start({}).fail(Status.WHISK_ERROR, FAILED).ids == ()


def annotation_map(record: Activation) -> dict[str, Any]:
    return {a.key: a.value for a in record.annotations}


def test_topmost_record() -> None:
    accounting = (
        Accounting.start({})
        .step(component("id1", {"x": 1}, memory=128), 1, 50)
        .step(component("id22", {"y": 2}, memory=512), 2, 50)
    )
    run = SequenceRun(SEQ, "seqid", "guest", "subj", cause=None, binding=None, received=900)
    record = sequence_record(run, accounting, start=1000, end=1200)
    assert (record.name, record.version, record.subject) == ("s", "0.0.3", "subj")
    assert record.logs == ("id1", "id22")
    assert record.duration == 3 + 4 and record.end == 1200
    assert record.cause is None
    assert record.response.result == {"y": 2}
    assert annotation_map(record) == {
        "topmost": True,
        "path": "guest/s",
        "kind": "sequence",
        "waitTime": 100,
        # the sequence's limits with the largest memory of its components
        "limits": {"timeout": 30_000, "memory": 512, "logs": 10, "concurrency": 1},
    }


def test_nested_record_names_its_cause_and_binding() -> None:
    run = SequenceRun(SEQ, "inner", "guest", "subj", cause="outer", binding="guest/b", received=5)
    record = sequence_record(run, Accounting.start({}), start=5, end=5)
    assert record.cause == "outer"
    found = annotation_map(record)
    assert found["topmost"] is False and found["causedBy"] == "sequence"
    assert found["binding"] == "guest/b"
    assert "limits" not in found  # no component ran: no memory to account for
