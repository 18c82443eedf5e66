"""The platform's own logs as JSON lines: every line about an activation names its
transaction and activation ids, in the controller's part and the invoker's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

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


def test_an_unknown_log_format_is_one_line_and_a_failure(tmp_path: Path) -> None:
    env = {**os.environ, "PYWHISK_LOG_FORMAT": "xml"}
    command = [sys.executable, "-m", "pywhisk.deploy.commands", "standalone"]
    command += ["--port", "0", "--data-dir", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "Error: unknown log format 'xml' (known: text, json)"
    ]
