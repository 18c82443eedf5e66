"""`/api/v1/web/whisk.system/apimgmt/{createApi,getApi,deleteApi}[.http|.json]`: the API
Gateway's management API, at the URLs OpenWhisk's clients call.

In OpenWhisk these are web actions that forward to a separate gateway service. Here the
controller is the gateway, so they are controller routes registered ahead of the web
route: no container starts per call, the caller's key never becomes an action argument,
and the documents are written with the store's compare-and-set like any entity.

As OpenWhisk's actions, they take their parameters from the query and a JSON body (body
wins), act for the caller their Basic credentials name (`__ow_user`; 401 without them),
and ignore the `gwUrl`, `accesstoken`, `spaceguid` and `tenantInstance` plumbing: the
tenant is the caller's uuid.
  createApi  {apidoc: {namespace, gatewayBasePath, gatewayPath, gatewayMethod, id, apiName,
             action{name, namespace, backendMethod, backendUrl, authkey, secureKey},
             pathParameters} | {namespace, swagger}}, ?responsetype=json
             → 200 {namespace, gwApiActivated, tenantId, gwApiUrl, apidoc}
  getApi     ?basepath=/b | API name, limit, skip → 200 {apis: [{id, key, value}]}
             (relpath and operation are the client's to filter, as in OpenWhisk)
  deleteApi  ?basepath, relpath, operation → 200 {}; deleting an API's last route deletes it
             (`force`, which clients may send, changes nothing: OW's deleteApi reads none)
Refusals are OpenWhisk's messages: 400 for a bad request, 404 for an API or route that
does not exist (OpenWhisk answers both with a 502 from the action).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from pywhisk.common import jsonio
from pywhisk.common.entities import Identity
from pywhisk.common.store.base import Conflict
from pywhisk.controller.api.apigw import model, tenants
from pywhisk.controller.api.apigw.model import ApiDocError
from pywhisk.controller.api.auth import identity
from pywhisk.controller.api.requests import body_bytes, parse_json
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.api.web.request import split_extension
from pywhisk.controller.core import errors
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.services import Services

PATH = "/api/v1/web/whisk.system/apimgmt/{operation}"
_CREATE, _DELETE = "API creation failure: ", "API deletion failure: "


def gw_url(request: Request, tenant: str, base_path: str) -> str:
    base = str(request.base_url).rstrip("/")
    return f"{base}/api/{tenant}{'' if base_path == '/' else base_path}"


async def _params(request: Request, svc: Services) -> dict[str, Any]:
    """Query < JSON body, as a web action's arguments; values other than the apidoc as
    text (a number where a path is expected is the caller's mistake, not a crash)."""
    params: dict[str, Any] = dict(parse_qsl(request.url.query, keep_blank_values=True))
    body = await body_bytes(request, svc.settings.payload_max)
    if body.strip():
        given = parse_json(body)
        if isinstance(given, dict):
            params.update(given)
    return {
        k: v if k == "apidoc" or isinstance(v, str) or v is None else jsonio.dumps_str(v)
        for k, v in params.items()
    }


def _named(apis: tenants.Apis, name: str) -> str | None:
    """The base path of the API `name` names: a base path, or else an API's title."""
    if name.startswith("/"):
        wanted = model.normal_base_path(name)
        return wanted if wanted in apis else None
    for base_path, swagger in apis.items():
        if (swagger.get("info") or {}).get("title") == name:
            return base_path
    return None


def _own_names(swagger: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A whole swagger's `_` namespaces made the caller's, as for the one-route form."""
    for item in (swagger.get("paths") or {}).values():
        for operation in (item or {}).values() if isinstance(item, dict) else ():
            extension = operation.get("x-openwhisk") if isinstance(operation, dict) else None
            if isinstance(extension, dict) and extension.get("namespace") == model.DEFAULT:
                extension["namespace"] = namespace
    return swagger


async def create_api(request: Request, svc: Services, caller: Identity) -> Response:
    params = await _params(request, svc)
    try:
        doc = model.with_namespace(model.parse_apidoc(params.get("apidoc")), caller.namespace)
        kind = model.check_response_type(params.get("responsetype"))
    except ApiDocError as e:
        raise ApiError(400, str(e)) from None
    base = str(request.base_url)
    if doc.get("swagger"):
        swagger = _own_names(doc["swagger"], caller.namespace)
        base_path = model.normal_base_path(str(swagger["basePath"]))
    else:
        base_path = model.normal_base_path(str(doc["gatewayBasePath"]))

    def change(apis: tenants.Apis) -> tenants.Apis:
        if doc.get("swagger"):
            return {**apis, base_path: swagger}
        current = apis.get(base_path) or model.base_swagger(base_path, doc.get("apiName"))
        return {**apis, base_path: model.add_route(current, doc, kind, base)}

    written = await _modify(svc, caller, change)
    url = gw_url(request, caller.uuid, base_path)
    return json_response(
        200, model.cli_value(written[base_path], caller.namespace, caller.uuid, url)
    )


async def _modify(
    svc: Services, caller: Identity, change: Callable[[tenants.Apis], tenants.Apis]
) -> tenants.Apis:
    key = tenants.doc_id(caller.uuid)
    try:
        written, replaced = await tenants.modify(svc.store, caller, change)
    except Conflict:
        raise ApiError(409, errors.CONCURRENT_MODIFICATION) from None
    finally:
        svc.entities.invalidate(key)
    if replaced is not None:
        await svc.entity_changed(key, replaced)  # other controllers drop their copy
    return written


def _limit(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"The value of '{name}' is not an integer.") from None
    return max(number, 0)


async def get_api(request: Request, svc: Services, caller: Identity) -> Response:
    params = await _params(request, svc)
    apis = await tenants.read(svc.store, caller)
    name = params.get("basepath")
    if name:
        found = _named(apis, str(name))
        chosen = [found] if found else []
    else:
        chosen = sorted(apis)
    skip, limit = _limit(params, "skip", 0), _limit(params, "limit", 0)
    chosen = chosen[skip : skip + limit] if limit else chosen[skip:]
    rows = [
        {
            "id": f"API:{caller.namespace}:{base_path}",
            "key": f"{caller.namespace}/{base_path}",
            "value": model.cli_value(
                apis[base_path],
                caller.namespace,
                caller.uuid,
                gw_url(request, caller.uuid, base_path),
            ),
        }
        for base_path in chosen
    ]
    return json_response(200, {"apis": rows})


async def delete_api(request: Request, svc: Services, caller: Identity) -> Response:
    params = await _params(request, svc)
    name, relpath = params.get("basepath"), params.get("relpath")
    operation = params.get("operation")
    if not name:
        raise ApiError(400, "basepath is required.")
    if operation and not relpath:
        raise ApiError(400, "When specifying an operation, the path is required.")

    def change(apis: tenants.Apis) -> tenants.Apis:
        base_path = _named(apis, str(name))
        if base_path is None:
            raise ApiError(404, f"{_DELETE}API '{name}' does not exist.")
        rest = dict(apis)
        if not relpath:
            del rest[base_path]
            return rest
        try:
            swagger = model.remove_route(apis[base_path], str(relpath), operation)
        except ApiDocError as e:
            raise ApiError(404, _DELETE + str(e)) from None
        if swagger.get("paths"):
            rest[base_path] = swagger
        else:  # its last route: the API goes with it
            del rest[base_path]
        return rest

    await _modify(svc, caller, change)
    return json_response(200, {})


_OPERATIONS = {"createApi": create_api, "getApi": get_api, "deleteApi": delete_api}


async def apimgmt_endpoint(request: Request) -> Response:
    name, _ = split_extension(str(request.path_params["operation"]))
    handler = _OPERATIONS.get(name)
    if handler is None:
        raise ApiError(404)
    svc: Services = request.app.state.services
    caller = await identity(request)
    return await handler(request, svc, caller)


def install(app: FastAPI) -> None:
    """Ahead of the web route, which would look for an action of that name."""
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    app.add_route(PATH, apimgmt_endpoint, methods=methods, include_in_schema=False)
