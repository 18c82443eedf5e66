"""The platform's own logs as JSON lines: every line about an activation names its
transaction and activation ids, in the controller's part and the invoker's, for actions,
sequences and triggers alike, successes and failures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.polling import wait_until
from tests.support.server import StandaloneServer


def test_json_lines_carry_transaction_and_activation_ids(tmp_path: Path) -> None:
    server = StandaloneServer(
        tmp_path / "server", env={"PYWHISK_LOG_FORMAT": "json", "PYWHISK_LOG_LEVEL": "debug"}
    )
    server.start()
    try:
        ns = server.create_namespace("logged")
        with httpx.Client(
            base_url=f"{server.url}/api/v1/namespaces/_", auth=(ns.uuid, ns.key), timeout=60
        ) as api:
            code = {"kind": "python:3.11", "code": "def main(a):\n    return a\n"}
            assert api.put("/actions/echo", json={"exec": code}).status_code == 200
            answer = api.post(
                "/actions/echo?blocking=true", json={}, headers={"X-Request-ID": "tid-logs-1"}
            )
            activation_id = answer.json()["activationId"]
    finally:
        assert server.stop() == 0, server.log()
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    about = [line for line in lines if line.get("activationId") == activation_id]
    assert {line["logger"] for line in about} >= {"pywhisk.controller", "pywhisk.invoker"}
    assert all(line["transid"] == "tid-logs-1" for line in about)
    ran = next(line for line in about if line["logger"] == "pywhisk.invoker")
    assert ran["message"].startswith("ran /logged/echo") and ran["level"] == "DEBUG"
    assert all(set(line) >= {"ts", "level", "logger", "message"} for line in lines)
    # Lines about no activation carry no ids.
    assert all("activationId" not in line for line in lines if line not in about)


ECHO = "def main(a):\n    return a\n"
APP_ERROR = "def main(a):\n    return {'error': 'refused'}\n"
CRASH = "def main(a):\n    raise RuntimeError('crashed')\n"
SLOW = "import time\ndef main(a):\n    time.sleep(2)\n    return a\n"
ID = re.compile(r"\b[0-9a-f]{32}\b")


def test_every_line_about_an_activation_names_it(tmp_path: Path) -> None:
    server = StandaloneServer(
        tmp_path / "server", env={"PYWHISK_LOG_FORMAT": "json", "PYWHISK_LOG_LEVEL": "debug"}
    )
    server.start()
    try:
        ns = server.create_namespace("traced")
        with httpx.Client(
            base_url=f"{server.url}/api/v1/namespaces/_", auth=(ns.uuid, ns.key), timeout=60
        ) as api:
            for name, code, limits in (
                ("echo", ECHO, {}),
                ("refuse", APP_ERROR, {}),
                ("crash", CRASH, {}),
                ("slow", SLOW, {"timeout": 500}),  # ends as a developer error at 0.5 s
            ):
                action = {"exec": {"kind": "python:3.11", "code": code}, "limits": limits}
                assert api.put(f"/actions/{name}", json=action).status_code == 200
            chain = {"exec": {"kind": "sequence", "components": ["/_/echo", "/_/echo"]}}
            assert api.put("/actions/chain", json=chain).status_code == 200
            assert api.put("/triggers/ping", json={}).status_code == 200
            rule = {"trigger": "/_/ping", "action": "/_/echo"}
            assert api.put("/rules/on-ping", json=rule).status_code == 200

            for name in ("echo", "refuse", "crash", "slow", "chain"):
                api.post(f"/actions/{name}?blocking=true", json={})
            assert api.post("/actions/echo", json={}).status_code == 202  # non-blocking
            assert api.post("/triggers/ping", json={}).status_code == 202
            listed = wait_until(  # the trigger's rule, the non-blocking one: all recorded
                lambda: api.get("/activations", params={"limit": 200}).json(),
                "every activation recorded (10)",
                interval=0.2,
                until=lambda listed: (
                    len(listed) >= 10
                    and all("statusCode" in a or a["name"] == "ping" for a in listed)
                ),
            )
    finally:
        assert server.stop() == 0, server.log()
    # 4 actions and the sequence, its 2 components, 1 non-blocking, the trigger, its rule's.
    ids = {a["activationId"] for a in listed}
    assert len(ids) == 10
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    for line in lines:
        named = set(ID.findall(line["message"])) & ids
        assert len(named) <= 1, line
        if named:  # a line that names an activation is tagged with it
            assert line.get("activationId") == named.pop(), line
        if "activationId" in line:
            assert line.get("transid"), line
    # And every activation, whatever it was, has its lines.
    tagged = {line["activationId"] for line in lines if "activationId" in line}
    assert ids <= tagged, ids - tagged


def test_an_unknown_log_format_is_one_line_and_a_failure(tmp_path: Path) -> None:
    env = {**os.environ, "PYWHISK_LOG_FORMAT": "xml"}
    command = [sys.executable, "-m", "pywhisk.deploy.commands", "standalone"]
    command += ["--port", "0", "--data-dir", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "Error: unknown log format 'xml' (known: text, json)"
    ]


def test_a_whisk_internal_error_is_logged_with_its_cause(tmp_path: Path) -> None:
    """The user sees only `Failed to provision resources…`: the operator finds the line
    saying which activation and why. Here an action bigger than the invoker's whole memory
    (one that could never get a container, however long it waited)."""
    server = StandaloneServer(tmp_path / "server", env={"PYWHISK_USER_MEMORY": "128"})
    server.start()
    try:
        ns = server.create_namespace("failing")
        with httpx.Client(
            base_url=f"{server.url}/api/v1/namespaces/_", auth=(ns.uuid, ns.key), timeout=60
        ) as api:
            action = {"exec": {"kind": "python:3.11", "code": ECHO}, "limits": {"memory": 256}}
            assert api.put("/actions/huge", json=action).status_code == 200
            answer = api.post(
                "/actions/huge?blocking=true", json={}, headers={"X-Request-ID": "tid-huge"}
            )
            assert answer.json()["response"]["status"] == "whisk internal error", answer.text
            activation_id = answer.json()["activationId"]
            error = answer.json()["response"]["result"]["error"]
    finally:
        assert server.stop() == 0, server.log()
    (line,) = [line for line in server.log().splitlines() if "whisk internal error:" in line]
    assert (
        f"whisk internal error: activation {activation_id} (transaction tid-huge) of "
        f"failing/huge: {error} (cause: no container: NoCapacity: 256 MB > 128 MB of "
        "container memory)"
    ) in line
