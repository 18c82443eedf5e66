"""Reading request bodies: size limits first, then JSON (docs/openwhisk-compatibility.md §1.1, §1.3.3)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from pywhisk.common import jsonio
from pywhisk.controller.core.errors import ApiError, malformed

M = TypeVar("M", bound=BaseModel)


def too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, f"Request larger than allowed: {size} > {limit} bytes.")


async def body_bytes(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared), limit)
    # Read as it comes and stop past the limit: a chunked body declares no length, and
    # buffering all of it first would let one request fill the controller's memory.
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """A request body's JSON, nested at most `jsonio.MAX_DEPTH` deep; else 400."""
    try:
        return jsonio.loads_bounded(body)
    except (jsonio.JSONDecodeError, jsonio.TooDeep) as e:
        raise malformed(str(e)) from None


async def json_body(request: Request, limit: int) -> Any:
    """The JSON body, `{}` when empty (OW accepts an empty entity as an empty object)."""
    body = await body_bytes(request, limit)
    if not body.strip():
        return {}
    return parse_json(body)


def parse_model(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise malformed("expected a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise malformed(detail) from None


PARAMETER_SIZE_MAX = 1024 * 1024  # OW whisk.parameter-size-limit


def check_sizes(
    body: dict[str, Any], fields: tuple[str, ...] = ("parameters", "annotations")
) -> None:
    """A PUT body's parameters and annotations: at most 1 MB each, else 413 (§1.3.1)."""
    for field in fields:
        size = jsonio.size(body.get(field) or [])
        if size > PARAMETER_SIZE_MAX:
            raise ApiError(
                413, f"{field} larger than allowed: {size} > {PARAMETER_SIZE_MAX} bytes."
            )
