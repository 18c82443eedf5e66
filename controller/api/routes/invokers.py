"""Controller admin routes on invoker health (OW `Controller.scala` internalInvokerHealth;
not part of the user API, unauthenticated as in OpenWhisk):

- `GET /invokers`: `{"invoker0": "up", "invoker1": "down", …}`
- `GET /invokers/healthy/count`: the number of usable invokers
- `GET /invokers/ready`: 200 `{"healthy": "2/2"}` when every known invoker is usable,
  else 500 `{"unhealthy": "1/2"}` (OW readiness-fraction 100%; none known is not ready).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pywhisk.controller.api.auth import Svc
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.core.gauges import STATE_NAMES as _NAMES
from pywhisk.controller.core.health import Status

router = APIRouter()


@router.get("/invokers")
async def invokers(svc: Svc) -> Response:
    health = svc.balancer.invoker_health()
    return json_response(200, {f"invoker{i}": _NAMES[status] for i, status in health})


@router.get("/invokers/healthy/count")
async def healthy_count(svc: Svc) -> Response:
    health = svc.balancer.invoker_health()
    return json_response(200, sum(status is Status.HEALTHY for _, status in health))


@router.get("/invokers/ready")
async def ready(svc: Svc) -> Response:
    health = svc.balancer.invoker_health()
    total = len(health)
    healthy = sum(status is Status.HEALTHY for _, status in health)
    if total and healthy == total:
        return json_response(200, {"healthy": f"{healthy}/{total}"})
    return json_response(500, {"unhealthy": f"{total - healthy}/{total}"})
