"""The invoke lane answers as the routed application does: the same request through
`InvokeLane(app)` (as the server serves it) and through the bare app give the same status,
body and headers, refusals and requests the lane passes on included."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from pywhisk.controller.api.invoke_lane import InvokeLane
from tests.support.asgi_api import CODE, Env, env

__all__ = ["env"]

API = "/api/v1/namespaces"
# Differ from one answer to the next by nature: ids the platform makes up.
VOLATILE = {"activationId", "code"}
VOLATILE_HEADERS = {"x-openwhisk-activation-id", "x-request-id", "content-length"}


def _shape(r: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    body: Any = r.json() if r.content else None
    if isinstance(body, dict):
        body = {k: (k if k in VOLATILE else v) for k, v in body.items()}
    headers = {k: v for k, v in r.headers.items() if k not in VOLATILE_HEADERS}
    return r.status_code, body, headers


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", f"{API}/_/actions/echo", {"json": {"a": 1}}),  # accepted: 202
    ("POST", f"{API}/guest/actions/echo", {"content": b""}),  # an empty body is {}
    ("POST", f"{API}/_/actions/pkg/echo", {"json": {}}),  # in a package
    ("POST", f"{API}/_/actions/missing", {"json": {}}),  # 404
    ("POST", f"{API}/_/actions/echo", {"content": b'{"a": '}),  # malformed: 400
    ("POST", f"{API}/_/actions/echo", {"content": b'"text"'}),  # not an object: 400
    ("POST", f"{API}/_/actions/echo?timeout=0", {"json": {}}),  # bad timeout: 400
    ("POST", f"{API}/_/actions/echo", {"headers": {"Authorization": "Basic eDp5"}}),  # 401
    ("POST", f"{API}/other/actions/echo", {"json": {}}),  # another's namespace: 403
    ("GET", f"{API}/_/actions/echo", {}),  # not the lane's: passed on
    ("OPTIONS", f"{API}/_/actions/echo", {}),  # neither
    ("POST", f"{API}/_/actions/pkg/echo/extra", {"json": {}}),  # no such route
]


@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS)
async def test_the_lane_answers_as_the_application(
    env: Env, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    client, _, _ = env
    for where in ("echo", "pkg/echo"):
        if where == "pkg/echo":
            assert (await client.put(f"{API}/_/packages/pkg", json={})).status_code == 200
        r = await client.put(f"{API}/_/actions/{where}", json={"exec": CODE})
        assert r.status_code == 200, r.text
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    laned = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=InvokeLane(transport.app)),
        base_url=str(client.base_url),
        headers=client.headers,
    )
    async with laned:
        routed = await client.request(method, path, **kwargs)
        answered = await laned.request(method, path, **kwargs)
    assert _shape(answered) == _shape(routed)
    if method == "POST" and routed.status_code == 202:
        assert answered.headers["x-openwhisk-activation-id"] == answered.json()["activationId"]


async def test_the_lane_echoes_the_request_id(env: Env) -> None:
    client, guest, _ = env
    r = await client.put(f"{API}/_/actions/echo", json={"exec": CODE})
    assert r.status_code == 200
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    token = base64.b64encode(guest.auth.encode()).decode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=InvokeLane(transport.app)), base_url="http://test"
    ) as laned:
        r = await laned.post(
            f"{API}/_/actions/echo",
            json={},
            headers={"Authorization": f"Basic {token}", "X-Request-ID": "tid-1"},
        )
    assert r.status_code == 202
    assert r.headers["x-request-id"] == "tid-1"
    assert r.headers["access-control-allow-origin"] == "*"
