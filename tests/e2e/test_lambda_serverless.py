"""The talk's Lambda `serverless.yml`s on pywhisk through the Serverless Framework v3 and
serverless-openwhisk 0.18: rewritten for serverless-openwhisk alone (the layer named in the
function's annotations, the settings as parameters, a five-field cron), and as written for
Lambda (`runtime: provided`, `layers:` with {Ref}, `environment:`, `memorySize:`,
`schedule: cron(0 */2 * * ? *)`) with examples/lambda-serverless's plugin beside it; each
deployed, run and removed."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from pywhisk.common.entities import Identity
from tests.support.examples import EXAMPLES
from tests.support.lambda_zip import write_executable, zip_tree
from tests.support.npm import ensure_npm
from tests.support.server import StandaloneServer
from tests.support.serverless import sls, sls_env

Wsk = Callable[..., subprocess.CompletedProcess[str]]

SERVICE_YML = """
service: project365
frameworkVersion: '3'
provider:
  name: openwhisk
  runtime: python:3.11
functions:
  update:
    handler: handler.main
    annotations:
      layers: [site-tools]
    parameters:
      FLICKR_USER_ID: rob
    events:
      - schedule:
          rate: cron(0 */2 * * *)
plugins:
  - serverless-openwhisk
"""

HANDLER = """
def main(args):
    with open("/opt/template.html") as template:  # the layer, where Lambda puts it
        return {"page": template.read().strip(), "user": args.get("FLICKR_USER_ID")}
"""


def test_project365_serverless_yml(
    server: StandaloneServer, namespace: Identity, api: httpx.Client, tmp_path: Path
) -> None:
    """serverless-openwhisk alone creates the schedule's trigger and rule but never binds the
    alarm feed to it (its issue #195); the plugin's test below binds it."""
    prefix = ensure_npm("serverless-openwhisk-0.18.4", "serverless-openwhisk@0.18.4")
    layer = tmp_path / "layer"
    write_executable(layer / "template.html", "<h1>photo of the day</h1>\n")
    code = base64.b64encode(zip_tree(tmp_path / "layer.zip", layer).read_bytes()).decode()
    assert api.put("/namespaces/_/layers/site-tools", json={"code": code}).status_code == 200

    service = tmp_path / "service"
    service.mkdir()
    (service / "node_modules").symlink_to(prefix / "node_modules")
    (service / "handler.py").write_text(HANDLER)
    (service / "serverless.yml").write_text(SERVICE_YML)
    env = sls_env(server, namespace, tmp_path)
    sls(service, env, "deploy")

    name = "project365-dev-update"
    action = api.get(f"/namespaces/_/actions/{name}").json()
    assert {"key": "layers", "value": ["site-tools"]} in action["annotations"]
    ran = api.post(f"/namespaces/_/actions/{name}", params={"blocking": "true"}, json={})
    assert ran.json()["response"]["result"] == {
        "page": "<h1>photo of the day</h1>",
        "user": "rob",
    }
    triggers = api.get("/namespaces/_/triggers").json()
    assert [t["name"] for t in triggers] == ["project365_update_schedule_trigger"]
    trigger = api.get("/namespaces/_/triggers/project365_update_schedule_trigger").json()
    feed = {a["key"]: a["value"] for a in trigger["annotations"]}["feed"]
    assert feed.endswith("/alarms/alarm")
    rules = api.get("/namespaces/_/rules").json()
    assert len(rules) == 1

    sls(service, env, "remove")
    assert api.get(f"/namespaces/_/actions/{name}").status_code == 404
    assert api.get("/namespaces/_/triggers").json() == []


def test_the_talks_lambda_serverless_yml_with_the_plugin(
    server: StandaloneServer, namespace: Identity, api: httpx.Client, wsk: Wsk, tmp_path: Path
) -> None:
    """examples/lambda-serverless as its README deploys it: the PHP layer written from its
    path, hello (the talk's handler) and update (Project 365's settings from `environment:`)
    as provided actions using it, the AWS schedule as an alarm and a rule; then removed."""
    prefix = ensure_npm("serverless-openwhisk-0.18.4", "serverless-openwhisk@0.18.4")
    for name in ("lambda-php", "lambda-serverless"):  # the yml names ../lambda-php/layer
        shutil.copytree(EXAMPLES / name, tmp_path / "examples" / name)
    service = tmp_path / "examples" / "lambda-serverless"
    (service / "node_modules").symlink_to(prefix / "node_modules")
    env = {**sls_env(server, namespace, tmp_path), "FLICKR_USER_ID": "rob"}
    sls(service, env, "deploy")

    layer = api.get("/namespaces/_/layers/php", params={"code": "false"})
    assert layer.status_code == 200, layer.text
    hello = api.get("/namespaces/_/actions/hello-lambdaphp-dev-hello").json()
    assert hello["exec"]["kind"] == "provided" and hello["exec"]["main"] == "handler.hello"
    assert hello["limits"]["memory"] == 128  # memorySize
    assert {"key": "layers", "value": ["php"]} in hello["annotations"]
    invoked = sls(service, env, "invoke", "-f", "hello", "--data", '{"name": "Rob"}')
    assert '"msg": "Hello Rob"' in invoked

    update = api.get("/namespaces/_/actions/hello-lambdaphp-dev-update").json()
    assert {"key": "FLICKR_USER_ID", "value": "rob", "init": True} in update["parameters"]
    ran = api.post(
        "/namespaces/_/actions/hello-lambdaphp-dev-update",
        params={"blocking": "true", "result": "true"},
        json={"year": 2026},
    )
    assert ran.json() == {"user": "rob", "keySet": True, "year": 2026}

    alarm = json.loads(wsk("trigger", "get", "project365-build").stdout)["response"]["result"]
    assert alarm["config"]["cron"] == "cron(0 */2 * * ? *)"
    assert alarm["config"]["payload"] == {}
    assert alarm["status"]["active"] is True
    rules = api.get("/namespaces/_/rules").json()
    assert [r["name"] for r in rules] == ["hello-lambdaphp_update_schedule_rule"]
    rule = api.get("/namespaces/_/rules/hello-lambdaphp_update_schedule_rule").json()
    assert rule["trigger"]["name"] == "project365-build"
    assert rule["action"]["name"] == "hello-lambdaphp-dev-update"

    sls(service, env, "remove")
    # The alarm ended (the feed's DELETE, the last activation) before its trigger went.
    last = api.get("/namespaces/_/activations", params={"docs": "true", "limit": 1}).json()[0]
    assert {"key": "path", "value": "whisk.system/alarms/alarm"} in last["annotations"]
    assert last["response"]["result"] == {"status": "success"}
    for gone in ("actions/hello-lambdaphp-dev-hello", "actions/hello-lambdaphp-dev-update"):
        assert api.get(f"/namespaces/_/{gone}").status_code == 404
    assert api.get("/namespaces/_/layers/php").status_code == 404
    assert api.get("/namespaces/_/triggers").json() == []
    assert api.get("/namespaces/_/rules").json() == []
