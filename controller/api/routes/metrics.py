"""`GET /metrics`: this controller's figures in Prometheus' text format, for the operator
(see `common.metrics.access`); 501 when prometheus-client is not installed."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.metrics import MetricsUnavailable
from pywhisk.common.metrics.access import is_operator
from pywhisk.controller.api.auth import Svc
from pywhisk.controller.core.errors import ApiError

router = APIRouter()

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="OpenWhisk secure realm"'}


@router.get("/metrics")
async def metrics(request: Request, svc: Svc) -> Response:
    header = request.headers.get("authorization")
    if not await is_operator(header, svc.settings.metrics_token, svc.store):
        raise ApiError(401, headers=_CHALLENGE)
    try:
        write = svc.metrics.snapshot()
    except MetricsUnavailable as exc:
        raise ApiError(501, str(exc)) from None
    body, content_type = await asyncio.to_thread(write)
    return Response(body, media_type=content_type)
