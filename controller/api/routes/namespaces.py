"""GET /namespaces and /namespaces/{ns}/limits (docs/openwhisk-compatibility.md §1.2, §1.8)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pywhisk.controller.api.auth import Caller, Svc, own_namespace
from pywhisk.controller.api.responses import json_response

router = APIRouter(prefix="/api/v1/namespaces")


@router.get("")
async def list_namespaces(caller: Caller) -> Response:
    return json_response(200, [caller.namespace])


@router.get("/{namespace}/limits")
async def limits(namespace: str, caller: Caller, svc: Svc) -> Response:
    own_namespace(caller, namespace)
    per_minute, concurrent, fires = svc.throttles.limits(caller)
    s = svc.settings
    return json_response(
        200,
        {
            "invocationsPerMinute": per_minute,
            "concurrentInvocations": concurrent,
            "firesPerMinute": fires,
            "minActionMemory": s.min_action_memory,
            "maxActionMemory": s.max_action_memory,
            "minActionLogs": s.min_action_logs,
            "maxActionLogs": s.max_action_logs,
            "minActionTimeout": s.min_action_timeout,
            "maxActionTimeout": s.max_action_timeout,
            "minActionConcurrency": 1,
            "maxActionConcurrency": 1,
            "maxParameterSize": f"{s.payload_max // (1024 * 1024)} MB",
            "maxActionInstances": concurrent,
        },
    )
