"""The API documents: what `createApi` accepts, and how one route joins or leaves an API.

An API is a swagger 2.0 document under one base path; a namespace has any number of them.
Clients create it either whole (the `swagger` form: `wsk api create --config-file`,
serverless-openwhisk ≥ 0.17) or one route at a time (the `apidoc` form: `wsk api create
/base /path get action`, the `openwhisk` npm client, serverless-openwhisk ≤ 0.16), and
routes made one call at a time under one base path merge into one API, as OpenWhisk's
`core/routemgmt/common/apigw-utils.js` does: each operation carries `x-openwhisk`
(namespace, package, action, and the web action's URL with the response type as its
extension), and a route's secure key sits in `x-ibm-configuration`'s operation switch, as
the `X-Require-Whisk-Auth` header to set. Refusals use OpenWhisk's messages.

Pure: no I/O, so every rule is unit-tested (tests/unit/test_apigw_model.py).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pywhisk.common import jsonio

VERBS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")
RESPONSE_TYPES = ("http", "json", "text", "html", "svg")
SECURE_HEADER = "message.headers.X-Require-Whisk-Auth"
DEFAULT = "_"

_WEB_URL = re.compile(r"^(\w+)://([:/\w.\-\[\]]+?)/api/v\d/web/")


class ApiDocError(ValueError):
    """A refusal, with OpenWhisk's message for it."""


def _json_field(value: Any, what: str, kind: str) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = jsonio.loads_bounded(value.encode())
        except (jsonio.JSONDecodeError, jsonio.TooDeep):
            raise ApiDocError(f"{what} field cannot be parsed. Ensure it is valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiDocError(f"{what} field is {kind} and should be a JSON object or a JSON string.")
    return value


def check_swagger(swagger: dict[str, Any]) -> None:
    if not swagger.get("basePath"):
        raise ApiDocError("swagger is missing the basePath field.")
    if not isinstance(swagger.get("paths"), dict):
        raise ApiDocError("swagger is missing the paths field.")
    if not isinstance(swagger.get("info"), dict):
        raise ApiDocError("swagger is missing the info field.")
    if not str(swagger["basePath"]).startswith("/"):
        raise ApiDocError("Swagger file basePath must start with a leading slash (/)")


def parse_apidoc(given: Any) -> dict[str, Any]:
    """The `apidoc` of a createApi request, checked as OpenWhisk's createApi checks it; its
    `swagger`, when given (an object or a JSON string), parsed."""
    if not given:
        raise ApiDocError("apidoc is required.")
    doc = copy.deepcopy(_json_field(given, "apidoc", type(given).__name__))
    if not doc.get("namespace"):
        raise ApiDocError("apidoc is missing the namespace field")
    if doc.get("swagger"):
        if doc.get("gatewayBasePath"):
            raise ApiDocError(
                "swagger and gatewayBasePath are mutually exclusive and cannot be specified together."
            )
        doc["swagger"] = _json_field(doc["swagger"], "swagger", type(doc["swagger"]).__name__)
        check_swagger(doc["swagger"])
        return doc
    for field in ("gatewayBasePath", "gatewayPath", "gatewayMethod"):
        if not doc.get(field):
            raise ApiDocError(f"apidoc is missing the {field} field")
        if not isinstance(doc[field], str):
            raise ApiDocError(f"apidoc field {field} must be a string.")
    action = doc.get("action")
    if not isinstance(action, dict):
        raise ApiDocError("apidoc is missing the action field.")
    for field in ("backendMethod", "backendUrl", "namespace", "name", "authkey"):
        if not action.get(field):
            raise ApiDocError(f"action is missing the {field} field.")
        if not isinstance(action[field], str):
            raise ApiDocError(f"action field {field} must be a string.")
    if "pathParameters" in doc and not isinstance(doc["pathParameters"], list | None):
        raise ApiDocError("apidoc field pathParameters must be a list.")
    for field in ("gatewayBasePath", "gatewayPath"):
        if not str(doc[field]).startswith("/"):
            raise ApiDocError(f"'{doc[field]}' must begin with '/'.")
    if str(doc["gatewayMethod"]).upper() not in VERBS:
        raise ApiDocError(
            f"'{doc['gatewayMethod']}' is not a valid API verb.  Valid values are: {list(VERBS)}"
        )
    return doc


def check_response_type(given: str | None) -> str:
    kind = str(given or "json").lower()
    if kind not in RESPONSE_TYPES:
        raise ApiDocError(
            f"Invalid response type '{given}'. Possible values are {', '.join(RESPONSE_TYPES)}"
        )
    return kind


def with_namespace(doc: dict[str, Any], namespace: str) -> dict[str, Any]:
    """OW's updateNamespace: the caller's namespace replaces `_` (the apidoc's always, the
    action's only when it is `_`: a route may name another namespace's web action)."""
    doc = copy.deepcopy(doc)
    doc["namespace"] = namespace
    action = doc.get("action")
    if isinstance(action, dict) and action.get("namespace") == DEFAULT:
        action["namespace"] = namespace
    return doc


def normal_base_path(base_path: str) -> str:
    return "/" + base_path.strip("/") if base_path.strip("/") else "/"


def split_action_name(name: str) -> tuple[str | None, str]:
    """`pkg/action` → (pkg, action); `/ns/pkg/action` keeps its last two parts."""
    parts = [p for p in name.split("/") if p]
    if len(parts) >= 3:
        return parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], parts[1]
    return None, parts[0] if parts else ""


def operation_id(operation: str, relpath: str) -> str:
    """OW's makeOperationId: `get` + `/books/{isbn}` → `getBooksIsbn`."""
    words = re.sub(r"[^0-9a-z_-]", " ", relpath, flags=re.IGNORECASE).split()
    return operation.lower() + "".join(w[:1].upper() + w[1:].lower() for w in words)


def web_url(backend_url: str, fallback_base: str, namespace: str, name: str, kind: str) -> str:
    """The route's web-action URL, on the host the client named in its backend URL."""
    found = _WEB_URL.match(backend_url or "")
    base = f"{found.group(1)}://{found.group(2)}" if found else fallback_base.rstrip("/")
    package, action = split_action_name(name)
    return f"{base}/api/v1/web/{namespace}/{package or 'default'}/{action}.{kind}"


def base_swagger(base_path: str, api_name: str | None) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": api_name or base_path, "version": "1.0.0"},
        "basePath": base_path,
        "paths": {},
        "x-ibm-configuration": {"assembly": {}, "cors": {"enabled": True}},
    }


def _cases(swagger: dict[str, Any]) -> list[dict[str, Any]]:
    config = swagger.setdefault("x-ibm-configuration", {})
    assembly = config.setdefault("assembly", {})
    execute = assembly.setdefault("execute", [{}])
    if not execute or not isinstance(execute[0], dict):
        execute[:] = [{}]
    switch = execute[0].setdefault("operation-switch", {})
    cases: list[dict[str, Any]] = switch.setdefault("case", [])
    return cases


def _without_case(swagger: dict[str, Any], op_id: str) -> None:
    cases = _cases(swagger)
    cases[:] = [c for c in cases if (c.get("operations") or [None])[0] != op_id]


def add_route(
    swagger: dict[str, Any], doc: dict[str, Any], kind: str, fallback_base: str
) -> dict[str, Any]:
    """`swagger` with the apidoc's route added (replacing the same path and verb)."""
    swagger = copy.deepcopy(swagger)
    action = doc["action"]
    operation = str(doc["gatewayMethod"]).lower()
    relpath = str(doc["gatewayPath"])
    op_id = operation_id(operation, relpath)
    url = web_url(action["backendUrl"], fallback_base, action["namespace"], action["name"], kind)
    package, name = split_action_name(action["name"])
    entry: dict[str, Any] = {
        "operationId": op_id,
        "x-openwhisk": {
            "url": url,
            "namespace": action["namespace"],
            "package": package or "",
            "action": name,
        },
        "responses": {"default": {"description": "Default response"}},
    }
    if doc.get("pathParameters"):
        entry["parameters"] = doc["pathParameters"]
    swagger["paths"].setdefault(relpath, {})[operation] = entry
    _without_case(swagger, op_id)
    execute: list[dict[str, Any]] = [
        {
            "invoke": {
                "target-url": url + ("$(request.path)" if kind == "http" else ""),
                "verb": "keep",
            }
        }
    ]
    if action.get("secureKey") not in (None, "", False):
        secure = action["secureKey"]
        value = secure if isinstance(secure, str) else jsonio.dumps_str(secure)
        execute.append({"set-variable": {"actions": [{"set": SECURE_HEADER, "value": value}]}})
    _cases(swagger).append({"operations": [op_id], "execute": execute})
    return swagger


def remove_route(swagger: dict[str, Any], relpath: str, operation: str | None) -> dict[str, Any]:
    """`swagger` without the path (every verb of it) or the one operation; OW's refusals."""
    swagger = copy.deepcopy(swagger)
    paths = swagger.get("paths") or {}
    if relpath not in paths:
        if operation:
            raise ApiDocError(
                f"path '{relpath}' with operation '{operation.lower()}' does not exist in the API"
            )
        raise ApiDocError(f"path '{relpath}' does not exist in the API")
    operations = [operation.lower()] if operation else list(paths[relpath])
    if operation and operation.lower() not in paths[relpath]:
        raise ApiDocError(
            f"path '{relpath}' with operation '{operation.lower()}' does not exist in the API"
        )
    for op in operations:
        paths[relpath].pop(op, None)
        _without_case(swagger, operation_id(op, relpath))
    if not paths[relpath]:
        del paths[relpath]
    return swagger


def cli_value(swagger: dict[str, Any], namespace: str, tenant: str, gw_url: str) -> dict[str, Any]:
    """One API as getApi lists it and createApi answers it (OW generateCliApiFromGwApi)."""
    return {
        "namespace": namespace,
        "gwApiActivated": True,
        "tenantId": tenant,
        "gwApiUrl": gw_url,
        "apidoc": swagger,
    }
