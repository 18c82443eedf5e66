"""The Lambda Runtime API as a bootstrap sees it, through the real proxy (`--language
provided`) over real sockets: the headers of `next`, and what a confused or hostile bootstrap
gets for a wrong request id, an unknown path, a bad body or a response too big."""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.polling import wait_until

REPO = Path(__file__).resolve().parents[2]

# Each event says what to probe; the answers go back as the response.
BOOTSTRAP = """#!/usr/bin/python3 -s
import http.client, json, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))

def call(method, path, body=None, headers=None):
    conn.request(method, "/2018-06-01/runtime/" + path, body=body, headers=headers or {})
    reply = conn.getresponse()
    return reply.status, dict(reply.getheaders()), reply.read()

while True:
    status, headers, body = call("GET", "invocation/next")
    rid = headers["Lambda-Runtime-Aws-Request-Id"]
    event = json.loads(body)
    probes = {}
    if event.get("probe"):
        probes["wrong_id"] = call("POST", "invocation/not-" + rid + "/response", b"{}")[::2]
        probes["unknown"] = call("GET", "invocation/later")[::2]
        probes["too_big"] = call("POST", "invocation/" + rid + "/response", b"x" * (6 * 1024 * 1024 + 1))[::2]
        conn.close()
    if event.get("error"):
        call("POST", "invocation/" + rid + "/error", b"not json at all",
             {"Lambda-Runtime-Function-Error-Type": "Custom.Oops"})
        continue
    result = {"headers": {k: v for k, v in headers.items() if k.startswith("Lambda-")},
              "env": {k: os.environ.get(k) for k in ("_HANDLER", "AWS_LAMBDA_FUNCTION_NAME",
                      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_VERSION",
                      "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME")},
              "probes": {k: [v[0], v[1].decode()[:200]] for k, v in probes.items()}}
    call("POST", "invocation/" + rid + "/response", json.dumps(result).encode())
"""


def code(bootstrap: str = BOOTSTRAP) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        archive.writestr(info, bootstrap)
    return base64.b64encode(buffer.getvalue()).decode()


# Answers one event and exits at once: the answer must still reach the caller.
ONE_SHOT = """#!/usr/bin/python3 -s
import os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
with urllib.request.urlopen(api + "next") as event:
    rid = event.headers["Lambda-Runtime-Aws-Request-Id"]
urllib.request.urlopen(urllib.request.Request(api + rid + "/response", data=b'{"once": true}'))
"""


def start_proxy(work_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The real proxy for `provided` on a free port, once it answers (the wait fails after 10 s)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-E",
            "-s",
            str(REPO / "action_runtime"),
            "--language",
            "provided",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=work_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def connects() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_until(connects, f"the Runtime API on port {port}", timeout=10, ignoring=(OSError,))
    return proc, port


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[int]:
    proc, port = start_proxy(tmp_path)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def post(port: int, path: str, body: object) -> tuple[int, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, json.dumps(body))
        reply = conn.getresponse()
        return reply.status, json.loads(reply.read())
    finally:
        conn.close()


def test_next_headers_and_hostile_calls(proxy: int) -> None:
    env = {"__OW_ACTION_NAME": "/guest/pkg/fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}
    init = {"value": {"code": code(), "binary": True, "main": "fn.handler", "env": env}}
    assert post(proxy, "/init", init) == (200, {"ok": True})
    run = {
        "value": {"probe": True},
        "activation_id": "a" * 32,
        "deadline": "1900000000000",
        "namespace": "guest",
        "action_name": "/guest/pkg/fn",
    }
    status, result = post(proxy, "/run", run)
    assert status == 200, result
    assert isinstance(result, dict)
    headers = result["headers"]
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "a" * 32
    assert headers["Lambda-Runtime-Deadline-Ms"] == "1900000000000"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == (
        "arn:aws:lambda:local:guest:function:pkg:fn"
    )
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
    # Known only when the invoke gave one (X-Amz-Client-Context); Cognito, never.
    assert "Lambda-Runtime-Client-Context" not in headers
    assert "Lambda-Runtime-Cognito-Identity" not in headers
    assert result["env"] == {
        "_HANDLER": "fn.handler",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "LAMBDA_TASK_ROOT": result["env"]["LAMBDA_TASK_ROOT"],
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": result["env"]["AWS_LAMBDA_LOG_STREAM_NAME"],
    }
    # Lambda's form: date/[version]id
    assert re.fullmatch(
        r"\d{4}/\d{2}/\d{2}/\[[^]]+\][0-9a-f]{32}", result["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    probes = result["probes"]
    assert probes["wrong_id"][0] == 400 and "InvalidRequestID" in probes["wrong_id"][1]
    assert probes["unknown"][0] == 404
    assert probes["too_big"][0] == 413

    # An error document that is not JSON is still an application error, typed by its header.
    status, failed = post(proxy, "/run", {**run, "value": {"error": True}})
    assert status == 200
    assert failed == {"error": {"errorMessage": "not json at all", "errorType": "Custom.Oops"}}
    # And the runtime still serves the next event.
    context = '{"custom":{"app":"photos"},"env":{"locale":"en-GB"}}'
    status, again = post(proxy, "/run", {**run, "value": {}, "client_context": context})
    assert status == 200 and isinstance(again, dict) and again["probes"] == {}
    assert again["headers"]["Lambda-Runtime-Client-Context"] == context
    # A /run body that is not JSON never reaches the bootstrap.
    conn = http.client.HTTPConnection("127.0.0.1", proxy, timeout=60)
    conn.request("POST", "/run", b"{not json")
    assert conn.getresponse().status == 400
    conn.close()


def test_a_bootstrap_that_exits_after_answering_ends_the_runtime(tmp_path: Path) -> None:
    """The answer goes out, then the proxy exits (status 0), so the invoker replaces the
    container before the next event, which Lambda would give a new environment too."""
    proc, port = start_proxy(tmp_path)
    try:
        init = {"value": {"code": code(ONE_SHOT), "binary": True, "main": "x", "env": {}}}
        assert post(port, "/init", init) == (200, {"ok": True})
        run = {"value": {}, "activation_id": "b" * 32, "deadline": "1900000000000"}
        assert post(port, "/run", run) == (200, {"once": True})
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
