"""OpenWhisk's own clients of the API Gateway, unmodified, against a real server: the
`openwhisk` npm client's `routes`, and the Serverless Framework v3 with serverless-openwhisk
in a per-route version (0.16: one createApi per `http:` event) and a swagger one (0.18: one
createApi with the whole API). Each deploys, lists, is called over real HTTP and removes.

Installed from the npm registry into the pywhisk cache on first use (tests/support/npm.py);
`sls` runs with its telemetry and notifications off and a private HOME, so it contacts
nothing but the server under test.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.npm import ensure_npm
from tests.support.server import StandaloneServer
from tests.support.serverless import sls, sls_env

OPENWHISK = "openwhisk@3.21.9"
PLUGINS = ("serverless-openwhisk@0.16.2", "serverless-openwhisk@0.18.4")


ROUTES_JS = """
const openwhisk = require('openwhisk');
const ow = openwhisk({apihost: process.env.APIHOST, api_key: process.env.AUTH});
const [command, options] = [process.argv[2], JSON.parse(process.argv[3])];
ow.routes[command](options)
  .then(answer => console.log(JSON.stringify(answer)))
  .catch(err => { console.error(err.message); process.exit(1); });
"""

HANDLER_JS = """
exports.hello = params => ({
  statusCode: 200,
  headers: {'Content-Type': 'application/json'},
  body: {greeting: 'Hello ' + (params.name || 'World'), method: params.__ow_method}
});
"""


def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request with room for a cold start on a loaded machine (httpx waits 5 s)."""
    return httpx.request(method, url, timeout=90, **kwargs)


def test_npm_client_routes(server: StandaloneServer, namespace: Identity, tmp_path: Path) -> None:
    prefix = ensure_npm("openwhisk-3.21.9", OPENWHISK)
    (tmp_path / "routes.js").write_text(ROUTES_JS)
    (tmp_path / "node_modules").symlink_to(prefix / "node_modules")
    env = sls_env(server, namespace, tmp_path)

    def routes(command: str, **options: Any) -> Any:
        done = subprocess.run(
            ["node", "routes.js", command, json.dumps(options)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    uuid, _, key = namespace.auth.partition(":")
    put = call(
        "PUT",
        f"{server.url}/api/v1/namespaces/_/actions/greet",
        auth=(uuid, key),
        json={
            "exec": {
                "kind": "nodejs:20",
                "code": HANDLER_JS.replace("exports.hello", "exports.main"),
            },
            "annotations": [{"key": "web-export", "value": True}],
        },
    )
    assert put.status_code == 200, put.text
    created = routes(
        "create",
        basepath="/npm",
        relpath="/hello/{name}",
        operation="GET",
        action="greet",
        responsetype="http",
    )
    url = created["gwApiUrl"] + "/hello/Ann"
    answer = call("GET", url)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"greeting": "Hello Ann", "method": "get"}
    listed = routes("list", basepath="/npm")["apis"]
    assert list(listed[0]["value"]["apidoc"]["paths"]) == ["/hello/{name}"]
    routes("delete", basepath="/npm", relpath="/hello/{name}", operation="GET")
    assert call("GET", url).status_code == 404
    assert routes("list")["apis"] == []


SERVICE_YML = """
service: {service}
frameworkVersion: '3'
provider:
  name: openwhisk
  runtime: nodejs:20
functions:
  hello:
    handler: handler.hello
    events:
      - http:
          method: GET
          path: /greet/{{name}}
          resp: http
      - http:
          method: POST
          path: /greet
          resp: http
plugins:
  - serverless-openwhisk
"""


@pytest.mark.parametrize("plugin", PLUGINS)
def test_serverless_deploy_info_call_remove(
    server: StandaloneServer, namespace: Identity, tmp_path: Path, plugin: str
) -> None:
    version = plugin.partition("@")[2]
    prefix = ensure_npm(f"serverless-openwhisk-{version}", plugin)
    service = tmp_path / "service"
    service.mkdir()
    (service / "node_modules").symlink_to(prefix / "node_modules")
    (service / "handler.js").write_text(HANDLER_JS)
    (service / "serverless.yml").write_text(SERVICE_YML.format(service="shop"))
    env = sls_env(server, namespace, tmp_path)

    sls(service, env, "deploy")
    info = sls(service, env, "info")
    endpoints = dict(
        (verb, url)
        for verb, url in re.findall(r"^(GET|POST) (http\S+) --> shop-dev-hello$", info, re.M)
    )
    assert set(endpoints) == {"GET", "POST"}, info
    assert f"/api/{namespace.uuid}/" in endpoints["GET"]

    got = call("GET", endpoints["GET"].replace("{name}", "Sue"))
    assert got.status_code == 200, got.text
    assert got.json() == {"greeting": "Hello Sue", "method": "get"}
    posted = call("POST", endpoints["POST"], json={"name": "Al"})
    assert posted.status_code == 200 and posted.json() == {"greeting": "Hello Al", "method": "post"}
    # serverless-openwhisk makes the action ask for a secret that only the route sends
    direct = call(
        "GET", f"{server.url}/api/v1/web/{namespace.namespace}/default/shop-dev-hello.http"
    )
    assert direct.status_code == 401

    sls(service, env, "remove")
    assert call("GET", endpoints["GET"].replace("{name}", "Sue")).status_code == 404
    uuid, _, key = namespace.auth.partition(":")
    left = call(
        "GET", f"{server.url}/api/v1/web/whisk.system/apimgmt/getApi.http", auth=(uuid, key)
    ).json()
    assert left == {"apis": []}
