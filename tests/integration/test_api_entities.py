"""The REST API's entity and error behaviour, in-process over ASGI (no invoker needed)."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import httpx

from pywhisk.common.entities import Identity
from tests.support.asgi_api import CODE, basic, env

__all__ = ["env"]  # the fixture, used below


async def test_info_routes_need_no_auth(env: tuple[httpx.AsyncClient, Identity, Identity]) -> None:
    client, _, _ = env
    assert (await client.get("/ping", headers={"Authorization": ""})).text == "pong"
    info = (await client.get("/", headers={"Authorization": ""})).json()
    assert info["description"] == "OpenWhisk"
    assert {r["kind"] for r in info["runtimes"]["python"]} == {"python:3.11"}
    assert (await client.get("/api/v1")).json()["api_version_path"] == "v1"


async def test_auth_required_and_checked(env: tuple[httpx.AsyncClient, Identity, Identity]) -> None:
    client, guest, _ = env
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Basic " + base64.b64encode(f"{guest.uuid}:nope".encode()).decode()},
    ):
        r = await client.get("/api/v1/namespaces/_/actions", headers=headers)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == 'Basic realm="OpenWhisk secure realm"'
        assert r.json()["error"] == "The supplied authentication is invalid."
        assert r.json()["code"] == r.headers["x-request-id"]


async def test_namespaces_and_limits(env: tuple[httpx.AsyncClient, Identity, Identity]) -> None:
    client, _, _ = env
    assert (await client.get("/api/v1/namespaces")).json() == ["guest"]
    limits = (await client.get("/api/v1/namespaces/_/limits")).json()
    assert limits["invocationsPerMinute"] == 60 and limits["maxActionMemory"] == 512


async def test_action_crud(env: tuple[httpx.AsyncClient, Identity, Identity]) -> None:
    client, _, _ = env
    r = await client.put(
        "/api/v1/namespaces/_/actions/hello",
        json={"exec": CODE, "parameters": [{"key": "a", "value": 1}]},
    )
    assert r.status_code == 200, r.text
    created = r.json()
    assert created["namespace"] == "guest" and created["exec"]["code"] == CODE["code"]
    r = await client.put("/api/v1/namespaces/_/actions/hello", json={"exec": CODE})
    assert (r.status_code, r.json()["error"]) == (409, "resource already exists")
    r = await client.put(
        "/api/v1/namespaces/guest/actions/hello?overwrite=true", json={"limits": {"timeout": 5000}}
    )
    assert r.status_code == 200
    assert r.json()["version"] == "0.0.2" and r.json()["limits"]["timeout"] == 5000
    assert r.json()["parameters"] == [{"key": "a", "value": 1}]
    meta = (await client.get("/api/v1/namespaces/_/actions/hello?code=false")).json()
    assert "code" not in meta["exec"] and meta["exec"]["kind"] == "python:3.11"
    listed = (await client.get("/api/v1/namespaces/_/actions")).json()
    assert [a["name"] for a in listed] == ["hello"] and "code" not in listed[0]["exec"]
    assert (await client.get("/api/v1/namespaces/_/actions?count=true")).json() == {"actions": 1}
    assert (await client.delete("/api/v1/namespaces/_/actions/hello")).json()["name"] == "hello"
    assert (await client.get("/api/v1/namespaces/_/actions/hello")).status_code == 404
    assert (await client.delete("/api/v1/namespaces/_/actions/hello")).status_code == 404


async def test_other_namespaces_are_forbidden(
    env: tuple[httpx.AsyncClient, Identity, Identity],
) -> None:
    client, _, other = env
    await client.put("/api/v1/namespaces/_/actions/mine", json={"exec": CODE})
    as_other = basic(other)
    for method in ("GET", "DELETE", "POST", "PUT"):
        r = await client.request(
            method, "/api/v1/namespaces/guest/actions/mine", headers=as_other, json={}
        )
        assert r.status_code == 403, method
    assert (
        await client.get("/api/v1/namespaces/guest/activations", headers=as_other)
    ).status_code == 403
    assert (await client.get("/api/v1/namespaces/_/actions", headers=as_other)).json() == []
    # OW names the resource it refused (Entitlement `notAuthorizedtoAccessResource(fqname)`).
    denied = "The supplied authentication is not authorized to access '{}'."
    for path, fqname in (
        ("actions/mine", "guest/mine"),
        ("actions/pkg/mine", "guest/pkg/mine"),
        ("actions", "guest"),
        ("activations", "guest"),
        ("activations/" + "a" * 32, "guest/" + "a" * 32),
        ("limits", "guest"),
    ):
        r = await client.get(f"/api/v1/namespaces/guest/{path}", headers=as_other)
        assert (r.status_code, r.json()["error"]) == (403, denied.format(fqname)), path
    r = await client.post("/api/v1/namespaces/guest/actions/mine", headers=as_other, json={})
    assert r.json()["error"] == denied.format("guest/mine")


async def test_bad_input(env: tuple[httpx.AsyncClient, Identity, Identity]) -> None:
    client, _, _ = env
    r = await client.put("/api/v1/namespaces/_/actions/bad", content=b"{nope")
    assert r.status_code == 400 and r.json()["error"].startswith(
        "The request content was malformed:"
    )
    r = await client.put(
        "/api/v1/namespaces/_/actions/bad", json={"exec": {"kind": "fortran:77", "code": "x"}}
    )
    assert r.status_code == 400 and "'fortran:77' is not supported" in r.json()["error"]
    r = await client.put("/api/v1/namespaces/_/actions/bad", json={"parameters": "x"})
    assert r.status_code == 400
    r = await client.put(
        "/api/v1/namespaces/_/actions/bad", json={"exec": CODE, "limits": {"memory": 4096}}
    )
    assert (r.status_code, r.json()["error"]) == (
        400,
        "memory size 4096 MB exceeds allowed threshold of 512 MB",
    )
    r = await client.put("/api/v1/namespaces/_/actions/bad%24name", json={"exec": CODE})
    assert (r.status_code, r.json()["error"]) == (
        400,
        "The name of the entity contains illegal characters.",
    )
    big = {"exec": CODE, "parameters": [{"key": "k", "value": "x" * (1024 * 1024 + 10)}]}
    r = await client.put("/api/v1/namespaces/_/actions/bad", json=big)
    assert r.status_code == 413 and r.json()["error"].startswith("parameters larger than allowed")
    r = await client.put("/api/v1/namespaces/_/actions/inpkg/bad", json={"exec": CODE})
    assert r.status_code == 404
    r = await client.patch("/api/v1/namespaces/_/actions/x")
    assert r.status_code == 405 and "error" in r.json()
    assert (await client.get("/api/v1/nowhere")).json()[
        "error"
    ] == "The requested resource does not exist."
    # Nothing was stored by any of that.
    assert (await client.get("/api/v1/namespaces/_/actions?count=true")).json() == {"actions": 0}


async def test_invoke_rejections_before_queueing(
    env: tuple[httpx.AsyncClient, Identity, Identity],
) -> None:
    client, _, _ = env
    await client.put("/api/v1/namespaces/_/actions/hello", json={"exec": CODE})
    r = await client.post("/api/v1/namespaces/_/actions/hello", content=b"x" * (1024 * 1024 + 1))
    assert (r.status_code, r.json()["error"]) == (
        413,
        "Request larger than allowed: 1048577 > 1048576 bytes.",
    )
    r = await client.post("/api/v1/namespaces/_/actions/hello?blocking=true&timeout=70000", json={})
    assert (r.status_code, r.json()["error"]) == (
        400,
        "Timeout must be number of milliseconds up to 60000.",
    )
    assert (await client.post("/api/v1/namespaces/_/actions/missing", json={})).status_code == 404
    r = await client.post("/api/v1/namespaces/_/actions/hello", content=b'"text"')
    assert r.status_code == 400


async def test_activation_queries_validate(
    env: tuple[httpx.AsyncClient, Identity, Identity],
) -> None:
    client, _, _ = env
    base = "/api/v1/namespaces/_/activations"
    assert (await client.get(base)).json() == []
    assert (await client.get(f"{base}?count=true")).json() == {"activations": 0}
    cases = {
        f"{base}?limit=201": "The value '201' is not in the range of 0 to 200 for activations.",
        f"{base}?skip=-1": "The value '-1' is not greater than or equal to 0 for activations.",
        f"{base}?limit=x": "The value 'x' is not an integer for activations.",
        f"{base}?count=true&docs=true": "The parameter 'docs' is not permitted with 'count'.",
        f"{base}?since=yesterday": "Parameter is not a valid value for epoch seconds: yesterday",
        f"{base}?name=a/b/c": "Parameter may be a 'simple' name or 'package-name/simple' name: a/b/c",
        f"{base}/abc": "Activation id length is 3 but must be 32.",
        f"{base}/{'Z' * 32}": "The activation id is not valid.",
    }
    for url, message in cases.items():
        r = await client.get(url)
        assert (r.status_code, r.json()["error"]) == (400, message), url
    assert (await client.get(f"{base}/{'a' * 32}")).status_code == 404


async def test_cors_and_request_id(env: tuple[httpx.AsyncClient, Identity, Identity]) -> None:
    client, _, _ = env
    r = await client.options("/api/v1/namespaces/_/actions", headers={"Authorization": ""})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    r = await client.get("/api/v1/namespaces/_/actions", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"


async def test_an_internal_failure_is_a_500_in_the_openwhisk_shape(
    tmp_path: Path, env: tuple[httpx.AsyncClient, Identity, Identity]
) -> None:
    """Like every other error: JSON `{error, code}`, the request id echoed, CORS headers."""
    client, _, _ = env
    await client.get("/api/v1/namespaces/_/actions")  # signed in: the subjects stay readable
    with sqlite3.connect(tmp_path / "db.sqlite") as other:  # a real store failure
        other.execute("DROP TABLE entities")
    r = await client.get("/api/v1/namespaces/_/actions/hello", headers={"X-Request-ID": "req-500"})
    assert r.status_code == 500
    assert r.json() == {"error": "There was an error processing your request.", "code": "req-500"}
    assert r.headers["x-request-id"] == "req-500"
    assert r.headers["access-control-allow-origin"] == "*"


async def test_boolean_query_parameters(env: tuple[httpx.AsyncClient, Identity, Identity]) -> None:
    client, _, _ = env
    await client.put("/api/v1/namespaces/_/actions/hello", json={"exec": CODE})
    for value in ("false", "0", "no", "off"):
        r = await client.get(f"/api/v1/namespaces/_/actions/hello?code={value}")
        assert "code" not in r.json()["exec"], value
    for value in ("true", "1", "yes", "ON"):
        r = await client.get(f"/api/v1/namespaces/_/actions/hello?code={value}")
        assert "code" in r.json()["exec"], value
    r = await client.get("/api/v1/namespaces/_/actions/hello?code=maybe")
    assert r.status_code == 400
    assert (
        r.json()["error"]
        == "The query parameter 'code' was malformed:\n'maybe' is not a valid Boolean value"
    )
