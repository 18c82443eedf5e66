"""The API Gateway over real HTTP: the management API at OpenWhisk's URLs, as the Go `wsk`
and the npm client call it, and the APIs it makes, served on the API port."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.server import StandaloneServer, own_server

__all__ = ["own_server"]  # the fixture, used below

ECHO = (
    "def main(args):\n"
    "    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'},\n"
    "            'body': {k: v for k, v in args.items()}}\n"
)
PLAIN = "def main(args):\n    return {'got': {k: v for k, v in args.items() if not k.startswith('__ow_')}}\n"
MGMT = "/api/v1/web/whisk.system/apimgmt"
TEST_LIMITS = {"invocationsPerMinute": 100_000, "concurrentInvocations": 1_000}


def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request with room for a cold start on a loaded machine (httpx waits 5 s)."""
    return httpx.request(method, url, timeout=90, **kwargs)


def client(server: StandaloneServer, who: Identity) -> httpx.Client:
    uuid, _, key = who.auth.partition(":")
    return httpx.Client(base_url=server.url, auth=(uuid, key), timeout=90)


def put_action(api: httpx.Client, name: str, code: str, *annotations: tuple[str, Any]) -> None:
    pairs = [{"key": "web-export", "value": True}] + [
        {"key": k, "value": v} for k, v in annotations
    ]
    done = api.put(
        f"/api/v1/namespaces/_/actions/{name}?overwrite=true",
        json={"exec": {"kind": "python:3.11", "code": code}, "annotations": pairs},
    )
    assert done.status_code == 200, done.text


def route(
    api: httpx.Client,
    base: str,
    path: str,
    verb: str,
    action: str,
    kind: str = "json",
    *,
    secure_key: str | None = None,
    api_name: str | None = None,
) -> httpx.Response:
    """createApi as the Go wsk sends it (apidoc form, `_` for the namespace)."""
    params = [p[1:-1] for p in path.split("/") if p.startswith("{") and p.endswith("}")]
    apidoc: dict[str, Any] = {
        "namespace": "_",
        "gatewayBasePath": base,
        "gatewayPath": path,
        "gatewayMethod": verb.upper(),
        "id": f"API:_:{base}",
        "action": {
            "name": action,
            "namespace": "_",
            "backendMethod": verb.upper(),
            "backendUrl": f"{api.base_url}/api/v1/web/_/default/{action}.http",
            "authkey": "uuid:key",
        },
    }
    if params:
        apidoc["pathParameters"] = [
            {"name": p, "in": "path", "required": True, "type": "string"} for p in params
        ]
    if secure_key:
        apidoc["action"]["secureKey"] = secure_key
    if api_name:
        apidoc["apiName"] = api_name
    return api.post(
        f"{MGMT}/createApi.http",
        params={"responsetype": kind, "spaceguid": "x", "accesstoken": "DUMMY TOKEN"},
        json={"apidoc": apidoc},
    )


@pytest.fixture
def owner(server: StandaloneServer, namespace: Identity) -> Iterator[httpx.Client]:
    with client(server, namespace) as api:
        yield api


def test_routes_merge_into_one_api_and_serve_their_actions(
    owner: httpx.Client, namespace: Identity
) -> None:
    put_action(owner, "show", ECHO)
    put_action(owner, "plain", PLAIN)
    made = route(owner, "/todos", "/{id}", "get", "show", "http")
    assert made.status_code == 200, made.text
    value = made.json()
    gw_url = value["gwApiUrl"]
    assert gw_url == f"{owner.base_url}/api/{namespace.uuid}/todos"
    op = value["apidoc"]["paths"]["/{id}"]["get"]
    assert op["x-openwhisk"] == {
        "namespace": namespace.namespace,
        "package": "",
        "action": "show",
        "url": f"{owner.base_url}/api/v1/web/{namespace.namespace}/default/show.http",
    }
    assert route(owner, "/todos", "/", "post", "plain").status_code == 200

    listed = owner.get(f"{MGMT}/getApi.http", params={"basepath": "/todos"}).json()["apis"]
    assert len(listed) == 1 and set(listed[0]["value"]["apidoc"]["paths"]) == {"/{id}", "/"}

    got = call("GET", f"{gw_url}/42?x=1", headers={"Origin": "http://a.example"})
    assert got.status_code == 200, got.text
    args = got.json()
    assert args["id"] == "42" and args["x"] == "1"
    assert args["__ow_method"] == "get" and args["__ow_path"] == "/42"
    assert args["__ow_headers"]["x-forwarded-url"] == f"{gw_url}/42?x=1"
    assert got.headers["access-control-allow-origin"] == "*"

    # a percent-encoded tenant names the same APIs, and the path past it is still the path
    encoded = gw_url.replace(f"/api/{namespace.uuid[0]}", f"/api/%{ord(namespace.uuid[0]):02X}")
    again = call("GET", f"{encoded}/42")
    assert again.status_code == 200 and again.json()["id"] == "42"

    posted = call("POST", f"{gw_url}/", json={"title": "milk"})
    assert posted.status_code == 200 and posted.json() == {"got": {"title": "milk"}}


def test_unknown_paths_and_verbs_and_preflight(owner: httpx.Client, namespace: Identity) -> None:
    put_action(owner, "show", ECHO)
    gw_url = route(owner, "/todos", "/{id}", "get", "show", "http").json()["gwApiUrl"]
    missing = call("GET", f"{gw_url}/1/2", headers={"Origin": "http://a.example"})
    assert missing.status_code == 404 and missing.json()["error"] == (
        "The requested resource does not exist."
    )
    assert missing.headers["access-control-allow-origin"] == "*"  # a page can read the 404
    assert call("GET", f"{owner.base_url}/api/{namespace.uuid}/nothing/1").status_code == 404
    assert call("GET", f"{owner.base_url}/api/not-a-tenant/todos/1").status_code == 404
    wrong = call("DELETE", f"{gw_url}/1", headers={"Origin": "http://a.example"})
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    assert wrong.headers["access-control-allow-origin"] == "*"
    preflight = call(
        "OPTIONS",
        f"{gw_url}/1",
        headers={
            "Origin": "http://a.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-Custom",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-headers"] == "X-Custom"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    # the REST API keeps its own answers under /api/v1
    assert call("GET", f"{owner.base_url}/api/v1/nothing").status_code == 404


def test_secure_key_reaches_actions_that_require_it(owner: httpx.Client) -> None:
    put_action(owner, "guarded", PLAIN, ("require-whisk-auth", "s3cret"))
    direct = call("GET", f"{owner.base_url}/api/v1/web/_/default/guarded.json")
    assert direct.status_code in (401, 404)
    gw_url = route(owner, "/g", "/in", "get", "guarded", secure_key="s3cret").json()["gwApiUrl"]
    served = call("GET", f"{gw_url}/in", headers={"X-Require-Whisk-Auth": "wrong"})
    assert served.status_code == 200, served.text
    # a route made without the key does not open the action
    gw_url = route(owner, "/open", "/in", "get", "guarded").json()["gwApiUrl"]
    assert call("GET", f"{gw_url}/in").status_code == 401


def test_apis_belong_to_their_namespace(
    server: StandaloneServer, owner: httpx.Client, namespace: Identity
) -> None:
    put_action(owner, "plain", PLAIN)
    gw_url = route(owner, "/mine", "/a", "get", "plain").json()["gwApiUrl"]
    other = server.create_namespace(f"{namespace.namespace}_other", **TEST_LIMITS)
    with client(server, other) as them:
        assert them.get(f"{MGMT}/getApi.http").json() == {"apis": []}
        gone = them.delete(f"{MGMT}/deleteApi.http", params={"basepath": "/mine"})
        assert gone.status_code == 404
        assert gone.json()["error"] == "API deletion failure: API '/mine' does not exist."
        # a route of theirs under the same base path makes an API of their own
        put_action(them, "plain", PLAIN)
        theirs = route(them, "/mine", "/b", "get", "plain").json()["gwApiUrl"]
        assert theirs == f"{owner.base_url}/api/{other.uuid}/mine"
        assert call("GET", f"{theirs}/b").status_code == 200
    mine = owner.get(f"{MGMT}/getApi.http", params={"basepath": "/mine"}).json()["apis"]
    assert [list(api["value"]["apidoc"]["paths"]) for api in mine] == [["/a"]]
    assert call("GET", f"{gw_url}/b").status_code == 404
    assert call("GET", f"{gw_url}/a").status_code == 200
    anonymous = call("GET", f"{owner.base_url}{MGMT}/getApi.http")
    assert anonymous.status_code == 401


def test_delete_a_verb_a_path_and_the_api(owner: httpx.Client) -> None:
    put_action(owner, "plain", PLAIN)
    route(owner, "/d", "/a", "get", "plain", api_name="Dee")  # the first route names the API
    route(owner, "/d", "/a", "post", "plain")
    gw_url = route(owner, "/d", "/b", "get", "plain", api_name="ignored").json()["gwApiUrl"]
    one = owner.delete(
        f"{MGMT}/deleteApi.http", params={"basepath": "/d", "relpath": "/a", "operation": "post"}
    )
    assert one.status_code == 200 and one.json() == {}
    assert call("POST", f"{gw_url}/a").status_code == 405
    assert call("GET", f"{gw_url}/a").status_code == 200
    again = owner.delete(
        f"{MGMT}/deleteApi.http", params={"basepath": "/d", "relpath": "/a", "operation": "post"}
    )
    assert again.status_code == 404
    assert "path '/a' with operation 'post' does not exist in the API" in again.json()["error"]
    by_name = owner.get(f"{MGMT}/getApi.json", params={"basepath": "Dee"}).json()["apis"]
    assert [a["value"]["apidoc"]["basePath"] for a in by_name] == ["/d"]
    assert owner.delete(f"{MGMT}/deleteApi", params={"basepath": "Dee"}).status_code == 200
    assert call("GET", f"{gw_url}/b").status_code == 404
    assert owner.get(f"{MGMT}/getApi.http").json() == {"apis": []}


def test_listing_rows_paging_and_forced_delete(owner: httpx.Client, namespace: Identity) -> None:
    """getApi's rows as the clients read them, `limit` and `skip` over the base paths, and
    the `relpath`, `operation` and `force` that clients may send, taken."""
    put_action(owner, "plain", PLAIN)
    for base in ("/p1", "/p2", "/p3"):
        assert route(owner, base, "/a", "get", "plain").status_code == 200
    rows = owner.get(f"{MGMT}/getApi.http").json()["apis"]
    assert [row["value"]["apidoc"]["basePath"] for row in rows] == ["/p1", "/p2", "/p3"]
    for row in rows:
        base = row["value"]["apidoc"]["basePath"]
        assert row["id"] == f"API:{namespace.namespace}:{base}" and row["key"].endswith(base)
        assert {k: v for k, v in row["value"].items() if k != "apidoc"} == {
            "namespace": namespace.namespace,
            "gwApiActivated": True,
            "tenantId": namespace.uuid,
            "gwApiUrl": f"{owner.base_url}/api/{namespace.uuid}{base}",
        }
        assert row["value"]["apidoc"]["paths"]["/a"]["get"]["x-openwhisk"]["action"] == "plain"

    def bases(**params: Any) -> list[str]:
        found = owner.get(f"{MGMT}/getApi.http", params=params)
        assert found.status_code == 200, found.text
        return [row["value"]["apidoc"]["basePath"] for row in found.json()["apis"]]

    assert bases(limit=1, skip=1) == ["/p2"]
    assert bases(skip=2) == ["/p3"]
    assert bases(limit=2) == ["/p1", "/p2"]
    assert bases(basepath="/p1", relpath="/a", operation="get") == ["/p1"]
    gone = owner.delete(f"{MGMT}/deleteApi.json", params={"basepath": "/p2", "force": "true"})
    assert gone.status_code == 200 and gone.json() == {}
    assert bases() == ["/p1", "/p3"]
    assert call("GET", f"{owner.base_url}/api/{namespace.uuid}/p2/a").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "apidoc is required."),
        ({"apidoc": "{"}, "apidoc field cannot be parsed. Ensure it is valid JSON."),
        ({"apidoc": {"gatewayBasePath": "/x"}}, "apidoc is missing the namespace field"),
        (
            {"apidoc": {"namespace": "_", "gatewayBasePath": "/x"}},
            "apidoc is missing the gatewayPath field",
        ),
        (
            {"apidoc": {"namespace": "_", "swagger": {"paths": {}, "info": {}}}},
            "swagger is missing the basePath field.",
        ),
    ],
)
def test_bad_create_requests_get_openwhisk_messages(
    owner: httpx.Client, body: dict[str, Any], message: str
) -> None:
    answer = owner.post(f"{MGMT}/createApi.http", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == message and answer.json()["code"]


def test_an_api_survives_the_server_killed(own_server: StandaloneServer) -> None:
    """Acknowledged means stored: a kill -9 right after the 200 loses no route."""
    owner = own_server.create_namespace("survivor", **TEST_LIMITS)
    with client(own_server, owner) as api:
        put_action(api, "plain", PLAIN)
        gw_url = route(api, "/kept", "/a", "get", "plain").json()["gwApiUrl"]
    assert own_server.stop(signal.SIGKILL) == -signal.SIGKILL
    own_server.start()
    answer = call("GET", f"{gw_url}/a", params={"k": "v"})
    assert answer.status_code == 200 and answer.json() == {"got": {"k": "v"}}


def test_calls_count_against_the_owners_throttles(server: StandaloneServer) -> None:
    owner = server.create_namespace("throttled_api", invocationsPerMinute=2)
    with client(server, owner) as api:
        put_action(api, "plain", PLAIN)
        gw_url = route(api, "/t", "/a", "get", "plain").json()["gwApiUrl"]
    statuses = [call("GET", f"{gw_url}/a").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_a_route_to_another_namespaces_private_action_serves_nothing(
    server: StandaloneServer, owner: httpx.Client, namespace: Identity
) -> None:
    """A route runs only web actions, as their URL would: naming someone's private action
    (not a web action) in a route gets the caller nothing of it."""
    put_action(owner, "plain", PLAIN)
    private = owner.put(
        "/api/v1/namespaces/_/actions/secret?overwrite=true",
        json={"exec": {"kind": "python:3.11", "code": PLAIN}},
    )
    assert private.status_code == 200
    intruder = server.create_namespace(f"{namespace.namespace}_in", **TEST_LIMITS)
    with client(server, intruder) as them:
        made = them.post(
            f"{MGMT}/createApi.http",
            json={
                "apidoc": {
                    "namespace": "_",
                    "gatewayBasePath": "/steal",
                    "gatewayPath": "/x",
                    "gatewayMethod": "GET",
                    "action": {
                        "name": "secret",
                        "namespace": namespace.namespace,
                        "backendMethod": "GET",
                        "backendUrl": "http://h/api/v1/web/x/default/secret.http",
                        "authkey": "x",
                    },
                }
            },
        )
        assert made.status_code == 200
        stolen = call("GET", made.json()["gwApiUrl"] + "/x")
    assert stolen.status_code == 404
    listed = owner.get(f"{MGMT}/getApi.http").json()["apis"]
    assert listed == []


RAW = "def main(args):\n    return {'body': {'q': args['__ow_query'], 'b': args['__ow_body']}}\n"


def test_raw_actions_and_response_types(owner: httpx.Client) -> None:
    put_action(owner, "raw", RAW, ("raw-http", True))
    gw_url = route(owner, "/raw", "/{id}", "post", "raw", "json").json()["gwApiUrl"]
    answer = call(
        "POST", f"{gw_url}/9?a=1", content=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"body": {"q": "a=1&id=9", "b": "hello"}}
    text_url = route(owner, "/raw", "/t", "post", "raw", "text").json()["gwApiUrl"]
    shown = call("POST", f"{text_url}/t", content=b"x", headers={"Content-Type": "text/plain"})
    assert shown.headers["content-type"].startswith("text/plain")
    assert shown.json() == {"q": "", "b": "x"}  # the `body` property, as text


def test_a_whole_swagger_replaces_the_api_and_may_turn_cors_off(
    owner: httpx.Client, namespace: Identity
) -> None:
    put_action(owner, "plain", PLAIN)
    route(owner, "/sw", "/old", "get", "plain")
    swagger = {
        "swagger": "2.0",
        "basePath": "/sw",
        "info": {"title": "Swagger API", "version": "1.0"},
        "paths": {
            "/new": {
                "put": {
                    "operationId": "put-/new",
                    "responses": {"200": {"description": "ok"}},
                    "x-openwhisk": {
                        "namespace": "_",
                        "package": "default",
                        "action": "plain",
                        "url": "https://h/api/v1/web/_/default/plain.json",
                    },
                }
            }
        },
        "x-ibm-configuration": {"cors": {"enabled": False}},
    }
    made = owner.post(
        f"{MGMT}/createApi.json",
        json={"apidoc": {"namespace": "_", "swagger": json.dumps(swagger)}},
    )
    assert made.status_code == 200, made.text
    value = made.json()
    assert list(value["apidoc"]["paths"]) == ["/new"]
    assert (
        value["apidoc"]["paths"]["/new"]["put"]["x-openwhisk"]["namespace"] == namespace.namespace
    )
    gw_url = value["gwApiUrl"]
    assert call("GET", f"{gw_url}/old").status_code == 404
    answer = call("PUT", f"{gw_url}/new", json={"k": 1}, headers={"Origin": "http://a.example"})
    assert answer.status_code == 200 and answer.json() == {"got": {"k": 1}}
    assert "access-control-allow-origin" not in answer.headers
    preflight = call("OPTIONS", f"{gw_url}/new", headers={"Origin": "http://a.example"})
    assert "access-control-allow-origin" not in preflight.headers


def _valid_apidoc(**action: Any) -> dict[str, Any]:
    return {
        "namespace": "_",
        "gatewayBasePath": "/h",
        "gatewayPath": "/p",
        "gatewayMethod": "GET",
        "action": {
            "name": "plain",
            "namespace": "_",
            "backendMethod": "GET",
            "backendUrl": "http://h/api/v1/web/_/default/plain.http",
            "authkey": "x",
            **action,
        },
    }


@pytest.mark.parametrize(
    ("operation", "method", "body"),
    [
        ("createApi", "POST", {"apidoc": _valid_apidoc(name=5)}),
        ("createApi", "POST", {"apidoc": _valid_apidoc(namespace=["_"])}),
        ("createApi", "POST", {"apidoc": {**_valid_apidoc(), "pathParameters": "id"}}),
        ("createApi", "POST", {"responsetype": 5, "apidoc": _valid_apidoc()}),
        ("createApi", "POST", {"apidoc": {"namespace": 1, "swagger": [1]}}),
        ("getApi", "GET", {"basepath": {"a": 1}, "limit": "x"}),
        ("getApi", "GET", {"limit": -3, "skip": [1]}),
        ("deleteApi", "DELETE", {"basepath": "/h", "relpath": "/p", "operation": 3}),
        ("deleteApi", "DELETE", {"basepath": "/h", "relpath": ["/p"]}),
        ("deleteApi", "DELETE", [1, 2]),
    ],
)
def test_hostile_management_requests_are_refused_not_crashed(
    owner: httpx.Client, operation: str, method: str, body: Any
) -> None:
    put_action(owner, "plain", PLAIN)
    assert owner.post(f"{MGMT}/createApi", json={"apidoc": _valid_apidoc()}).status_code == 200
    answer = owner.request(method, f"{MGMT}/{operation}", json=body)
    assert answer.status_code in (200, 400, 404), answer.text
    assert answer.status_code == 200 or answer.json()["code"]
