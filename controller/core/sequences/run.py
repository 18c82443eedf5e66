"""Sequences, run by the controller (docs/openwhisk-compatibility.md §6.1; OW `SequenceActions.scala`).

Each component is invoked blocking, for its own time limit plus a minute (not the
caller's 60 s); its result is the next one's input; a result holding `error` ends the chain
and is the sequence's result. The sequence then writes its own record: kind `sequence`,
`logs` = its components' activation ids, `duration` = theirs summed. A caller that stops
waiting (non-blocking, or past its blocking wait) gets the sequence's activation id and the
run goes on in `svc.detached`, which a stopping controller drains.

Components are found through `resolve_action`, as every other way in finds actions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pywhisk.common.entities import Action, Identity, Status
from pywhisk.common.ids import new_activation_id
from pywhisk.common.logcontext import activation_context
from pywhisk.common.names import QualifiedName
from pywhisk.common.runtimes import SEQUENCE
from pywhisk.common.store.base import StoreError
from pywhisk.common.whisk_errors import log_whisk_error
from pywhisk.controller.core import errors
from pywhisk.controller.core.capabilities import SequenceRunning
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.primitive import Outcome, arguments, invoke_primitive, journal_running
from pywhisk.controller.core.resolve import resolve_action
from pywhisk.controller.core.sequences.accounting import (
    FAILED,
    Accounting,
    SequenceRun,
    component_timeout,
    sequence_record,
)
from pywhisk.controller.core.sequences.checks import (
    MISSING,
    TOO_LONG,
    ComponentMissing,
    InvalidSequence,
    count_atomic,
    parse_component,
)

log = logging.getLogger(__name__)

# Past its own time limit, how long a component may take to answer (OW: timeout + 1 min).
COMPONENT_GRACE = 60.0


def _now() -> int:
    return int(time.time() * 1000)


def components_of(action: Action) -> tuple[QualifiedName, ...]:
    namespace = action.fqn.namespace
    return tuple(parse_component(c, namespace) for c in action.exec.components or ())


# -- entitlement and PUT checks --------------------------------------------------------------


async def refuse_inaccessible(
    svc: SequenceRunning, caller: Identity, components: tuple[QualifiedName, ...]
) -> None:
    """403 naming every component `caller` may not use, as OW's entitlement check of a
    sequence's referenced actions does; missing ones are left to the sequence rules."""
    denied: set[str] = set()
    for component in components:
        try:
            await resolve_action(svc, component, caller)
        except ApiError as e:
            if e.status == 403:
                denied.add(component.doc_id)
    if denied:
        raise errors.not_authorized(", ".join(sorted(denied)))


async def _lookup(
    svc: SequenceRunning, component: QualifiedName
) -> tuple[str, tuple[QualifiedName, ...] | None]:
    try:
        action = (await resolve_action(svc, component)).action
    except ApiError as e:
        if e.status in (404, 409):
            raise ComponentMissing from None
        raise
    return action.doc_id, components_of(action) if action.exec.kind == SEQUENCE else None


async def check_put(svc: SequenceRunning, caller: Identity, action: Action) -> None:
    """A sequence about to be stored: 403 for components `caller` may not use, 400 with
    OW's message when it is empty, too long, names a missing action or reaches itself."""
    components = components_of(action)
    await refuse_inaccessible(svc, caller, components)
    try:
        count = await count_atomic(
            action.fqn,
            components,
            lambda component: _lookup(svc, component),
            svc.settings.sequence_max_length,
        )
    except InvalidSequence as e:
        raise ApiError(400, e.message) from None
    log.debug("sequence %s runs %d atomic actions", action.doc_id, count)


# -- running ----------------------------------------------------------------------------------


async def invoke_sequence(
    svc: SequenceRunning,
    caller: Identity,
    action: Action,
    payload: Any,
    *,
    blocking: bool,
    transid: str,
    wait: float | None = None,
    binding: str | None = None,
    received: int | None = None,
) -> Outcome:
    """A topmost sequence: its activation id at once when non-blocking, its record when it
    ends within the wait, else (202) its id while it runs on."""
    await refuse_inaccessible(svc, caller, components_of(action))
    run = SequenceRun(
        action=action,
        activation_id=new_activation_id(),
        namespace=caller.namespace,
        subject=caller.subject,
        cause=None,
        binding=binding,
        received=received if received is not None else _now(),
    )
    # Its lines, and those of the task that runs it, name the sequence's activation; each
    # component's invoke names its own.
    with activation_context(run.activation_id, transid):
        if not blocking:  # the 202 is a promise: journaled first (in standalone)
            await _journal(svc, caller, run, refuse=True)
        task = svc.detached.spawn(_topmost(svc, caller, run, payload, transid))
        if not blocking:
            return Outcome(run.activation_id, None)
        timeout = svc.settings.blocking_wait if wait is None else wait
        record = await svc.detached.wait(task, timeout)
        if record is None:  # a 202 after all, while it runs on
            await _journal(svc, caller, run, refuse=False)
        return Outcome(run.activation_id, record)


async def _journal(
    svc: SequenceRunning, caller: Identity, run: SequenceRun, *, refuse: bool
) -> None:
    try:
        await journal_running(svc, caller, run.action, run.activation_id, run.received)
    except StoreError:
        log.exception("could not journal sequence activation %s", run.activation_id)
        if refuse:
            raise ApiError(503, errors.UNAVAILABLE) from None


async def _topmost(
    svc: SequenceRunning, caller: Identity, run: SequenceRun, payload: Any, transid: str
) -> dict[str, Any]:
    record, _ = await _run(svc, caller, run, payload, transid, count=0, depth=0)
    return record


async def _run(
    svc: SequenceRunning,
    caller: Identity,
    run: SequenceRun,
    payload: Any,
    transid: str,
    *,
    count: int,
    depth: int,
) -> tuple[dict[str, Any], int]:
    """Run `run`'s components in order; store and return its record and the atomic count
    so far. Every way out writes the record, cancellation (a shutdown's drain) included."""
    with activation_context(run.activation_id, transid):  # a nested one names its own
        return await _run_components(svc, caller, run, payload, transid, count, depth)


async def _run_components(
    svc: SequenceRunning,
    caller: Identity,
    run: SequenceRun,
    payload: Any,
    transid: str,
    count: int,
    depth: int,
) -> tuple[dict[str, Any], int]:
    start = _now()
    accounting = Accounting.start(payload, count)
    started: list[str] = []  # component activation ids, as they are published
    try:
        for component in components_of(run.action):
            accounting = await _step(
                svc, caller, run, component, accounting, transid, depth, started
            )
            if accounting.stopped:
                break
    except asyncio.CancelledError:
        # The component still running is named too: the invoker records how it ended.
        running = started[-1] if started and started[-1] not in accounting.ids else None
        cause = "the controller stopped while it ran"
        log_whisk_error(log, run.activation_id, transid, FAILED, cause, run.action.doc_id)
        await _store(svc, run, accounting.fail(Status.WHISK_ERROR, FAILED, running), start)
        raise
    except Exception as exc:
        log.exception("sequence %s (%s) failed", run.action.doc_id, run.activation_id)
        cause = f"{type(exc).__name__}: {exc}"
        log_whisk_error(log, run.activation_id, transid, FAILED, cause, run.action.doc_id)
        accounting = accounting.fail(Status.WHISK_ERROR, FAILED)
    record = await _store(svc, run, accounting, start)
    log.debug("ran sequence %s: %d actions", run.action.doc_id, accounting.count - count)
    return record, accounting.count


async def _step(
    svc: SequenceRunning,
    caller: Identity,
    run: SequenceRun,
    component: QualifiedName,
    accounting: Accounting,
    transid: str,
    depth: int,
    started: list[str],
) -> Accounting:
    limit = svc.settings.sequence_max_length
    # Nesting counts too: a loop of sequences without atomic actions (only possible through
    # concurrent updates) would otherwise recurse for ever.
    if accounting.count >= limit or depth >= limit:
        return accounting.fail(Status.APPLICATION_ERROR, TOO_LONG)
    try:
        target = await resolve_action(svc, component)
    except ApiError as e:
        if e.status in (404, 409):
            return accounting.fail(Status.APPLICATION_ERROR, MISSING)
        raise
    action = target.action
    activation_id = new_activation_id()
    started.append(activation_id)
    if action.exec.kind == SEQUENCE:
        inner = SequenceRun(
            action=action,
            activation_id=activation_id,
            namespace=run.namespace,
            subject=run.subject,
            cause=run.activation_id,
            binding=target.binding,
            received=_now(),
        )
        record, count = await _run(
            svc,
            caller,
            inner,
            accounting.next_input(),
            transid,
            count=accounting.count,
            depth=depth + 1,
        )
        return accounting.step(record, count, limit)
    outcome = await invoke_primitive(
        svc,
        caller,
        action,
        target.revision,
        arguments(action, accounting.next_input()),
        blocking=True,
        transid=transid,
        wait=action.limits.timeout / 1000 + COMPONENT_GRACE,
        cause=run.activation_id,
        binding=target.binding,
        internal=True,
        activation_id=activation_id,
    )
    if outcome.activation is None:
        message = component_timeout(outcome.activation_id)
        cause = f"component {action.doc_id} gave no answer within its time limit and grace"
        log_whisk_error(log, run.activation_id, transid, message, cause, run.action.doc_id)
        return accounting.fail(Status.WHISK_ERROR, message, outcome.activation_id)
    return accounting.step(outcome.activation, accounting.count + 1, limit)


async def _store(
    svc: SequenceRunning, run: SequenceRun, accounting: Accounting, start: int
) -> dict[str, Any]:
    record = sequence_record(run, accounting, start, _now()).to_json()
    try:
        with svc.metrics.timing("activation_put"):
            await svc.store.activations.put(record)
    except Exception:
        log.exception("storing the record of sequence activation %s failed", run.activation_id)
    return record
