"""Web actions over real HTTP: the real `wsk` creates them, anonymous clients call them (§5)."""

from __future__ import annotations

import base64
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pywhisk.common.entities import Identity
from pywhisk.controller.core.invoke import NOT_ALLOWED
from tests.support.server import StandaloneServer

Wsk = Callable[..., subprocess.CompletedProcess[str]]

ECHO_PY = "def main(args):\n    return {'args': args}\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def web(server: StandaloneServer) -> Iterator[httpx.Client]:
    """An anonymous client: web actions need no credentials."""
    with httpx.Client(base_url=f"{server.url}/api/v1/web", timeout=90) as client:
        yield client


def create(wsk: Wsk, tmp_path: Path, name: str, filename: str, code: str, *flags: str) -> None:
    (tmp_path / filename).write_text(code)
    wsk("action", "create", name, filename, *flags, cwd=tmp_path)


def put_web_action(server: StandaloneServer, owner: Identity, name: str, code: str) -> None:
    """A Python web action in `owner`'s namespace, over the REST API (no wsk config needed)."""
    uuid, _, key = owner.auth.partition(":")
    put = httpx.put(
        f"{server.url}/api/v1/namespaces/_/actions/{name}",
        auth=(uuid, key),
        json={
            "exec": {"kind": "python:3.11", "code": code},
            "annotations": [{"key": "web-export", "value": True}],
        },
    )
    assert put.status_code == 200, put.text


def context_free(args: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if not k.startswith("__ow_")}


def error_of(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error", "code"} and body["code"] == response.headers["x-request-id"]
    return str(body["error"])


def test_wsk_creates_a_web_action_and_prints_its_url(
    wsk: Wsk, tmp_path: Path, namespace: Identity, server: StandaloneServer
) -> None:
    create(wsk, tmp_path, "echo", "echo.py", ECHO_PY, "--web", "true")
    lines = wsk("action", "get", "echo", "--url").stdout.splitlines()
    url = f"{server.url}/api/v1/web/{namespace.namespace}/default/echo"
    assert lines == ["ok: got action echo", url]
    headers = [(b"X-Custom", b"Yes"), (b"X-Greeting", "Grüße".encode())]
    r = httpx.get(f"{url}.json/some/a%2Fb%20c?name=Ada&n=1", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    args = r.json()["args"]
    assert context_free(args) == {"name": "Ada", "n": "1"}
    assert args["__ow_method"] == "get"
    assert args["__ow_path"] == "/some/a%2Fb%20c"  # as sent, as in OpenWhisk
    assert args["__ow_headers"]["x-custom"] == "Yes"
    assert args["__ow_headers"]["x-greeting"] == "Grüße"
    assert "__ow_user" not in args  # anonymous


def test_every_method_reaches_the_action(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    create(wsk, tmp_path, "echo", "echo.py", ECHO_PY, "--web", "true")
    url = f"/{namespace.namespace}/default/echo.json"
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        r = web.request(method, url, json={"k": method})
        assert r.status_code == 200, r.text
        args = r.json()["args"]
        assert (args["__ow_method"], args["k"]) == (method.lower(), method)
    head = web.head(url)
    assert (head.status_code, head.content) == (200, b"")
    assert len(head.headers["x-openwhisk-activation-id"]) == 32
    # a method OpenWhisk does not route is refused in its words
    r = web.request("TRACE", url)
    assert r.status_code == 405
    assert error_of(r) == (
        "HTTP method not allowed, supported methods: GET, DELETE, POST, PUT, HEAD, OPTIONS, PATCH"
    )


def test_bodies_are_decoded_by_content_type(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    create(wsk, tmp_path, "echo", "echo.py", ECHO_PY, "--web", "true")
    url = f"/{namespace.namespace}/default/echo.json?from=query&both=query"
    form = web.post(url, data={"name": "Ada Lovelace", "both": "form"}).json()["args"]
    assert context_free(form) == {"from": "query", "name": "Ada Lovelace", "both": "form"}
    as_json = web.post(url, json={"list": [1, 2], "both": "json"}).json()["args"]
    assert context_free(as_json) == {"from": "query", "list": [1, 2], "both": "json"}
    text = web.post(url, content="1,2,3", headers={"Content-Type": "text/plain"}).json()["args"]
    assert text["__ow_body"] == "1,2,3"
    array = web.post(url, json=[1, "two"]).json()["args"]
    assert array["__ow_body"] == [1, "two"]
    binary = web.post(url, content=PNG, headers={"Content-Type": "image/png"}).json()["args"]
    assert base64.b64decode(binary["__ow_body"]) == PNG
    bad = web.post(url, content="{nope", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and error_of(bad).startswith("The request content was malformed:")


def test_raw_web_action_gets_query_and_body_untouched(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    create(wsk, tmp_path, "raw", "raw.py", ECHO_PY, "--web", "raw", "-p", "x", "fixed")
    r = web.post(f"/{namespace.namespace}/default/raw.json?x=1&x=2", json={"x": "body"})
    args = r.json()["args"]
    assert args["__ow_query"] == "x=1&x=2"
    assert base64.b64decode(args["__ow_body"]) == b'{"x":"body"}'
    assert args["x"] == "fixed"  # nothing promoted, so a final parameter is no conflict


def test_http_responses_from_php_and_node(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    create(
        wsk,
        tmp_path,
        "go",
        "go.php",
        "<?php\nfunction main(array $args) : array {\n"
        "    return ['statusCode' => 302, 'headers' => ['Location' => 'https://example.org/' . ($args['to'] ?? '')]];\n"
        "}\n",
        "--web",
        "true",
    )
    r = web.get(f"/{namespace.namespace}/default/go?to=there")
    assert (r.status_code, r.headers["location"], r.content) == (
        302,
        "https://example.org/there",
        b"",
    )
    png = base64.b64encode(PNG).decode()
    create(
        wsk,
        tmp_path,
        "pixel",
        "pixel.js",
        "function main(params) {\n"
        f"  return {{ headers: {{ 'Content-Type': 'image/png', 'Set-Cookie': ['a=1', 'b=2'] }}, body: '{png}' }};\n"
        "}\n",
        "--web",
        "true",
    )
    r = web.get(f"/{namespace.namespace}/default/pixel")
    assert (r.status_code, r.headers["content-type"], r.content) == (200, "image/png", PNG)
    assert r.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert r.headers["access-control-allow-origin"] == "*"


def test_extensions_project_the_result(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    code = "def main(args):\n    return {'html': '<b>hi</b>', 'text': 'plain', 'svg': '<svg/>'}\n"
    create(wsk, tmp_path, "page", "page.py", code, "--web", "true")
    base = f"/{namespace.namespace}/default/page"
    html = web.get(f"{base}.html")
    assert (html.text, html.headers["content-type"]) == ("<b>hi</b>", "text/html; charset=UTF-8")
    assert web.get(f"{base}.text").text == "plain"
    assert web.get(f"{base}.svg").headers["content-type"] == "image/svg+xml"
    assert web.get(f"{base}.json").json()["text"] == "plain"
    # .http wants statusCode/headers/body: this result has none, so the answer is empty
    assert web.get(base).status_code == 204


def test_errors_and_malformed_results(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    code = (
        "def main(args):\n"
        "    mode = args.get('mode')\n"
        "    if mode == 'refuse':\n"
        "        return {'error': {'statusCode': 405, 'headers': {'Allow': 'POST'}, 'body': 'use POST'}}\n"
        "    if mode == 'crash':\n"
        "        raise ValueError('boom')\n"
        "    if mode == 'badbase64':\n"
        "        return {'headers': {'Content-Type': 'image/png'}, 'body': 'not base64 at all'}\n"
        "    if mode == 'exit':\n"
        "        import os; os._exit(3)\n"
        "    return {'body': 'ok'}\n"
    )
    create(wsk, tmp_path, "moody", "moody.py", code, "--web", "true")
    url = f"/{namespace.namespace}/default/moody"
    refused = web.get(url, params={"mode": "refuse"})
    assert (refused.status_code, refused.text, refused.headers["allow"]) == (
        405,
        "use POST",
        "POST",
    )
    crashed = web.get(url, params={"mode": "crash"})  # application error without a response
    assert crashed.status_code == 400
    assert error_of(crashed) == "Response is not valid 'message/http'."
    bad = web.get(url, params={"mode": "badbase64"})
    assert bad.status_code == 400
    assert error_of(bad) == "Response type in header did not match generated content type."
    assert len(bad.headers["x-openwhisk-activation-id"]) == 32
    died = web.get(url, params={"mode": "exit"})
    assert (died.status_code, error_of(died)) == (
        400,
        "There was an error processing your request.",
    )
    assert web.get(url).text == "ok"


def test_final_and_reserved_parameters_cannot_be_overridden(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    create(
        wsk,
        tmp_path,
        "echo",
        "echo.py",
        ECHO_PY,
        "--web",
        "true",
        "-p",
        "greeting",
        "hi",
        "-p",
        "open",
        "",
    )
    url = f"/{namespace.namespace}/default/echo.json"
    for r in (
        web.get(url, params={"greeting": "bye"}),
        web.post(url, json={"greeting": "bye"}),
        web.post(url, data={"greeting": "bye"}),
        web.get(url, params={"__ow_user": "admin"}),
        web.post(url, json={"__ow_headers": {}}),
    ):
        assert (r.status_code, error_of(r)) == (400, NOT_ALLOWED)
    args = web.get(url).json()["args"]
    assert args["greeting"] == "hi"


def test_require_whisk_auth(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client, server: StandaloneServer
) -> None:
    create(wsk, tmp_path, "secret", "secret.py", ECHO_PY, "--web", "true", "--web-secure", "s3cret")
    url = f"/{namespace.namespace}/default/secret.json"
    assert web.get(url).status_code == 401
    assert web.get(url, headers={"X-Require-Whisk-Auth": "wrong"}).status_code == 401
    assert web.get(url, headers={"X-Require-Whisk-Auth": "s3cret"}).status_code == 200

    create(
        wsk,
        tmp_path,
        "members",
        "members.py",
        ECHO_PY,
        "--web",
        "true",
        "-a",
        "require-whisk-auth",
        "true",
    )
    url = f"/{namespace.namespace}/default/members.json"
    denied = web.get(url)
    assert (denied.status_code, error_of(denied)) == (
        401,
        "The supplied authentication is invalid.",
    )
    assert web.get(url, auth=("nobody", "wrong")).status_code == 401
    other = server.create_namespace(f"{namespace.namespace}_other")
    uuid, _, key = other.auth.partition(":")
    args = web.get(url, auth=(uuid, key)).json()["args"]
    assert args["__ow_user"] == other.namespace


def test_cors_preflight_and_custom_options(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client, api: httpx.Client
) -> None:
    create(wsk, tmp_path, "echo", "echo.py", ECHO_PY, "--web", "true", "--web-secure", "s3cret")
    preflight = web.options(
        f"/{namespace.namespace}/default/echo",
        headers={"Origin": "https://site.example", "Access-Control-Request-Headers": "x-token"},
    )
    assert (preflight.status_code, preflight.content) == (200, b"")
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == (
        "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH"
    )
    assert preflight.headers["access-control-allow-headers"] == "x-token"
    assert "x-openwhisk-activation-id" not in preflight.headers  # nothing ran

    code = (
        "def main(args):\n"
        "    return {'headers': {'Access-Control-Allow-Methods': 'OPTIONS, POST'}, 'statusCode': 200,\n"
        "            'body': args['__ow_method']}\n"
    )
    create(
        wsk,
        tmp_path,
        "custom",
        "custom.py",
        code,
        "--web",
        "true",
        "-a",
        "web-custom-options",
        "true",
    )
    answered = web.options(f"/{namespace.namespace}/default/custom")
    assert (answered.status_code, answered.text) == (200, "options")
    assert answered.headers["access-control-allow-methods"] == "OPTIONS, POST"
    assert "access-control-allow-origin" not in answered.headers


def test_what_is_not_a_web_action_is_404_alike(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client, server: StandaloneServer
) -> None:
    create(wsk, tmp_path, "private", "private.py", ECHO_PY)  # not --web
    create(wsk, tmp_path, "off", "off.py", ECHO_PY, "--web", "true")
    wsk("action", "update", "off", "--web", "false")
    ns = namespace.namespace
    for path in (
        f"/{ns}/default/private.json",
        f"/{ns}/default/off",
        f"/{ns}/default/missing.json",
        f"/{ns}/nopackage/private",
        "/no_such_namespace/default/private",
        f"/{ns}/default/private.xyz",
        f"/{ns}/default",
    ):
        for r in (web.get(path), web.post(path, json={}), web.options(path)):
            assert r.status_code == 404, path
            assert error_of(r) == "The requested resource does not exist."
            assert "access-control-allow-origin" not in r.headers


def test_oversize_body_is_413(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    create(wsk, tmp_path, "echo", "echo.py", ECHO_PY, "--web", "true")
    big = b"a" * (1024 * 1024 + 1)
    r = web.post(
        f"/{namespace.namespace}/default/echo", content=big, headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 413
    assert error_of(r) == f"Request larger than allowed: {len(big)} > {1024 * 1024} bytes."


def test_runs_as_the_owner_and_is_recorded_there(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client, api: httpx.Client
) -> None:
    create(wsk, tmp_path, "echo", "echo.py", ECHO_PY, "--web", "true")
    r = web.get(f"/{namespace.namespace}/default/echo.json")
    activation_id = r.headers["x-openwhisk-activation-id"]
    record = api.get(f"/namespaces/_/activations/{activation_id}")
    assert record.status_code == 200
    assert (record.json()["namespace"], record.json()["name"]) == (namespace.namespace, "echo")


def test_web_action_in_a_package_and_through_a_binding(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client, api: httpx.Client
) -> None:
    ns = namespace.namespace
    shop = {"parameters": [{"key": "db", "value": "/data/shop.db"}, {"key": "tier", "value": "p"}]}
    assert api.put("/namespaces/_/packages/shop", json=shop).status_code == 200
    create(wsk, tmp_path, "shop/echo", "echo.py", ECHO_PY, "--web", "true")
    args = web.get(f"/{ns}/shop/echo.json", params={"q": "1"}).json()["args"]
    assert context_free(args) == {"db": "/data/shop.db", "tier": "p", "q": "1"}
    refused = web.get(f"/{ns}/shop/echo.json", params={"db": "/etc/passwd"})
    assert (refused.status_code, error_of(refused)) == (400, NOT_ALLOWED)

    bind = {
        "binding": {"namespace": ns, "name": "shop"},
        "parameters": [{"key": "tier", "value": "b"}],
    }
    assert api.put("/namespaces/_/packages/mine", json=bind).status_code == 200
    args = web.get(f"/{ns}/mine/echo.json").json()["args"]
    assert context_free(args) == {"db": "/data/shop.db", "tier": "b"}
    assert web.get(f"/{ns}/default/echo.json").status_code == 404  # not in the default package


def test_a_sequence_as_a_web_action(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    create(
        wsk,
        tmp_path,
        "greet",
        "greet.py",
        "def main(args):\n    return {'name': args.get('name', 'stranger').title()}\n",
    )
    create(
        wsk,
        tmp_path,
        "wrap",
        "wrap.js",
        "function main(p) { return { statusCode: 201, body: '<h1>Hello ' + p.name + '</h1>' }; }\n",
    )
    wsk("action", "create", "page", "--sequence", "greet,wrap", "--web", "true")
    r = web.get(f"/{namespace.namespace}/default/page", params={"name": "ada"})
    assert (r.status_code, r.text) == (201, "<h1>Hello Ada</h1>")
    assert r.headers["content-type"] == "text/html; charset=UTF-8"


def test_a_slow_web_action_answers_202_when_the_wait_is_over(tmp_path: Path) -> None:
    server = StandaloneServer(tmp_path / "data", env={"PYWHISK_BLOCKING_WAIT": "1"})
    server.start()
    try:
        owner = server.create_namespace("slow")
        slow = "import time\ndef main(args):\n    time.sleep(3)\n    return {'body': 'late'}\n"
        put_web_action(server, owner, "slow", slow)
        r = httpx.get(f"{server.url}/api/v1/web/slow/default/slow", timeout=30)
        assert r.status_code == 202
        assert error_of(r) == "Response not yet ready."
        assert len(r.headers["x-openwhisk-activation-id"]) == 32
    finally:
        server.stop()


def test_oversize_chunked_body_is_refused_before_it_ends(
    wsk: Wsk, tmp_path: Path, namespace: Identity, server: StandaloneServer
) -> None:
    """A chunked body declares no length: the 413 comes once the limit is passed, while the
    client is still sending, not after buffering all it would send."""
    create(wsk, tmp_path, "echo", "echo.py", ECHO_PY, "--web", "true")
    chunk = b"a" * (256 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as conn:
        conn.sendall(
            f"POST /api/v1/web/{namespace.namespace}/default/echo HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        # one byte past the limit, and the body never ends; nothing more is sent, so the
        # server has read all there is when it answers (no reset racing the answer)
        for piece in (chunk, chunk, chunk, chunk, b"a"):
            conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            data = conn.recv(65536)
            if not data:
                break
            answer += data
    text = answer.decode()
    assert text.startswith("HTTP/1.1 413 "), text[:300]
    assert "Request larger than allowed: " in text


def test_the_owners_throttle_applies(
    server: StandaloneServer, tmp_path: Path, web: httpx.Client
) -> None:
    owner = server.create_namespace(f"throttled_{tmp_path.name}", invocationsPerMinute=1)
    put_web_action(server, owner, "echo", ECHO_PY)
    url = f"/{owner.namespace}/default/echo.json"
    # a third call in case the wall-clock minute turns between the first two
    first, *later = (web.get(url) for _ in range(3))
    assert first.status_code == 200
    refused = next(r for r in later if r.status_code == 429)
    assert error_of(refused) == "Too many requests in the last minute (count: 1, allowed: 1)."
    assert refused.headers["access-control-allow-origin"] == "*"  # browsers can read it


def test_header_values_no_server_may_send_are_a_400_not_a_dropped_connection(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    code = (
        "def main(args):\n"
        "    value = {'nul': 'a\\x00b', 'ctl': 'a\\x01b', 'del': 'a\\x7f', 'tab': 'a\\tb'}\n"
        "    return {'headers': {'X-Value': value[args['kind']]}, 'body': 'ok'}\n"
    )
    create(wsk, tmp_path, "hdr", "hdr.py", code, "--web", "true")
    url = f"/{namespace.namespace}/default/hdr"
    for kind in ("nul", "ctl", "del"):
        r = web.get(url, params={"kind": kind})
        assert (r.status_code, error_of(r)) == (400, "Response is not valid 'message/http'.")
        assert len(r.headers["x-openwhisk-activation-id"]) == 32
    fine = web.get(url, params={"kind": "tab"})
    assert (fine.status_code, fine.headers["x-value"], fine.text) == (200, "a\tb", "ok")


def test_a_callers_whisk_key_does_not_reach_the_action(
    tmp_path: Path, namespace: Identity, web: httpx.Client, server: StandaloneServer
) -> None:
    """Valid whisk credentials name the caller in `__ow_user`; the key itself stays with
    the platform, or another namespace's action could act as the caller with it."""
    put_web_action(server, namespace, "who", ECHO_PY)
    caller = server.create_namespace(f"{namespace.namespace}_caller")
    uuid, _, key = caller.auth.partition(":")
    url = f"/{namespace.namespace}/default/who.json"
    args = web.get(url, auth=(uuid, key)).json()["args"]
    assert args["__ow_user"] == caller.namespace
    assert "authorization" not in args["__ow_headers"]
    # the action's own schemes still reach it
    bearer = web.get(url, headers={"Authorization": "Bearer t0ken"}).json()["args"]
    assert bearer["__ow_headers"]["authorization"] == "Bearer t0ken"
    assert "__ow_user" not in bearer


def test_a_web_sequence_its_owner_may_no_longer_run_names_nothing(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client, server: StandaloneServer
) -> None:
    """The sequence's component is another namespace's, in a package that stops being
    shared: anonymous callers get the web route's 404, not a 403 naming the component."""
    lender = server.create_namespace(f"{namespace.namespace}_lender")
    uuid, _, key = lender.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1/namespaces/_", auth=(uuid, key)) as other:
        assert other.put("/packages/lent", json={"publish": True}).status_code == 200
        code = {"kind": "python:3.11", "code": ECHO_PY}
        assert other.put("/actions/lent/hidden_helper", json={"exec": code}).status_code == 200
        component = f"/{lender.namespace}/lent/hidden_helper"
        wsk("action", "create", "page", "--sequence", component, "--web", "true")
        url = f"/{namespace.namespace}/default/page.json"
        assert web.get(url).status_code == 200
        put = other.put("/packages/lent?overwrite=true", json={"publish": False})
        assert put.status_code == 200
    refused = web.get(url)
    assert (refused.status_code, error_of(refused)) == (
        404,
        "The requested resource does not exist.",
    )
    assert "hidden_helper" not in refused.text


def test_statuses_that_carry_no_body_or_no_final_answer(
    wsk: Wsk, tmp_path: Path, namespace: Identity, web: httpx.Client
) -> None:
    code = "def main(args):\n    return {'statusCode': int(args['status']), 'body': 'text'}\n"
    create(wsk, tmp_path, "status", "status.py", code, "--web", "true")
    url = f"/{namespace.namespace}/default/status"
    for status in ("100", "101", "199"):  # interim answers: 101 would switch protocols
        r = web.get(url, params={"status": status})
        assert (r.status_code, error_of(r)) == (400, "Response is not valid 'message/http'.")
    for no_content in (204, 304):  # no content by definition: the body is dropped
        r = web.get(url, params={"status": str(no_content)})
        assert (r.status_code, r.content) == (no_content, b"")
    assert web.get(url, params={"status": "200"}).text == "text"  # the connection lives on
