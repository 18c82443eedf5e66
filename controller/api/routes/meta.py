"""Unauthenticated information routes: /ping, /, /api/v1 (docs/openwhisk-compatibility.md §1.2)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import PlainTextResponse, Response

from pywhisk.controller.api.auth import Svc
from pywhisk.controller.api.responses import json_response

router = APIRouter()


@router.get("/ping")
async def ping() -> Response:
    return PlainTextResponse("pong")


@router.get("/")
async def info(svc: Svc) -> Response:
    s = svc.settings
    return json_response(
        200,
        {
            "description": "OpenWhisk",
            "support": {"github": "https://github.com/apache/openwhisk/issues"},
            "api_paths": ["/api/v1"],
            "limits": {
                "actions_per_minute": s.invocations_per_minute,
                "triggers_per_minute": s.fires_per_minute,
                "concurrent_actions": s.concurrent_invocations,
                "sequence_length": s.sequence_max_length,
                "min_action_duration": s.min_action_timeout,
                "max_action_duration": s.max_action_timeout,
                "min_action_memory": s.min_action_memory * 1024 * 1024,
                "max_action_memory": s.max_action_memory * 1024 * 1024,
                "min_action_logs": s.min_action_logs * 1024 * 1024,
                "max_action_logs": s.max_action_logs * 1024 * 1024,
            },
            "runtimes": svc.manifest.info(),
        },
    )


@router.get("/api/v1")
async def api_info() -> Response:
    return json_response(
        200,
        {
            "description": "OpenWhisk API",
            "api_version": "1.0.0",
            "api_version_path": "v1",
            "build": "pywhisk",
            "buildno": "0.1.0",
            "swagger_paths": {"ui": "/docs", "api-docs": "/api-docs"},
        },
    )
