"""Invoking an action the way every entry point does (docs/openwhisk-compatibility.md §1.3.3): the REST route,
web actions and rules all call `invoke`.

Throttles are checked once per invoke; then a primitive action is published to an invoker
(`controller.primitive`) and a sequence is run by the controller (`controller.sequences.run`),
so callers need not know which kind they hold.
"""

from __future__ import annotations

from typing import Any

from pywhisk.common.entities import Action, Identity
from pywhisk.common.runtimes import SEQUENCE
from pywhisk.controller.core.capabilities import Invoking
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.primitive import (
    NOT_ALLOWED,
    Outcome,
    invoke_primitive,
    merge_arguments,
    refuse_final_overrides,
)
from pywhisk.controller.core.sequences import run as sequences

__all__ = ["NOT_ALLOWED", "Outcome", "invoke", "merge_arguments"]


async def invoke(
    svc: Invoking,
    caller: Identity,
    action: Action,
    revision: str,
    payload: Any,
    *,
    blocking: bool,
    transid: str,
    wait: float | None = None,
    cause: str | None = None,
    binding: str | None = None,
    received: int | None = None,
    client_context: str | None = None,
) -> Outcome:
    """`cause`: the activation that led to this one (a trigger's, for rules); a sequence
    invoked this way is still topmost, and its record carries no cause (as in OW).
    `client_context`: Lambda's (JSON text), for a primitive action; sequences have none."""
    svc.throttles.check_invoke(caller, svc.tracker.in_flight(caller.namespace))
    sequence = action.exec.kind == SEQUENCE
    try:
        content = merge_arguments(action, payload) if not sequence else payload
        if sequence:
            refuse_final_overrides(action, payload)
            return await sequences.invoke_sequence(
                svc,
                caller,
                action,
                payload,
                blocking=blocking,
                transid=transid,
                wait=wait,
                binding=binding,
                received=received,
            )
        return await invoke_primitive(
            svc,
            caller,
            action,
            revision,
            content,
            blocking=blocking,
            transid=transid,
            wait=wait,
            cause=cause,
            binding=binding,
            received=received,
            client_context=client_context,
        )
    except ApiError:
        # Refused before anything was accepted (final parameters, a sequence's inaccessible
        # component, no invoker reachable): the minute's budget is for accepted work only.
        svc.throttles.refund("invoke", caller.namespace)
        raise
