"""A stored API (swagger 2.0) compiled into the routes the gateway serves.

Each operation names its web action in `x-openwhisk` (namespace, package, action, and the
URL whose extension is the response type), as OpenWhisk's route management and
serverless-openwhisk write it; an operation without it falls back to the web-action URL of
its `x-ibm-configuration` case (`target-url`), and one with neither is listed but not
served. The secure key, when a route has one, is the `X-Require-Whisk-Auth` value its case
sets. CORS is on unless `x-ibm-configuration.cors.enabled` is false (serverless-openwhisk's
`resources.apigw.cors`). The gateway never fetches those URLs: it runs the named action in
process, through the web-action code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pywhisk.controller.api.apigw.model import (
    RESPONSE_TYPES,
    SECURE_HEADER,
    VERBS,
    normal_base_path,
)

_WEB_PATH = re.compile(r"/api/v\d/web/([^/]+)/([^/]+)/([^/$?]+?)\.(\w+)(?:\$\(request\.path\))?$")


@dataclass(frozen=True, slots=True)
class Target:
    namespace: str
    package: str | None
    action: str
    extension: str  # the response type: http, json, text, html, svg
    secure_key: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    method: str  # upper case
    relpath: str  # as declared, e.g. /books/{isbn}
    segments: tuple[str, ...]  # split relpath; `{name}` segments are parameters
    target: Target | None


@dataclass(frozen=True, slots=True)
class CompiledApi:
    base_path: str  # normalised: "/" or "/name" without a trailing slash
    base_segments: tuple[str, ...]
    routes: tuple[Route, ...]
    cors: bool


def segments_of(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


def _extension(url: str) -> str | None:
    found = _WEB_PATH.search(url or "")
    return found.group(4) if found and found.group(4) in RESPONSE_TYPES else None


def _cases(swagger: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """operationId → its case of the operation switch."""
    config = swagger.get("x-ibm-configuration") or {}
    execute = (config.get("assembly") or {}).get("execute") or []
    out: dict[str, dict[str, Any]] = {}
    for step in execute:
        if not isinstance(step, dict):
            continue
        for case in (step.get("operation-switch") or {}).get("case") or []:
            if isinstance(case, dict):
                for op_id in case.get("operations") or []:
                    out[str(op_id)] = case
    return out


def _case_details(case: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(target URL, secure key) of an operation's case."""
    url = key = None
    for step in (case or {}).get("execute") or []:
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("invoke"), dict):
            url = step["invoke"].get("target-url")
        for action in (step.get("set-variable") or {}).get("actions") or []:
            value = action.get("value") if isinstance(action, dict) else None
            if action.get("set") == SECURE_HEADER and value not in (None, ""):
                key = str(value)
    return url, key


def _target(operation: dict[str, Any], case: dict[str, Any] | None) -> Target | None:
    case_url, secure_key = _case_details(case)
    given = operation.get("x-openwhisk")
    if isinstance(given, dict) and given.get("namespace") and given.get("action"):
        extension = _extension(str(given.get("url", ""))) or _extension(case_url or "") or "json"
        package = str(given.get("package") or "")
        return Target(
            namespace=str(given["namespace"]),
            # serverless-openwhisk names no package `default`, as web-action URLs do
            package=None if package in ("", "default") else package,
            action=str(given["action"]),
            extension=extension,
            secure_key=secure_key,
        )
    found = _WEB_PATH.search(case_url or "")
    if found is None or found.group(4) not in RESPONSE_TYPES:
        return None
    namespace, package, action, extension = found.groups()
    return Target(
        namespace, None if package == "default" else package, action, extension, secure_key
    )


def compile_api(swagger: dict[str, Any]) -> CompiledApi:
    base_path = normal_base_path(str(swagger.get("basePath") or "/"))
    cases = _cases(swagger)
    routes: list[Route] = []
    for relpath, item in (swagger.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for verb, operation in item.items():
            if verb.upper() not in VERBS or not isinstance(operation, dict):
                continue
            case = cases.get(str(operation.get("operationId", "")))
            routes.append(
                Route(
                    verb.upper(), str(relpath), segments_of(str(relpath)), _target(operation, case)
                )
            )
    cors = ((swagger.get("x-ibm-configuration") or {}).get("cors") or {}).get("enabled", True)
    return CompiledApi(base_path, segments_of(base_path), tuple(routes), cors is not False)
