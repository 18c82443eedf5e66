"""AWS's Node.js runtime interface client (aws-lambda-ric from npm, built here from source:
curl and aws-lambda-cpp) running a handler unmodified as a `provided` action, bundled as AWS
documents for custom runtimes: the package in node_modules beside the handler, and a
`bootstrap` that starts it with the handler's name."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.lambda_zip import write_executable, zip_tree
from tests.support.npm import ensure_npm

Wsk = Callable[..., subprocess.CompletedProcess[str]]

# 3.x: the last line for Node.js 20 (4.x asks for Node.js 22).
RIC = "aws-lambda-ric@3"

HANDLER = """\
exports.hello = async (event, context) => {
  console.log("hello from", context.functionName, context.awsRequestId);
  if (event.fail) throw new TypeError("asked to fail");
  return { msg: `Hello ${event.name || "World"}`, requestId: context.awsRequestId, pid: process.pid };
};
"""

BOOTSTRAP = """#!/bin/sh
cd "$LAMBDA_TASK_ROOT"
exec node node_modules/aws-lambda-ric/bin/index.mjs "$_HANDLER"
"""


def test_aws_lambda_ric_runs_unmodified(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    prefix = ensure_npm("aws-lambda-ric-3", RIC)
    tree = tmp_path / "fn"
    (tree / "index.js").parent.mkdir()
    (tree / "index.js").write_text(HANDLER)
    write_executable(tree / "bootstrap", BOOTSTRAP)
    archive = zip_tree(tmp_path / "fn.zip", tree, prefix)  # prefix holds node_modules/
    wsk("action", "create", "node-ric", str(archive), "--kind", "provided", "--main", "index.hello")

    result = json.loads(wsk("action", "invoke", "node-ric", "--result", "-p", "name", "Rob").stdout)
    assert result["msg"] == "Hello Rob"
    record = api.get(f"/namespaces/_/activations/{result['requestId']}").json()
    assert any(f"hello from node-ric {result['requestId']}" in line for line in record["logs"])
    again = json.loads(wsk("action", "invoke", "node-ric", "--result").stdout)
    assert again["pid"] == result["pid"]

    failed = api.post(
        "/namespaces/_/actions/node-ric", params={"blocking": "true"}, json={"fail": True}
    ).json()
    assert failed["response"]["status"] == "application error"
    assert failed["response"]["result"]["error"]["errorMessage"] == "asked to fail"
    assert failed["response"]["result"]["error"]["errorType"] == "TypeError"
