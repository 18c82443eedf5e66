"""/namespaces/{ns}/rules: list, get, put, delete, enable and disable rules (docs/openwhisk-compatibility.md §1.5).

A rule is stored as its own document, but its status is its link in the trigger's `rules`
map (`controller.triggers.docs`): GET and PUT answer with the status read from there, and
POST {"status"} rewrites only the link.
"""

from __future__ import annotations

import time
from typing import cast

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.entities import EntityRef, Identity, Rule, RuleLink, RulePut
from pywhisk.common.entities.trigger import ACTIVE, INACTIVE, RuleStatus
from pywhisk.common.names import InvalidName, QualifiedName, check_name
from pywhisk.controller.api.auth import Caller, Svc, own_namespace
from pywhisk.controller.api.listing import flag, list_entities
from pywhisk.controller.api.requests import check_sizes, json_body, parse_model
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.core import errors
from pywhisk.controller.core.action_updates import bump_version
from pywhisk.controller.core.entity_writes import check_replace, delete_entity, put_entity
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.resolve import resolve_action
from pywhisk.controller.core.services import Services
from pywhisk.controller.core.triggers.docs import fetch_trigger, set_link, status_in

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/rules")

ONE_MB = 1024 * 1024
MALFORMED_NAME = (
    "requirement failed: The fully qualified name of the entity must contain at least "
    "the namespace and the name of the entity."
)
BOTH_REQUIRED = "rule requires a valid trigger and a valid action"
NO_TRIGGER = "Only rules with existing triggers can be activated"


def _rule_name(caller: Identity, namespace: str, name: str) -> QualifiedName:
    ns = own_namespace(caller, namespace, name)
    try:
        return QualifiedName(ns, check_name(name))
    except InvalidName as e:
        raise ApiError(400, str(e)) from None


def _reference(text: str | None, namespace: str) -> QualifiedName | None:
    if text is None:
        return None
    try:
        return QualifiedName.parse(text, namespace)
    except InvalidName:
        raise errors.malformed(MALFORMED_NAME) from None


async def _check_references(
    svc: Services, caller: Identity, trigger: QualifiedName, action: QualifiedName
) -> None:
    """The caller may read both (403), and both exist (400 naming the missing one)."""
    if trigger.namespace != caller.namespace or trigger.package is not None:
        raise errors.not_authorized(trigger.doc_id)  # triggers are never shared
    found = await svc.store.entities.get(trigger.doc_id)
    if found is None or found[0].get("entityType") != "trigger":
        raise ApiError(400, f"trigger {trigger} does not exist")
    try:
        await resolve_action(svc, action, caller)
    except ApiError as e:
        if e.status in (404, 409):
            raise ApiError(400, f"action {action} does not exist") from None
        raise


async def _rule(svc: Services, fqn: QualifiedName) -> tuple[Rule, str]:
    found = await svc.store.entities.get(fqn.doc_id)
    if found is None:
        raise ApiError(404)
    if found[0].get("entityType") != "rule":
        raise ApiError(409, errors.WRONG_COLLECTION)
    return Rule.model_validate(found[0]), found[1]


async def _status(svc: Services, rule: Rule) -> RuleStatus:
    trigger = await fetch_trigger(svc, rule.trigger.doc_id)
    return status_in(trigger[0] if trigger else None, rule.doc_id)


@router.get("")
async def list_rules(namespace: str, request: Request, caller: Caller, svc: Svc) -> Response:
    ns = own_namespace(caller, namespace)
    return await list_entities(svc, request, ns, "rule", lambda d: Rule.model_validate(d).to_json())


@router.get("/{name}")
async def get_rule(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    rule, _ = await _rule(svc, _rule_name(caller, namespace, name))
    return json_response(200, rule.to_json(await _status(svc, rule)))


@router.put("/{name}")
async def put_rule(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    fqn = _rule_name(caller, namespace, name)
    body = await json_body(request, 2 * ONE_MB)
    put = parse_model(RulePut, body)
    check_sizes(body, ("annotations",))
    trigger = _reference(put.trigger, caller.namespace)
    action = _reference(put.action, caller.namespace)
    overwrite = flag(request.query_params, "overwrite")
    existing = await svc.store.entities.get(fqn.doc_id)
    now = int(time.time() * 1000)
    if existing is None:
        if trigger is None or action is None:
            raise ApiError(400, BOTH_REQUIRED)
        await _check_references(svc, caller, trigger, action)
        rule = Rule(
            namespace=fqn.namespace,
            name=fqn.name,
            version=put.version or "0.0.1",
            publish=bool(put.publish),
            annotations=tuple(put.annotations or ()),
            trigger=EntityRef.of(trigger),
            action=EntityRef.of(action),
            updated=now,
        )
        old_trigger, status, rev = None, ACTIVE, None
    else:
        doc, rev = existing
        check_replace(doc, "rule", overwrite)
        old = Rule.model_validate(doc)
        trigger = trigger or old.trigger.fqn
        action = action or old.action.fqn
        await _check_references(svc, caller, trigger, action)
        old_trigger, status = old.trigger, await _status(svc, old)
        rule = old.model_copy(
            update={
                "trigger": EntityRef.of(trigger),
                "action": EntityRef.of(action),
                "version": put.version or bump_version(old.version),
                "publish": put.publish if put.publish is not None else old.publish,
                "annotations": (
                    tuple(put.annotations) if put.annotations is not None else old.annotations
                ),
                "updated": now,
            }
        )
    # The rule first: should linking fail, the rule exists unlinked (inactive) rather than
    # a trigger firing a rule that does not exist.
    await put_entity(svc, fqn.doc_id, {**rule.to_json(), "entityType": "rule"}, rev)
    if old_trigger is not None and old_trigger != rule.trigger:
        await set_link(svc, old_trigger.doc_id, rule.doc_id, None)
    link = RuleLink(action=rule.action, status=status)
    if not await set_link(svc, rule.trigger.doc_id, rule.doc_id, link):
        status = INACTIVE  # the trigger went away meanwhile: the rule dangles
    return json_response(200, rule.to_json(status))


@router.delete("/{name}")
async def delete_rule(namespace: str, name: str, caller: Caller, svc: Svc) -> Response:
    rule, rev = await _rule(svc, _rule_name(caller, namespace, name))
    await set_link(svc, rule.trigger.doc_id, rule.doc_id, None)
    await delete_entity(svc, rule.doc_id, rev)
    return json_response(200, rule.to_json(INACTIVE))


@router.post("/{name}")
async def set_status(
    namespace: str, name: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    fqn = _rule_name(caller, namespace, name)
    body = await json_body(request, ONE_MB)
    wanted = body.get("status") if isinstance(body, dict) else None
    if wanted not in (ACTIVE, INACTIVE):
        raise errors.malformed(
            f"'{wanted}' is not a recognized rule state, must be one of ['active', 'inactive']"
            if isinstance(wanted, str)
            else "Object expected in field 'status'"
        )
    wanted = cast(RuleStatus, wanted)
    rule, _ = await _rule(svc, fqn)
    trigger = await fetch_trigger(svc, rule.trigger.doc_id)
    if trigger is None:
        raise ApiError(404, NO_TRIGGER)
    if status_in(trigger[0], rule.doc_id) != wanted:
        link = RuleLink(action=rule.action, status=wanted)
        if not await set_link(svc, rule.trigger.doc_id, rule.doc_id, link):
            raise ApiError(404, NO_TRIGGER)
    return json_response(200, rule.to_json(wanted))
