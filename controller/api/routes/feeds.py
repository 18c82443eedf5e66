"""/namespaces/{ns}/feeds/{provider}/{trigger}: where the feed actions send lifecycle events.

Not an OpenWhisk route: OpenWhisk's feed actions call a provider service of their own
(the alarms package's `alarmWebAction`, say). Here the controller is the provider, and
the feed actions of `/whisk.system/alarms` and `/whisk.system/couchdb` POST
`{"lifecycleEvent": …, <feed parameters>}` with the trigger owner's key (the `authKey`
the CLI gave them). Only the owner of the trigger's namespace may manage its feed, and
only for a trigger that exists (DELETE excepted), as OpenWhisk's providers check by
reading the trigger with that key.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from pywhisk.common.names import InvalidName, check_name
from pywhisk.controller.api.auth import Caller, Svc, own_namespace
from pywhisk.controller.api.requests import json_body
from pywhisk.controller.api.responses import json_response
from pywhisk.controller.core.errors import ApiError
from pywhisk.controller.core.feeds.alarm_spec import FeedRefused
from pywhisk.controller.core.feeds.lifecycle import EVENTS, handle
from pywhisk.controller.core.feeds.registry import now_ms
from pywhisk.controller.core.feeds.service import Feeds

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/feeds")


@router.post("/{provider}/{trigger}")
async def lifecycle_event(
    namespace: str, provider: str, trigger: str, request: Request, caller: Caller, svc: Svc
) -> Response:
    ns = own_namespace(caller, namespace, trigger)
    try:
        check_name(trigger)
    except InvalidName as e:
        raise ApiError(400, str(e)) from None
    feeds: Feeds = request.app.state.feeds
    if provider not in feeds.providers:
        raise ApiError(404)
    params = await json_body(request, svc.settings.payload_max)
    if not isinstance(params, dict):
        raise ApiError(400, "The request content was malformed:\nexpected a JSON object")
    event = str(params.pop("lifecycleEvent", "")).upper()
    if event not in EVENTS:
        raise ApiError(400, "unsupported lifecycleEvent")
    found = await svc.store.entities.get(f"{ns}/{trigger}")
    if event != "DELETE" and (found is None or found[0].get("entityType") != "trigger"):
        raise ApiError(404, "Trigger authentication request failed.")
    try:
        body = await handle(
            feeds.registries[provider],
            feeds.providers[provider],
            ns,
            trigger,
            event,
            params,
            now_ms(),
        )
    except FeedRefused as e:
        raise ApiError(e.status, e.message) from None
    if event != "READ":
        feeds.look_now(provider)
    return json_response(200, body)
