"""HTTP Basic authentication: username = namespace uuid, password = key (§1.1)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from pywhisk.common.entities import Identity
from pywhisk.common.names import DEFAULT_NAMESPACE, InvalidName, check_namespace
from pywhisk.controller.core.errors import ApiError, not_authorized
from pywhisk.controller.core.services import Services

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="OpenWhisk secure realm"'}


def _challenge(request: Request) -> dict[str, str]:
    """The Basic challenge, except to a page's script (`X-Requested-With`, as the dashboard
    sends): a browser answers a challenged 401 to fetch() with its own password dialog,
    holding the request until someone answers it."""
    return {} if "x-requested-with" in request.headers else _CHALLENGE


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    uuid, sep, key = decoded.partition(":")
    return (uuid, key) if sep else None


async def optional_identity(request: Request) -> Identity | None:
    """The caller if valid Basic credentials were sent; None if none were; 401 if wrong."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    credentials = parse_basic(header)
    identity = (
        await (await services(request)).identities.by_auth(*credentials) if credentials else None
    )
    if identity is None:
        raise ApiError(401, headers=_challenge(request))
    return identity


async def identity(request: Request) -> Identity:
    caller = await optional_identity(request)
    if caller is None:
        raise ApiError(401, headers=_challenge(request))
    return caller


Caller = Annotated[Identity, Depends(identity)]


async def services(request: Request) -> Services:
    # async on purpose: FastAPI runs sync dependencies on a thread pool, a hop per request.
    return request.app.state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(services)]


def resolve_namespace(caller: Identity, namespace: str) -> str:
    """`_` is the caller's namespace; an invalid one is a 400."""
    try:
        check_namespace(namespace)
    except InvalidName as e:
        raise ApiError(400, str(e)) from None
    return caller.namespace if namespace == DEFAULT_NAMESPACE else namespace


def own_namespace(caller: Identity, namespace: str, entity: str | None = None) -> str:
    """Resolve `_` and refuse another namespace (403), as OW entitlement does for owners.

    `entity` (`[pkg/]name`, an activation id) completes the resource the 403 names.
    """
    resolved = resolve_namespace(caller, namespace)
    if resolved != caller.namespace:
        raise not_authorized(f"{resolved}/{entity}" if entity else resolved)
    return resolved
