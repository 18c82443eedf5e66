"""Invoking actions over the real REST API of a real standalone server (§1.3.3, §2.6, §4)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.rest import invoke, put_action, wait_for_record
from tests.support.server import StandaloneServer

HELLO = {
    "python:3.11": "def main(args):\n    name = args.get('name', 'World')\n    return {'msg': f'Hello {name}'}\n",
    "php:8.2": "<?php\nfunction main(array $args) : array {\n    $name = $args['name'] ?? 'World';\n    return ['msg' => \"Hello $name\"];\n}\n",
    "nodejs:20": "function main(params) {\n  return { msg: 'Hello ' + (params.name || 'World') };\n}\n",
}


def annotations_of(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in record["annotations"]}


@pytest.mark.parametrize("kind", sorted(HELLO))
def test_hello_in_every_language(api: httpx.Client, kind: str) -> None:
    put_action(api, "hello", HELLO[kind], kind)
    r = invoke(api, "hello", result="true")
    assert (r.status_code, r.json()) == (200, {"msg": "Hello World"})
    r = invoke(api, "hello", {"name": "Rob"}, result="true")
    assert (r.status_code, r.json()) == (200, {"msg": "Hello Rob"})


def test_blocking_activation_and_its_record(api: httpx.Client, namespace: Identity) -> None:
    put_action(
        api,
        "echo",
        "def main(args):\n    print('hi there')\n    return args\n",
        parameters=[{"key": "d", "value": 1}],
    )
    r = invoke(api, "echo", {"x": 2})
    assert r.status_code == 200
    activation = r.json()
    assert r.headers["x-openwhisk-activation-id"] == activation["activationId"]
    assert activation["response"] == {
        "status": "success",
        "success": True,
        "result": {"d": 1, "x": 2},
        "size": 13,
    }
    assert activation["logs"] == []  # blocking answers come before log collection, as in OW
    assert activation["namespace"] == namespace.namespace and activation["name"] == "echo"
    record = wait_for_record(api, activation["activationId"])
    assert any(line.endswith("stdout: hi there") for line in record["logs"]), record["logs"]
    notes = annotations_of(record)
    assert notes["path"] == f"{namespace.namespace}/echo"
    assert notes["kind"] == "python:3.11" and notes["timeout"] is False
    assert notes["limits"] == {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}
    assert "initTime" in notes and notes["waitTime"] >= 0  # first run is cold
    assert record["duration"] == record["end"] - record["start"]
    warm = invoke(api, "echo").json()
    assert "initTime" not in annotations_of(warm)
    logs = api.get(f"/namespaces/_/activations/{activation['activationId']}/logs").json()
    assert logs == {"logs": record["logs"]}
    result = api.get(f"/namespaces/_/activations/{activation['activationId']}/result").json()
    assert result == {"status": "success", "success": True, "result": {"d": 1, "x": 2}, "size": 13}


def test_non_blocking_returns_202_and_the_record_follows(api: httpx.Client) -> None:
    put_action(api, "later", "def main(args):\n    return {'done': True}\n")
    r = api.post("/namespaces/_/actions/later", json={})
    assert r.status_code == 202
    activation_id = r.json()["activationId"]
    assert len(activation_id) == 32
    assert wait_for_record(api, activation_id)["response"]["result"] == {"done": True}


def test_blocking_wait_past_timeout_answers_202(api: httpx.Client) -> None:
    put_action(
        api, "slow", "import time\ndef main(args):\n    time.sleep(2)\n    return {'slept': 2}\n"
    )
    r = invoke(api, "slow", timeout="300")
    assert r.status_code == 202
    record = wait_for_record(api, r.json()["activationId"])
    assert record["response"]["result"] == {"slept": 2}


def test_result_only_and_array_results(api: httpx.Client) -> None:
    put_action(api, "arr", "def main(args):\n    return [1, 2, 3]\n")
    assert invoke(api, "arr").json() == [1, 2, 3]
    assert invoke(api, "arr", result="true").json() == [1, 2, 3]


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        (
            "def main(args):\n    return {'error': 'bad input', 'other': 1}\n",
            "application error",
            "bad input",
        ),
        ("def main(args):\n    raise ValueError('boom')\n", "application error", "boom"),
        (
            "def main(args):\n    return 'just a string'\n",
            "action developer error",
            "dictionary or array",
        ),
        ("def main(args):\n    return {'x': 1\n", "action developer error", "SyntaxError"),
        ("def other(args):\n    return {}\n", "action developer error", "main"),
    ],
)
def test_errors_are_502_with_status(api: httpx.Client, code: str, status: str, error: str) -> None:
    put_action(api, "fails", code)
    r = invoke(api, "fails")
    assert r.status_code == 502
    response = r.json()["response"]
    assert response["status"] == status and response["success"] is False
    assert error in str(response["result"]["error"])
    if status == "application error" and "other" in code:
        assert response["result"] == {"error": "bad input"}  # only the error field is kept


def test_runaway_action_is_stopped_and_next_invoke_works(api: httpx.Client) -> None:
    code = "import time\ndef main(args):\n    if args.get('spin'):\n        while True: time.sleep(0.01)\n    return {'ok': True}\n"
    put_action(api, "spin", code, limits={"timeout": 1000})
    started = time.monotonic()
    r = invoke(api, "spin", {"spin": True})
    assert time.monotonic() - started < 10
    assert r.status_code == 502
    activation = r.json()
    assert activation["response"]["status"] == "action developer error"
    assert (
        activation["response"]["result"]["error"]
        == "The action exceeded its time limits of 1000 milliseconds."
    )
    assert annotations_of(activation)["timeout"] is True
    again = invoke(api, "spin")
    assert again.status_code == 200 and again.json()["response"]["result"] == {"ok": True}
    assert "initTime" in annotations_of(again.json())  # the old container was destroyed


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (
            "python:3.11",
            "import os\ndef main(args):\n    if args.get('die'): os._exit(3)\n    return {'alive': True}\n",
        ),
        ("nodejs:20", "function main(p) { if (p.die) process.exit(3); return {alive: true}; }\n"),
        (
            "php:8.2",
            "<?php\nfunction main(array $a): array { if ($a['die'] ?? false) exit(3); return ['alive' => true]; }\n",
        ),
    ],
)
def test_crashing_interpreter_gives_developer_error_then_fresh_container(
    api: httpx.Client, kind: str, code: str
) -> None:
    put_action(api, "crash", code, kind)
    r = invoke(api, "crash", {"die": True})
    assert r.status_code == 502
    assert r.json()["response"]["status"] == "action developer error"
    again = invoke(api, "crash")
    assert again.status_code == 200 and again.json()["response"]["result"] == {"alive": True}


def test_payload_over_limit_is_413(api: httpx.Client) -> None:
    put_action(api, "echo", "def main(args):\n    return args\n")
    r = api.post("/namespaces/_/actions/echo?blocking=true", json={"x": "y" * (1024 * 1024)})
    assert r.status_code == 413 and r.json()["error"].startswith("Request larger than allowed:")


def test_large_payload_under_limit_round_trips(api: httpx.Client) -> None:
    put_action(api, "echo", "def main(args):\n    return {'n': len(args['x'])}\n")
    r = invoke(api, "echo", {"x": "y" * 900_000}, result="true")
    assert r.json() == {"n": 900_000}


def test_activation_list_filters(api: httpx.Client) -> None:
    put_action(api, "a1", "def main(args):\n    return {}\n")
    put_action(api, "a2", "def main(args):\n    return {}\n")
    ids = [invoke(api, name).json()["activationId"] for name in ("a1", "a2", "a1")]
    for activation_id in ids:
        wait_for_record(api, activation_id)
    listed = api.get("/namespaces/_/activations").json()
    assert [a["activationId"] for a in listed] == ids[::-1]
    assert all(a["statusCode"] == 0 and "response" not in a for a in listed), listed
    assert [a["activationId"] for a in api.get("/namespaces/_/activations?name=a1").json()] == [
        ids[2],
        ids[0],
    ]
    assert api.get("/namespaces/_/activations?count=true&name=a1").json() == {"activations": 2}
    full = api.get("/namespaces/_/activations?docs=true&limit=1").json()
    assert len(full) == 1 and full[0]["response"]["success"] is True


def test_rate_throttle(server: StandaloneServer) -> None:
    limited = server.create_namespace("throttled_rate", invocationsPerMinute=2)
    uuid, _, key = limited.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60) as api:
        put_action(api, "t", "def main(a):\n    return {}\n")
        assert [api.post("/namespaces/_/actions/t", json={}).status_code for _ in range(2)] == [
            202,
            202,
        ]
        r = api.post("/namespaces/_/actions/t", json={})
        assert r.status_code == 429
        assert r.json()["error"] == "Too many requests in the last minute (count: 2, allowed: 2)."


def test_concurrency_throttle(server: StandaloneServer) -> None:
    limited = server.create_namespace(
        "throttled_conc", concurrentInvocations=1, invocationsPerMinute=100
    )
    uuid, _, key = limited.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60) as api:
        put_action(api, "nap", "import time\ndef main(a):\n    time.sleep(2)\n    return {}\n")
        assert api.post("/namespaces/_/actions/nap", json={}).status_code == 202
        r = api.post("/namespaces/_/actions/nap", json={})
        assert r.status_code == 429
        assert r.json()["error"] == "Too many concurrent requests in flight (count: 1, allowed: 1)."
