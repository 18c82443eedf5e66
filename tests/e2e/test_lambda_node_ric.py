"""AWS's Node.js runtime interface client (aws-lambda-ric from npm, built here from source:
curl and aws-lambda-cpp) running handlers unmodified as `provided` actions, bundled as AWS
documents for custom runtimes: the package in node_modules beside the handler, and a
`bootstrap` that starts it with the handler's name. The zip is examples/lambda-node as its
README builds it, plus a probe handler reporting what the client saw."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.examples import EXAMPLES
from tests.support.lambda_zip import zip_tree
from tests.support.npm import ensure_npm

Wsk = Callable[..., subprocess.CompletedProcess[str]]

# 3.x: the last line for Node.js 20 (4.x asks for Node.js 22).
RIC = "aws-lambda-ric@3"

PROBE = """\
exports.hello = async (event, context) => {
  console.log("hello from", context.functionName, context.awsRequestId);
  if (event.fail) throw new TypeError("asked to fail");
  return { msg: `Hello ${event.name || "World"}`, requestId: context.awsRequestId, pid: process.pid };
};
"""


def blocking(api: httpx.Client, name: str, params: dict[str, object]) -> dict[str, object]:
    answer = api.post(f"/namespaces/_/actions/{name}", params={"blocking": "true"}, json=params)
    return dict(answer.json())


def test_aws_lambda_ric_runs_unmodified(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    prefix = ensure_npm("aws-lambda-ric-3", RIC)
    probe = tmp_path / "probe"
    (probe / "probe.js").parent.mkdir()
    (probe / "probe.js").write_text(PROBE)
    # One zip (node_modules is large) for the example's handler and the probe.
    archive = zip_tree(
        tmp_path / "fn.zip",
        EXAMPLES / "lambda-node",
        probe,
        (prefix / "node_modules", "node_modules"),
    )
    wsk("action", "create", "node-ric", str(archive), "--kind", "provided", "--main", "probe.hello")

    result = json.loads(wsk("action", "invoke", "node-ric", "--result", "-p", "name", "Rob").stdout)
    assert result["msg"] == "Hello Rob"
    record = api.get(f"/namespaces/_/activations/{result['requestId']}").json()
    assert any(f"hello from node-ric {result['requestId']}" in line for line in record["logs"])
    again = json.loads(wsk("action", "invoke", "node-ric", "--result").stdout)
    assert again["pid"] == result["pid"]

    failed = blocking(api, "node-ric", {"fail": True})["response"]
    assert isinstance(failed, dict)
    assert failed["status"] == "application error"
    assert failed["result"]["error"]["errorMessage"] == "asked to fail"
    assert failed["result"]["error"]["errorType"] == "TypeError"

    # examples/lambda-node as its README creates it.
    wsk(
        "action", "create", "hello-node", str(archive), "--kind", "provided",
        "--main", "index.hello", "--memory", "128",
    )  # fmt: skip
    rob = wsk("action", "invoke", "hello-node", "--result", "-p", "name", "Rob").stdout
    assert json.loads(rob) == {"msg": "Hello Rob", "memory": "128"}
    logs = wsk("activation", "logs", "--last").stdout
    assert "hello-node handles " in logs
    empty = blocking(api, "hello-node", {"name": ""})["response"]
    assert isinstance(empty, dict)
    assert empty["status"] == "application error"
    error = empty["result"]["error"]
    assert (error["errorType"], error["errorMessage"]) == ("TypeError", "the name is empty")
