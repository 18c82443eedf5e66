"""`GET /api/v1/namespaces/{ns}/usage?since=&upto=`: what the namespace's actions ran and
what it comes to in GB-seconds (a pywhisk extension; OpenWhisk has no such API).

`since` and `upto` are epoch milliseconds, as for activation lists, bounding the records'
`start`. The figures come from the stored records (`ActivationStore.usage`), so every
controller answers the same, before and after a restart. With `PYWHISK_PRICE_PER_GB_SECOND`
set, each row and the total carry a `cost`, and the answer names the price.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.store.usage import total
from pywhisk.controller.api.auth import Caller, Svc, own_namespace
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.api.routes.activations import _epoch
from pywhisk.controller.core.errors import ApiError

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/usage")


@router.get("")
async def usage(namespace: str, request: Request, caller: Caller, svc: Svc) -> Response:
    ns = own_namespace(caller, namespace)
    since = _epoch(request.query_params.get("since"))
    upto = _epoch(request.query_params.get("upto"))
    if since is not None and upto is not None and since > upto:
        raise ApiError(400, f"The parameter 'since' ({since}) is after 'upto' ({upto}).")
    with svc.metrics.timing("usage"):
        actions = await svc.store.activations.usage(ns, since=since, upto=upto)
    price = svc.settings.price_per_gb_second
    body: dict[str, Any] = {
        "namespace": ns,
        "since": since,
        "upto": upto,
        "actions": [a.to_json(price) for a in actions],
        "total": {k: v for k, v in total(actions).to_json(price).items() if k != "name"},
    }
    if price:
        body["price_per_gb_second"] = price
    return json_response(200, body)
