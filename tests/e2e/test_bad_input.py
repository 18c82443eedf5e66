"""Bad input over real HTTP against a real standalone server: a clear 4xx in OpenWhisk's
error shape, and nothing accepted, nothing half-done.

Deeply nested JSON bodies on every route that parses one, zip bombs, oversized and
dribbled request heads (raw sockets), and throttles that count only accepted work.
"""

from __future__ import annotations

import base64
import io
import socket
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from pywhisk.common.entities import Identity
from tests.support.rest import wait_for_record
from tests.support.server import StandaloneServer

ECHO = "def main(args):\n    return args\n"
TOO_DEEP = "The request content was malformed:\nJSON nested deeper than 100 levels"
HEADER_TIMEOUT = 2.0
ZIP_MAX = 1024 * 1024


def nested(depth: int) -> bytes:
    """A JSON object `depth` containers deep: {"a": [[...]]}."""
    return b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneServer]:
    """A server with a short header timeout and a small zip limit, so tests stay quick."""
    srv = StandaloneServer(
        tmp_path_factory.mktemp("strict"),
        env={
            "PYWHISK_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
            "PYWHISK_ZIP_UNPACKED_MAX": str(ZIP_MAX),
        },
    )
    srv.start()
    yield srv
    srv.stop()


_names = iter(range(10**6))


@pytest.fixture
def user(strict: StandaloneServer) -> Identity:
    return strict.create_namespace(
        f"bad{next(_names)}", invocationsPerMinute=10_000, concurrentInvocations=100
    )


def client(server: StandaloneServer, identity: Identity) -> httpx.Client:
    uuid, _, key = identity.auth.partition(":")
    return httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60)


@pytest.fixture
def api(strict: StandaloneServer, user: Identity) -> Iterator[httpx.Client]:
    with client(strict, user) as c:
        yield c


def assert_refused(r: httpx.Response, status: int, message: str) -> None:
    assert r.status_code == status, r.text
    assert r.json() == {"error": message, "code": r.headers["x-request-id"]}


def count(api: httpx.Client) -> int:
    return int(api.get("/namespaces/_/activations", params={"count": "true"}).json()["activations"])


def put(api: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    return api.put(f"/namespaces/_/{path}", params={"overwrite": "true"}, json=body)


JSON = {"content-type": "application/json"}


# -- JSON nesting ---------------------------------------------------------------------------


def test_deep_json_invoke_is_refused_and_nothing_runs(api: httpx.Client) -> None:
    assert put(api, "actions/echo", {"exec": {"kind": "python:3.11", "code": ECHO}}).is_success
    for blocking in ("true", "false"):
        r = api.post(
            "/namespaces/_/actions/echo",
            params={"blocking": blocking},
            content=nested(300),
            headers=JSON,
        )
        assert_refused(r, 400, TOO_DEEP)
    # At the limit it runs, and its record holds the whole payload.
    at_limit = api.post(
        "/namespaces/_/actions/echo",
        params={"blocking": "true", "result": "true"},
        content=nested(100),
        headers=JSON,
    )
    assert at_limit.status_code == 200, at_limit.text
    assert at_limit.content.replace(b" ", b"") == nested(100).replace(b" ", b"")
    assert count(api) == 1


def test_deep_action_result_is_an_application_error(api: httpx.Client) -> None:
    """Nothing hangs: the caller gets an answer and the record is written."""
    deep = "def main(args):\n    v = {}\n    for _ in range(300):\n        v = [v]\n    return {'v': v}\n"
    assert put(api, "actions/deep", {"exec": {"kind": "python:3.11", "code": deep}}).is_success
    r = api.post("/namespaces/_/actions/deep", params={"blocking": "true"}, json={})
    assert r.status_code == 502, r.text
    message = "The action produced a response nested deeper than 100 levels."
    assert r.json()["response"]["result"] == {"error": message}
    record = wait_for_record(api, r.json()["activationId"])
    assert record["response"]["status"] == "application error"


def test_deep_json_fire_is_refused_and_nothing_is_recorded(api: httpx.Client) -> None:
    assert put(api, "actions/echo", {"exec": {"kind": "python:3.11", "code": ECHO}}).is_success
    assert put(api, "triggers/t", {}).is_success
    assert put(api, "rules/r", {"trigger": "/_/t", "action": "/_/echo"}).is_success
    r = api.post("/namespaces/_/triggers/t", content=nested(300), headers=JSON)
    assert_refused(r, 400, TOO_DEEP)
    fired = api.post("/namespaces/_/triggers/t", json={"ok": 1})
    assert fired.status_code == 202
    wait_for_record(api, fired.json()["activationId"])
    time.sleep(1)  # the rule's activation, and anything the refused fire might have left
    names = [a["name"] for a in api.get("/namespaces/_/activations").json()]
    assert sorted(names) == ["echo", "t"]


def test_deep_json_webhook_is_refused(strict: StandaloneServer, api: httpx.Client) -> None:
    assert put(api, "actions/echo", {"exec": {"kind": "python:3.11", "code": ECHO}}).is_success
    assert put(api, "triggers/hook", {}).is_success
    assert put(api, "rules/r", {"trigger": "/_/hook", "action": "/_/echo"}).is_success
    url = api.post("/namespaces/_/triggers/hook/webhook").json()["url"]
    with httpx.Client(timeout=30) as outside:
        r = outside.post(url, content=nested(300), headers=JSON)
    assert_refused(r, 400, TOO_DEEP)
    time.sleep(1)
    assert count(api) == 0


def test_deep_json_web_action_is_refused(
    strict: StandaloneServer, api: httpx.Client, user: Identity
) -> None:
    body = {
        "exec": {"kind": "python:3.11", "code": ECHO},
        "annotations": [{"key": "web-export", "value": True}],
    }
    assert put(api, "actions/web", body).is_success
    url = f"{strict.url}/api/v1/web/{user.namespace}/default/web.json"
    with httpx.Client(timeout=30) as outside:
        r = outside.post(url, content=nested(300), headers=JSON)
        assert_refused(r, 400, TOO_DEEP)
        assert outside.post(url, content=nested(90), headers=JSON).status_code == 200
    assert count(api) == 1


def test_deep_json_api_management_is_refused_and_nothing_stored(
    strict: StandaloneServer, api: httpx.Client
) -> None:
    url = f"{strict.url}/api/v1/web/whisk.system/apimgmt"
    deep = b'{"apidoc": {"namespace": "_", "gatewayBasePath": "/x", "deep": ' + nested(300) + b"}}"
    r = api.post(f"{url}/createApi", content=deep, headers=JSON)
    assert_refused(r, 400, TOO_DEEP)
    as_text = orjson.dumps({"apidoc": deep.decode()})  # the apidoc as a JSON string
    r = api.post(f"{url}/createApi", content=as_text, headers=JSON)
    assert r.status_code == 400, r.text
    assert api.get(f"{url}/getApi").json() == {"apis": []}


@pytest.mark.parametrize(
    ("path", "more"),
    [
        ("actions/deep", b', "exec": {"kind": "python:3.11", "code": "pass"}'),
        ("packages/deep", b""),
        ("triggers/deep", b""),
    ],
)
def test_deep_json_entity_put_is_refused_and_nothing_stored(
    api: httpx.Client, path: str, more: bytes
) -> None:
    content = b'{"parameters": [{"key": "p", "value": ' + nested(300) + b"}]" + more + b"}"
    r = api.put(f"/namespaces/_/{path}", content=content, headers=JSON)
    assert_refused(r, 400, TOO_DEEP)
    assert api.get(f"/namespaces/_/{path}").status_code == 404


# -- zip archives ---------------------------------------------------------------------------


def zipped(files: dict[str, bytes]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return base64.b64encode(buffer.getvalue()).decode()


def test_zip_bomb_is_refused_at_create_and_update(api: httpx.Client) -> None:
    bomb = zipped({"__main__.py": ECHO.encode(), "pad.bin": b"\0" * (3 * ZIP_MAX)})
    assert len(bomb) < 20_000  # a few KB that unpack to 3 MB
    message = (
        "The action's zip file unpacks to more than allowed: "
        f"{3 * ZIP_MAX + len(ECHO)} > {ZIP_MAX} bytes."
    )
    r = put(api, "actions/bomb", {"exec": {"kind": "python:3.11", "code": bomb, "binary": True}})
    assert_refused(r, 400, message)
    assert api.get("/namespaces/_/actions/bomb").status_code == 404
    fine = zipped({"__main__.py": ECHO.encode(), "pad.bin": b"\0" * (ZIP_MAX // 2)})
    r = put(api, "actions/bomb", {"exec": {"kind": "python:3.11", "code": fine, "binary": True}})
    assert r.status_code == 200, r.text
    r = put(api, "actions/bomb", {"exec": {"kind": "python:3.11", "code": bomb, "binary": True}})
    assert_refused(r, 400, message)
    kept = api.get("/namespaces/_/actions/bomb").json()["exec"]["code"]
    assert kept == fine
    ran = api.post(
        "/namespaces/_/actions/bomb", params={"blocking": "true", "result": "true"}, json={"x": 1}
    )
    assert (ran.status_code, ran.json()) == (200, {"x": 1})


# -- request heads (raw sockets) ------------------------------------------------------------


def raw_exchange(server: StandaloneServer, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before we finished sending: read what it said
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    return answer


def test_oversized_request_head_gets_431(strict: StandaloneServer) -> None:
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(256))
    answer = raw_exchange(strict, b"GET /ping HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
    head, _, body = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert httpx.Response(431, content=body).json()["error"] == "Request header fields too large."
    # One huge header line that never ends is cut off too, without waiting for its end.
    line = b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Long: " + b"b" * (256 * 1024)
    assert raw_exchange(strict, line).startswith(b"HTTP/1.1 431 ")
    # A big but acceptable head is served.
    fine = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(40))
    answer = raw_exchange(
        strict, b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + fine + b"\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"pong")


def test_dribbled_request_head_is_cut_off(strict: StandaloneServer) -> None:
    """Slowloris: one header line now and then, never the end of the head."""
    with socket.create_connection(("127.0.0.1", strict.port), timeout=60) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n")
        closed = b""
        for i in range(int(HEADER_TIMEOUT * 15)):  # dribbles 15 times the server's timeout
            time.sleep(0.5)
            try:
                sock.sendall(b"X-Slow-%d: 1\r\n" % i)
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.01)
            try:
                closed = sock.recv(65536)
            except TimeoutError:
                continue
            finally:
                sock.settimeout(60)
            break
        else:
            pytest.fail("the server kept waiting for the request head")
    assert closed == b"" or closed.startswith(b"HTTP/1.1 408 Request Timeout")


def test_silent_connection_is_cut_off_and_kept_alive_one_is_served(
    strict: StandaloneServer,
) -> None:
    with socket.create_connection(("127.0.0.1", strict.port), timeout=30) as sock:
        answer = sock.recv(65536)  # we send nothing at all
        assert answer.startswith(b"HTTP/1.1 408 ")
    # A kept-alive connection idle between requests is not a slow head.
    with socket.create_connection(("127.0.0.1", strict.port), timeout=30) as sock:
        for _ in range(2):
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"pong"):
                data = sock.recv(65536)
                assert data, f"closed after {answer!r}"
                answer += data
            assert answer.startswith(b"HTTP/1.1 200 ")
            time.sleep(HEADER_TIMEOUT * 1.5)


# -- throttles count accepted work only -----------------------------------------------------


def _inside_one_minute(spare: float) -> None:
    while time.time() % 60 > 60 - spare:  # the window is the wall-clock minute
        time.sleep(1)


def test_refused_invokes_do_not_use_up_the_minute(strict: StandaloneServer) -> None:
    ident = strict.create_namespace(
        f"quota{time.monotonic_ns()}", invocationsPerMinute=3, concurrentInvocations=1
    )
    with client(strict, ident) as api:
        nap = "import time\ndef main(a):\n    time.sleep(3)\n    return {}\n"
        assert put(api, "actions/nap", {"exec": {"kind": "python:3.11", "code": nap}}).is_success
        _inside_one_minute(25)
        first = api.post("/namespaces/_/actions/nap", json={})
        assert first.status_code == 202
        refused = [api.post("/namespaces/_/actions/nap", json={}) for _ in range(5)]
        assert {r.status_code for r in refused} == {429}
        assert "concurrent" in refused[-1].json()["error"]
        wait_for_record(api, first.json()["activationId"])
        time.sleep(0.5)  # the tracker lets go of the finished activation
        again = api.post("/namespaces/_/actions/nap", json={})
        assert again.status_code == 202, again.text


def test_fires_at_missing_triggers_do_not_use_up_the_minute(strict: StandaloneServer) -> None:
    ident = strict.create_namespace(f"fquota{time.monotonic_ns()}", firesPerMinute=1)
    with client(strict, ident) as api:
        assert put(api, "triggers/t", {}).is_success
        _inside_one_minute(10)
        for _ in range(3):
            assert api.post("/namespaces/_/triggers/missing", json={}).status_code == 404
        assert api.post("/namespaces/_/triggers/t", json={}).status_code == 204
