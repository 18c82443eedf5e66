"""What a running sequence has done so far, and the activation record it ends with
(docs/openwhisk-compatibility.md §6.1, OW `SequenceActions.scala` `SequenceAccounting`, `makeSequenceActivation`).

Pure: each step takes a component's activation record and gives the next accounting, so the
short-circuit, limit and record rules are tested without running anything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pywhisk.common.entities import Action, ActivationResponse, Status
from pywhisk.common.entities.activation import Activation
from pywhisk.common.entities.params import KeyValue
from pywhisk.common.runtimes import SEQUENCE
from pywhisk.controller.core.sequences.checks import TOO_LONG

FAILED = "Sequence failed."


def component_timeout(activation_id: str) -> str:
    return f"Timeout reached when retrieving activation {activation_id} for sequence component."


@dataclass(frozen=True, slots=True)
class Accounting:
    count: int  # atomic actions run since the topmost sequence started, nested ones included
    response: ActivationResponse  # the last component's; at first, the sequence's input
    ids: tuple[str, ...] = ()  # component activation ids, in order: the sequence's `logs`
    duration: int = 0  # the components' own durations summed, not the wall time
    max_memory: int | None = None
    stopped: bool = False  # an error ended the chain

    @classmethod
    def start(cls, payload: Any, count: int = 0) -> Accounting:
        return cls(count=count, response=ActivationResponse(status=Status.SUCCESS, result=payload))

    def next_input(self) -> dict[str, Any] | list[Any] | None:
        """The previous result feeds the next component when it is an object or an array;
        anything else gives the component only its own parameters."""
        result = self.response.result
        return result if isinstance(result, dict | list) else None

    def step(self, record: dict[str, Any], count: int, limit: int) -> Accounting:
        """A component finished with `record`; a result holding `error` stops the chain."""
        response = ActivationResponse.from_json(record["response"])
        result = response.result
        stopped = isinstance(result, dict) and "error" in result
        if count > limit:
            response, stopped = ActivationResponse.error(Status.APPLICATION_ERROR, TOO_LONG), True
        memory = _memory(record)
        if memory is not None and self.max_memory is not None:
            memory = max(memory, self.max_memory)
        return Accounting(
            count=count,
            response=response,
            ids=(*self.ids, record["activationId"]),
            duration=self.duration + int(record.get("duration") or 0),
            max_memory=memory if memory is not None else self.max_memory,
            stopped=stopped,
        )

    def fail(self, status: Status, message: str, activation_id: str | None = None) -> Accounting:
        """The chain ends without a usable component record (missing component, no answer)."""
        ids = (*self.ids, activation_id) if activation_id else self.ids
        return replace(
            self, response=ActivationResponse.error(status, message), ids=ids, stopped=True
        )


def _memory(record: dict[str, Any]) -> int | None:
    for annotation in record.get("annotations", ()):
        if annotation.get("key") == "limits" and isinstance(annotation.get("value"), dict):
            memory = annotation["value"].get("memory")
            return memory if isinstance(memory, int) else None
    return None


@dataclass(frozen=True, slots=True)
class SequenceRun:
    """Who ran which sequence, and where it sits: a topmost one has no cause."""

    action: Action
    activation_id: str
    namespace: str
    subject: str
    cause: str | None  # the enclosing sequence's activation id; None when topmost
    binding: str | None
    received: int  # epoch ms the request (or the enclosing sequence's step) arrived

    @property
    def topmost(self) -> bool:
        return self.cause is None


def sequence_record(run: SequenceRun, accounting: Accounting, start: int, end: int) -> Activation:
    action = run.action
    annotations = [
        KeyValue(key="topmost", value=run.topmost),
        KeyValue(key="path", value=action.doc_id),
        KeyValue(key="kind", value=SEQUENCE),
    ]
    if not run.topmost:
        annotations.append(KeyValue(key="causedBy", value=SEQUENCE))
    annotations.append(KeyValue(key="waitTime", value=max(0, start - run.received)))
    if run.binding:
        annotations.append(KeyValue(key="binding", value=run.binding))
    if accounting.max_memory is not None:
        limits = action.limits.model_copy(update={"memory": accounting.max_memory})
        annotations.append(KeyValue(key="limits", value=limits.to_json()))
    return Activation(
        namespace=run.namespace,
        name=action.name,
        version=action.version,
        subject=run.subject,
        activation_id=run.activation_id,
        start=start,
        end=end,
        duration=accounting.duration,
        cause=run.cause,
        response=accounting.response,
        logs=accounting.ids,
        annotations=tuple(annotations),
    )
