"""A Lambda `serverless.yml` from the talk (Project 365: a function with a layer, its settings
and a two-hourly schedule) as it maps onto pywhisk through the Serverless Framework v3 and
serverless-openwhisk 0.18, unmodified: the layer named in the function's annotations, the
settings as parameters, the schedule as an alarm trigger and its rule; then removed."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from pywhisk.common.entities import Identity
from tests.support.lambda_zip import write_executable, zip_tree
from tests.support.npm import ensure_npm
from tests.support.server import StandaloneServer
from tests.support.serverless import sls, sls_env

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
