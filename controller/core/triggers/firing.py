"""Firing a trigger (docs/openwhisk-compatibility.md §1.4; OW `Triggers.activate`): the REST route, webhooks
and the feed services all call `fire_trigger`.

With no active rule nothing happens and nothing is recorded (the route answers 204).
Otherwise the trigger's activation id is chosen and returned at once (202), and the rest
runs in `svc.detached`, off the caller's critical path: each rule's action is resolved
and invoked non-blocking as the caller, with trigger parameters ⊕ `__ow_headers` ⊕ payload,
then the trigger's record is written with one log line per rule. A stopping controller
drains `svc.detached` before its invoker and store go; if it must cut a fire short, the
record is still written, the rules it could not reach reported as whisk errors.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from pywhisk.common import jsonio
from pywhisk.common.entities import (
    Activation,
    ActivationResponse,
    Identity,
    RuleLink,
    Status,
    Trigger,
)
from pywhisk.common.entities import params as P
from pywhisk.common.ids import new_activation_id
from pywhisk.common.logcontext import activation_context
from pywhisk.common.names import QualifiedName
from pywhisk.common.whisk_errors import log_whisk_error
from pywhisk.controller.core import errors
from pywhisk.controller.core.capabilities import Firing
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.invoke import invoke
from pywhisk.controller.core.resolve import resolve_action
from pywhisk.controller.core.triggers.docs import require_trigger

log = logging.getLogger(__name__)

# Request headers not passed on to rules' actions in `__ow_headers`: the caller's key
# would reach code that may belong to another namespace (OW forwards it; we do not).
WITHHELD_HEADERS = frozenset({"authorization", "cookie"})


def inactive_message(rule: str, action: str) -> str:
    return f"Rule '{rule}' is inactive, action '{action}' was not activated."


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One line of the trigger record's logs (OW RuleActivationResult)."""

    rule: str  # `ns/rule`
    action: str  # `ns[/pkg]/action`
    status: Status
    activation_id: str | None = None
    error: str | None = None

    def to_log(self) -> str:
        out: dict[str, Any] = {
            "statusCode": int(self.status),
            "success": self.status == Status.SUCCESS,
            "rule": self.rule,
            "action": self.action,
        }
        if self.activation_id is not None:
            out["activationId"] = self.activation_id
        else:
            out["error"] = self.error
        return jsonio.dumps_str(out)


def rule_arguments(
    trigger: Trigger, payload: dict[str, Any], headers: dict[str, str] | None
) -> dict[str, Any]:
    """trigger parameters < `__ow_headers` (lower-cased names) < the fired payload."""
    forwarded = {
        k.lower(): v for k, v in (headers or {}).items() if k.lower() not in WITHHELD_HEADERS
    }
    return {**P.to_dict(trigger.parameters), "__ow_headers": forwarded, **payload}


async def _fire_rule(
    svc: Firing,
    caller: Identity,
    rule: str,
    link: RuleLink,
    args: dict[str, Any],
    transid: str,
    received: int,
) -> RuleOutcome:
    action = link.action.doc_id
    if link.status != "active":
        return RuleOutcome(
            rule, action, Status.APPLICATION_ERROR, error=inactive_message(rule, action)
        )
    try:
        target = await resolve_action(svc, link.action.fqn, caller)
        outcome = await invoke(
            svc,
            caller,
            target.action,
            target.revision,
            args,
            blocking=False,
            transid=transid,
            binding=target.binding,
            received=received,
        )
    except ApiError as e:
        # As OW reads its own REST answer: a 4xx is the user's, a 5xx the platform's.
        status = Status.WHISK_ERROR if e.status >= 500 else Status.APPLICATION_ERROR
        return RuleOutcome(rule, action, status, error=e.message)
    except Exception:
        log.exception("rule %s could not invoke %s", rule, action)
        return RuleOutcome(rule, action, Status.WHISK_ERROR, error=errors.INTERNAL)
    return RuleOutcome(rule, action, Status.SUCCESS, activation_id=outcome.activation_id)


async def _activate_rules(
    svc: Firing,
    caller: Identity,
    trigger: Trigger,
    record: Activation,
    args: dict[str, Any],
    transid: str,
) -> dict[str, Any]:
    rules = list((trigger.rules or {}).items())
    outcomes: list[RuleOutcome | None] = [None] * len(rules)

    async def one(i: int, rule: str, link: RuleLink) -> None:
        outcomes[i] = await _fire_rule(svc, caller, rule, link, args, transid, record.start)

    try:
        await asyncio.gather(*(one(i, r, link) for i, (r, link) in enumerate(rules)))
    finally:
        # Also when cancelled by a stopping controller: the record is written regardless.
        ended = [
            o
            if o is not None
            else RuleOutcome(r, link.action.doc_id, Status.WHISK_ERROR, error=errors.INTERNAL)
            for o, (r, link) in zip(outcomes, rules, strict=True)
        ]
        for o in ended:
            if o.status == Status.WHISK_ERROR:  # the rule's line in the record, for the operator
                cause = f"rule {o.rule} could not invoke {o.action}"
                error = o.error or errors.INTERNAL
                log_whisk_error(log, record.activation_id, transid, error, cause, trigger.doc_id)
        doc = record.model_copy(update={"logs": tuple(o.to_log() for o in ended)}).to_json()
        with svc.metrics.timing("activation_put"):
            await svc.store.activations.put(doc)
    return doc


async def fire_trigger(
    svc: Firing,
    caller: Identity,
    fqn: QualifiedName,
    payload: dict[str, Any],
    *,
    transid: str,
    headers: dict[str, str] | None = None,
) -> str | None:
    """Fire the trigger `fqn` as `caller` with `payload`: the trigger activation's id, or
    None when no rule of it is active (nothing ran, nothing recorded).

    Raises ApiError: 429 past the namespace's fires per minute, 404 for no such trigger
    (409 for another kind of entity by that name).
    """
    svc.throttles.check_fire(caller)
    try:
        trigger, _ = await require_trigger(svc, fqn.doc_id)
    except ApiError:  # no such trigger: nothing fired, nothing counted
        svc.throttles.refund("fire", caller.namespace)
        raise
    if not trigger.active_rules():
        return None
    record = Activation(
        namespace=caller.namespace,
        name=trigger.name,
        version=trigger.version,
        subject=caller.subject,
        activation_id=new_activation_id(),
        start=int(time.time() * 1000),
        response=ActivationResponse(status=Status.SUCCESS, result=payload or {}),
    )
    args = rule_arguments(trigger, payload, headers)
    # The rules' lines name the trigger's activation; each action they invoke its own.
    with activation_context(record.activation_id, transid):
        log.debug("fired trigger %s: %d rules", fqn, len(trigger.rules or {}))
        svc.detached.spawn(_activate_rules(svc, caller, trigger, record, args, transid))
    return record.activation_id
