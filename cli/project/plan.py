"""What a deploy would change: each manifest entity against what the server holds now.

Deploying the same manifest twice must change nothing the second time: a PUT of an
unchanged action still retires its warm containers (a new revision), and a trigger's feed
re-created re-registers its alarm. So every entity is read first (one GET each; for the
APIs one `getApi` per base path) and compared on what the manifest sets: exec (kind,
code, main, image, components), parameters, annotations (less the `exec` one the server
adds), the limits the manifest names, `publish`, a rule's trigger, action and status,
an API route's action, response type and secret (the action's `require-whisk-auth`, which
the route sends). Feed inputs are not stored on the trigger (the
feed gets them), so the manifest's are kept as a digest annotation to compare.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pywhisk.cli.client import WhiskClient, quote_path
from pywhisk.cli.errors import EXIT_NOT_FOUND, WskError

from .entities import Entity, Manifest

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
SERVER_ANNOTATIONS = {"exec", "provide-api-key"}  # the server adds them to every action
SERVER_PARAMETERS = {"_actions"}  # a sequence's components, as OpenWhisk keeps them
COLLECTIONS = {
    "package": "packages",
    "action": "actions",
    "sequence": "actions",
    "trigger": "triggers",
    "rule": "rules",
}
APIMGMT = "v1/web/whisk.system/apimgmt"
SECURE_HEADER = "message.headers.X-Require-Whisk-Auth"  # what a route's case sets


@dataclass
class Step:
    entity: Entity
    change: str  # CREATE, UPDATE or UNCHANGED


def entity_url(client: WhiskClient, entity: Entity) -> str:
    return client.namespaced(f"{COLLECTIONS[entity.kind]}/{quote_path(entity.name)}")


def apimgmt_url(client: WhiskClient, operation: str) -> str:
    return f"{client.base_url}/{APIMGMT}/{operation}.http"


def fetch(client: WhiskClient, entity: Entity) -> Any:
    """The server's copy of `entity` (code included), or None when it does not exist."""
    query = [("code", "true")] if entity.kind in ("action", "sequence") else []
    try:
        return client.request("GET", entity_url(client, entity), query=query).body
    except WskError as err:
        if err.exit_code == EXIT_NOT_FOUND:
            return None
        raise


def fetch_api(client: WhiskClient, base_path: str) -> Any:
    """`getApi` for one base path: the swagger document, or None."""
    try:
        body = client.request(
            "GET", apimgmt_url(client, "getApi"), query=[("basepath", base_path)]
        ).body
    except WskError as err:
        if err.exit_code == EXIT_NOT_FOUND:
            return None
        raise
    apis = body.get("apis") if isinstance(body, dict) else None
    for item in apis or []:
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, dict) and isinstance(value.get("apidoc"), dict):
            return value["apidoc"]
    return None


def _kv(items: Any) -> dict[str, Any]:
    return {i["key"]: i.get("value") for i in items or [] if isinstance(i, dict) and "key" in i}


def _same_common(entity: Entity, have: dict[str, Any]) -> bool:
    """Parameters (an action's merged over its package's, as GET shows them) and
    annotations, less those the server adds unless the manifest sets them too."""
    wanted = _kv(entity.body.get("annotations"))
    annotations = {
        k: v
        for k, v in _kv(have.get("annotations")).items()
        if k not in SERVER_ANNOTATIONS or k in wanted
    }
    params = {**_kv(entity.inherited), **_kv(entity.body.get("parameters"))}
    have_params = {
        k: v for k, v in _kv(have.get("parameters")).items() if k not in SERVER_PARAMETERS
    }
    return params == have_params and wanted == annotations


def _same_exec(want: dict[str, Any], have: dict[str, Any]) -> bool:
    if want.get("kind") == "sequence":
        return have.get("kind") == "sequence" and want["components"] == have.get("components")
    keys = ("kind", "code", "image")
    if any(want.get(k) != have.get(k) for k in keys if k in want or k in have):
        return False
    same_main = (want.get("main") or "") == (have.get("main") or "")
    return same_main and bool(want.get("binary")) == bool(have.get("binary"))


def _name_of(ref: Any) -> str:
    if isinstance(ref, dict):
        return f"/{ref.get('path', '')}/{ref.get('name', '')}"
    return str(ref)


def same(entity: Entity, have: dict[str, Any]) -> bool:
    """Whether the server's `have` already is what `entity` would write (pure)."""
    want = entity.body
    if entity.kind == "rule":
        return (
            _name_of(have.get("trigger")) == want["trigger"]
            and _name_of(have.get("action")) == want["action"]
            and have.get("status") == "active"
        )
    if not _same_common(entity, have):
        return False
    if entity.kind == "package":
        return bool(have.get("publish")) == want["publish"] and not have.get("binding")
    if entity.kind in ("action", "sequence"):
        limits = have.get("limits") or {}
        return _same_exec(want["exec"], have.get("exec") or {}) and all(
            limits.get(k) == v for k, v in (want.get("limits") or {}).items()
        )
    return True  # triggers: parameters and annotations (the feed's among them)


def _route_secret(swagger: dict[str, Any], operation_id: Any) -> str | None:
    """The `X-Require-Whisk-Auth` value the route's case of the operation switch sets, as
    createApi keeps it (OW's `x-ibm-configuration` assembly), or None."""
    assembly = (swagger.get("x-ibm-configuration") or {}).get("assembly") or {}
    for step in assembly.get("execute") or []:
        cases = ((step or {}).get("operation-switch") or {}).get("case") or []
        for case in cases:
            if not isinstance(case, dict) or operation_id not in (case.get("operations") or []):
                continue
            for item in case.get("execute") or []:
                for action in ((item or {}).get("set-variable") or {}).get("actions") or []:
                    if isinstance(action, dict) and action.get("set") == SECURE_HEADER:
                        return str(action.get("value"))
    return None


def _wanted_secret(secure: Any) -> str | None:
    """The header value a route made with `secureKey` sends (the server writes a non-text
    key as compact JSON)."""
    if secure in (None, "", False):
        return None
    return secure if isinstance(secure, str) else json.dumps(secure, separators=(",", ":"))


def same_api(entity: Entity, swagger: dict[str, Any] | None) -> bool:
    if not swagger:
        return False
    doc = entity.body["apidoc"]
    operation = (
        (swagger.get("paths") or {}).get(doc["gatewayPath"], {}).get(doc["gatewayMethod"].lower())
    )
    target = operation.get("x-openwhisk") if isinstance(operation, dict) else None
    if not isinstance(target, dict):
        return False
    package, _, action = doc["action"]["name"].rpartition("/")
    response = dict(entity.query).get("responsetype", "http")
    return (
        target.get("namespace") == doc["namespace"]
        and (target.get("package") or "") == package
        and target.get("action") == action
        and str(target.get("url", "")).endswith(f".{response}")
        and (swagger.get("info") or {}).get("title") == doc["apiName"]
        # a changed secret must reach the route, or it would be refused by its own action
        and _route_secret(swagger, operation.get("operationId"))
        == _wanted_secret(doc["action"].get("secureKey"))
    )


def as_after_package_update(
    have: dict[str, Any], old: dict[str, Any], new: dict[str, Any]
) -> dict[str, Any]:
    """An action as GET will show it once its package's parameters go from `old` to `new`:
    the server merges them under the action's own, so a value equal to the old package's
    is the package's (an action setting the same value itself is indistinguishable, and
    behaves the same)."""
    params = dict(_kv(have.get("parameters")))
    for key, value in old.items():
        if key in params and params[key] == value:
            del params[key]
    merged = {**new, **params}
    return {**have, "parameters": [{"key": k, "value": v} for k, v in merged.items()]}


def make_plan(client: WhiskClient, manifest: Manifest) -> list[Step]:
    steps = []
    swaggers: dict[str, Any] = {}
    packages: dict[str, dict[str, Any]] = {}  # the server's parameters of changing packages
    for entity in manifest.entities:
        if entity.kind == "api":
            base = entity.body["apidoc"]["gatewayBasePath"]
            if base not in swaggers:
                swaggers[base] = fetch_api(client, base)
            unchanged = same_api(entity, swaggers[base])
            exists = swaggers[base] is not None
        else:
            have = fetch(client, entity)
            exists = isinstance(have, dict)
            package = entity.name.split("/")[0]
            if exists and entity.kind in ("action", "sequence") and package in packages:
                have = as_after_package_update(have, packages[package], _kv(entity.inherited))
            unchanged = exists and same(entity, have)
            if exists and entity.kind == "package" and not unchanged:
                packages[entity.name] = _kv(have.get("parameters"))
        steps.append(Step(entity, UNCHANGED if unchanged else UPDATE if exists else CREATE))
    return steps
