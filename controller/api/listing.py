"""Query parameters shared by every list route (docs/openwhisk-compatibility.md §1.1 "List query params")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from pywhisk.controller.api.responses import json_response
from pywhisk.controller.core.errors import ApiError

if TYPE_CHECKING:
    from pywhisk.controller.core.services import Services

MAX_LIMIT = 200
DEFAULT_LIMIT = 30


def _int(params: QueryParams, name: str, collection: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"The value '{raw}' is not an integer for {collection}.") from None


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def flag(params: QueryParams, name: str, default: bool = False) -> bool:
    """A boolean query parameter, read as OpenWhisk's (akka-http) unmarshaller reads it."""
    raw = params.get(name)
    if raw is None:
        return default
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ApiError(
        400, f"The query parameter '{name}' was malformed:\n'{raw}' is not a valid Boolean value"
    )


@dataclass(frozen=True, slots=True)
class Page:
    skip: int
    limit: int
    count: bool

    @classmethod
    def parse(cls, params: QueryParams, collection: str) -> Page:
        limit = _int(params, "limit", collection)
        skip = _int(params, "skip", collection)
        if limit is None:
            limit = DEFAULT_LIMIT
        elif limit == 0:
            limit = MAX_LIMIT
        elif not 0 <= limit <= MAX_LIMIT:
            raise ApiError(
                400,
                f"The value '{limit}' is not in the range of 0 to {MAX_LIMIT} for {collection}.",
            )
        if skip is None:
            skip = 0
        elif skip < 0:
            raise ApiError(
                400, f"The value '{skip}' is not greater than or equal to 0 for {collection}."
            )
        return cls(skip=skip, limit=limit, count=flag(params, "count"))


async def list_entities(
    svc: Services,
    request: Request,
    namespace: str,
    entity_type: str,
    render: Callable[[dict[str, Any]], dict[str, Any]],
) -> Response:
    """GET of a namespace-level collection: a page of items, or `{"<type>s": N}` for count."""
    collection = f"{entity_type}s"
    page = Page.parse(request.query_params, collection)
    entities = svc.store.entities
    if page.count:
        return json_response(200, {collection: await entities.count(namespace, entity_type)})
    docs = await entities.list(namespace, entity_type, skip=page.skip, limit=page.limit)
    return json_response(200, [render(d) for d in docs])
