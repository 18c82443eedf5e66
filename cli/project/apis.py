"""A package's `apis:` as the API Gateway's `createApi` requests (OpenWhisk's `apidoc` form).

`apiName: {basePath: {relativePath: {actionName: {method, response}}}}`, as wskdeploy's
`ComposeApiRecords` reads it: the action (or sequence) must be one of the same package's,
and is made a web action if it is not one (with a warning, as wskdeploy does); path
parameters (`items/{id}`) are declared in `pathParameters` and force the `http` response,
since only a `.http` result can see the path; the base path is one segment. The backend
URL is the action's web URL with `.http`, the response type travels as `?responsetype=`,
both as the Go client sends them. `method` may also be given alone (`list: GET`).
"""

from __future__ import annotations

import re
from typing import Any

from .entities import DEFAULT_PACKAGE, Entity, Target
from .inputs import InputError
from .source import Node

METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")
RESPONSES = ("http", "json", "text", "html", "svg")
PARAM = re.compile(r"\{([^/{}]+)\}")


def _node(value: Any, line: int, what: str) -> Node:
    if not isinstance(value, Node) or not value:
        raise InputError(f"{what} must be a non-empty mapping", line)
    return value


def _web(entity: Entity) -> bool:
    return any(a["key"] == "web-export" and a["value"] is True for a in entity.body["annotations"])


def _make_web(entity: Entity) -> None:
    kept = [
        a for a in entity.body["annotations"] if a["key"] not in ("web-export", "raw-http", "final")
    ]
    entity.body["annotations"] = [
        *kept,
        {"key": "web-export", "value": True},
        {"key": "raw-http", "value": False},
        {"key": "final", "value": True},
    ]


def build_apis(
    given: Any, line: int, package: str, entities: list[Entity], target: Target
) -> list[tuple[Entity, str | None]]:
    """One createApi request per (api, path, method); a warning beside each, or None."""
    ns = target.namespace
    prefix = "" if package == DEFAULT_PACKAGE else f"{package}/"
    runnable = {e.name: e for e in entities if e.kind in ("action", "sequence")}
    out: list[tuple[Entity, str | None]] = []
    for api_name, bases in _node(given, line, "apis").items():
        bases = _node(bases, given.line_of(api_name), f"api '{api_name}'")
        for base, paths in bases.items():
            at = bases.line_of(base)
            segments = [s for s in str(base).split("/") if s]
            if len(segments) != 1 or PARAM.search(str(base)):
                raise InputError(
                    f"api '{api_name}': base path '{base}' must be one path segment", at
                )
            base_path = "/" + segments[0]
            paths = _node(paths, at, f"api '{api_name}' base path '{base}'")
            for rel, targets in paths.items():
                rel_path = "/" + str(rel).lstrip("/")
                targets = _node(targets, paths.line_of(rel), f"api '{api_name}' path '{rel}'")
                for action, how in targets.items():
                    where = targets.line_of(action)
                    entity = runnable.get(prefix + str(action))
                    if entity is None:
                        raise InputError(
                            f"api '{api_name}': action '{action}' is not an action or sequence "
                            "of this package",
                            where,
                        )
                    method, response = _method(how, where, api_name)
                    warning = None
                    if not _web(entity):
                        _make_web(entity)
                        warning = f"action '{action}' is made a web action for api '{api_name}'"
                    params = list(dict.fromkeys(PARAM.findall(rel_path)))
                    if params and response != "http":
                        warning = f"api '{api_name}': path '{rel_path}' has parameters: response is http, not {response}"
                        response = "http"
                    secure = next(
                        (
                            a["value"]
                            for a in entity.body["annotations"]
                            if a["key"] == "require-whisk-auth"
                        ),
                        None,
                    )
                    action_doc: dict[str, Any] = {
                        "name": prefix + str(action),
                        "namespace": ns,
                        "backendMethod": method,
                        "backendUrl": f"{target.api_base}/v1/web/{ns}/{package}/{action}.http",
                        "authkey": target.auth,
                    }
                    if secure not in (None, False):
                        action_doc["secureKey"] = secure
                    apidoc: dict[str, Any] = {
                        "namespace": ns,
                        "gatewayBasePath": base_path,
                        "gatewayPath": rel_path,
                        "gatewayMethod": method,
                        "id": f"API:{ns}:{rel_path}",
                        "apiName": str(api_name),
                        "action": action_doc,
                    }
                    if params:
                        apidoc["pathParameters"] = [
                            {
                                "name": p,
                                "in": "path",
                                "required": True,
                                "type": "string",
                                "description": f"Default description for '{p}'",
                            }
                            for p in params
                        ]
                    name = f"{api_name} {base_path}{rel_path} {method}"
                    out.append(
                        (
                            Entity(
                                "api",
                                name,
                                where,
                                {"apidoc": apidoc},
                                query=[("responsetype", response)],
                            ),
                            warning,
                        )
                    )
    return out


def _method(how: Any, line: int, api_name: str) -> tuple[str, str]:
    if isinstance(how, str):
        method, response = how, "http"
    elif isinstance(how, Node):
        method, response = str(how.get("method", "")), str(how.get("response", "http"))
        line = how.line_of("method")
    else:
        raise InputError(f"api '{api_name}': give method (and response)", line)
    if method.upper() not in METHODS:
        raise InputError(
            f"api '{api_name}': method '{method}' is not one of {', '.join(METHODS)}", line
        )
    if response.lower() not in RESPONSES:
        raise InputError(
            f"api '{api_name}': response '{response}' is not one of {', '.join(RESPONSES)}", line
        )
    return method.upper(), response.lower()
