"""`wsk project deploy/undeploy` with the real `wsk` against a real standalone server:
a manifest deployed, deployed again unchanged, changed in one place, previewed, refused,
and undeployed without touching what was created outside it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pywhisk.common.entities import Identity
from tests.support.server import StandaloneServer

Wsk = Callable[..., subprocess.CompletedProcess[str]]

MANIFEST = """
project:
  name: shop
  packages:
    shop:
      inputs:
        greeting: ${GREETING}
        limit: {type: integer, value: 10}
      actions:
        hello:
          function: src/hello.py
          runtime: python
          web: true
          limits: {timeout: 5000, memorySize: 128}
        lib:
          function: src/lib
          runtime: python:3
        upper:
          function: src/upper.php
          web-export: true
          inputs: {suffix: $SUFFIX}
      sequences:
        shout:
          actions: hello, upper
      triggers:
        ping:
          inputs: {source: manifest}
        yearly:
          feed: /whisk.system/alarms/alarm
          inputs: {cron: "0 0 1 1 *"}
      rules:
        ping-hello:
          trigger: ping
          action: hello
        yearly-hello:
          trigger: yearly
          action: hello
      apis:
        shop-api:
          shop:
            hi: {hello: {method: GET, response: json}}
      annotations: {owner: team-a}
"""
HELLO = "def main(args):\n    return {'msg': f\"{args['greeting']} {args.get('name', 'World')}\"}\n"
UPPER = "<?php\nfunction main(array $a): array { return ['msg' => strtoupper($a['msg'])]; }\n"
ENTITIES = 10  # the package, 3 actions, a sequence, 2 triggers, 2 rules, an API route


def write_project(root: Path) -> Path:
    (root / "src" / "lib").mkdir(parents=True)
    (root / "src" / "hello.py").write_text(HELLO)
    (root / "src" / "upper.php").write_text(UPPER)
    (root / "src" / "lib" / "__main__.py").write_text("def main(args):\n    return {'zip': 1}\n")
    (root / "manifest.yaml").write_text(textwrap.dedent(MANIFEST).lstrip("\n"))
    return root


def project(
    wskprops: Path, root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    wsk = shutil.which("wsk")
    assert wsk
    environ = {k: v for k, v in os.environ.items() if not k.startswith("__OW_")}
    environ.update(
        {"WSK_CONFIG_FILE": str(wskprops), "GREETING": "Hello", "SUFFIX": "!", **(env or {})}
    )
    return subprocess.run(
        [wsk, "project", *args],
        env=environ,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
    )


def lines(done: subprocess.CompletedProcess[str], word: str) -> list[str]:
    return [line for line in done.stdout.splitlines() if word in line]


def get(api: httpx.Client, collection: str, name: str) -> Any:
    reply = api.get(f"/namespaces/_/{collection}/{name}")
    return reply.json() if reply.status_code == 200 else None


def test_deploy_redeploy_change_undeploy(
    wsk: Wsk, wskprops: Path, api: httpx.Client, server: StandaloneServer, namespace: Identity,
    tmp_path: Path,
) -> None:  # fmt: skip
    root = write_project(tmp_path / "shop")

    preview = project(wskprops, root, "deploy", "--preview")
    assert preview.returncode == 0, preview.stderr
    assert "  * action: shop/hello (create)" in preview.stdout
    assert preview.stdout.rstrip().endswith(
        f"Plan: {ENTITIES} to create. Nothing was changed (--preview)."
    )
    assert get(api, "packages", "shop") is None  # a preview changes nothing

    first = project(wskprops, root, "deploy")
    assert first.returncode == 0, first.stderr
    assert len(lines(first, "has been successfully deployed.")) == ENTITIES
    assert first.stdout.endswith("Success: Deployment completed successfully.\n")

    result = json.loads(wsk("action", "invoke", "shop/shout", "-r", "-p", "name", "Rob").stdout)
    assert result == {"msg": "HELLO ROB"}
    assert json.loads(wsk("action", "invoke", "shop/lib", "-r").stdout) == {"zip": 1}
    web = httpx.get(f"{server.url}/api/v1/web/{namespace.namespace}/shop/hello.json")
    assert web.json() == {"msg": "Hello World"}  # web: true, and the package's input
    hello = get(api, "actions", "shop/hello")
    assert hello["limits"]["timeout"] == 5000 and hello["limits"]["memory"] == 128
    assert get(api, "rules", "ping-hello")["status"] == "active"
    yearly = get(api, "triggers", "yearly")
    assert {"key": "feed", "value": "/whisk.system/alarms/alarm"} in yearly["annotations"]
    assert {"key": "owner", "value": "team-a"} in get(api, "packages", "shop")["annotations"]
    upper = get(api, "actions", "shop/upper")
    assert {"key": "suffix", "value": "!"} in upper["parameters"]  # $SUFFIX, a whole value
    assert {"key": "web-export", "value": True} in upper["annotations"]
    route = wsk("api", "list", "/shop").stdout.splitlines()[-1].split()
    assert route[:3] == [f"/{namespace.namespace}/shop/hello"[:40], "get", "shop-api"], route
    assert httpx.get(route[-1], timeout=90).json() == {"msg": "Hello World"}

    # the same manifest again: nothing is written (no entity gets a new version)
    versions = {n: get(api, "actions", n)["version"] for n in ("shop/hello", "shop/lib")}
    again = project(wskprops, root, "deploy")
    assert again.returncode == 0, again.stderr
    assert len(lines(again, "is unchanged; skipped.")) == ENTITIES
    assert lines(again, "successfully deployed") == []
    assert f"Info: all {ENTITIES} entities are unchanged; nothing was deployed." in again.stdout
    assert {n: get(api, "actions", n)["version"] for n in versions} == versions

    # one file and one environment value changed: only what they reach is written
    (root / "src" / "upper.php").write_text(UPPER.replace("strtoupper", "strtolower"))
    changed = project(wskprops, root, "deploy", env={"GREETING": "Howdy"})
    assert changed.returncode == 0, changed.stderr
    assert lines(changed, "successfully deployed") == [
        "Info: package [shop] has been successfully deployed.",
        "Info: action [shop/upper] has been successfully deployed.",
    ]  # the other actions see the package's new input without being written
    assert "Info: trigger [yearly] is unchanged; skipped." in changed.stdout
    result = json.loads(wsk("action", "invoke", "shop/shout", "-r").stdout)
    assert result == {"msg": "howdy world"}

    # a feed's inputs changed: the trigger is re-created through its feed (feeds take no
    # update), and its rule, left inactive by the trigger's deletion, is active again
    text = (root / "manifest.yaml").read_text()
    (root / "manifest.yaml").write_text(text.replace("0 0 1 1 *", "0 0 2 1 *"))
    refed = project(wskprops, root, "deploy", env={"GREETING": "Howdy"})
    assert refed.returncode == 0, refed.stderr
    assert lines(refed, "successfully deployed") == [
        "Info: trigger [yearly] has been successfully deployed.",
        "Info: rule [yearly-hello] has been successfully deployed.",
    ]
    assert '"cron": "0 0 2 1 *"' in wsk("trigger", "get", "yearly").stdout  # the feed's READ
    assert get(api, "rules", "yearly-hello")["status"] == "active"

    # entities created outside the manifest survive its undeploy, and so does a route
    # added by hand to the manifest's API
    wsk("action", "create", "shop/extra", str(root / "src" / "hello.py"), "--web", "true")
    wsk("trigger", "create", "outside")
    extra = wsk("api", "create", "/shop", "/extra", "get", "shop/extra").stdout.splitlines()[-1]
    undeploy_preview = project(wskprops, root, "undeploy", "--preview", env={"GREETING": "x"})
    assert f"Plan: {ENTITIES} to delete." in undeploy_preview.stdout
    assert get(api, "actions", "shop/hello") is not None
    gone = project(wskprops, root, "undeploy", env={"GREETING": "x"})
    assert gone.returncode == 0, gone.stderr
    assert len(lines(gone, "has been successfully undeployed.")) == ENTITIES - 1
    assert "Warning: package [shop] holds entities the manifest does not name; kept." in gone.stdout
    for collection, name in (
        ("actions", "shop/hello"), ("actions", "shop/shout"), ("triggers", "ping"),
        ("triggers", "yearly"), ("rules", "ping-hello"),
    ):  # fmt: skip
        assert get(api, collection, name) is None, name
    assert get(api, "actions", "shop/extra") is not None
    assert get(api, "triggers", "outside") is not None
    left = wsk("api", "list", "/shop").stdout.splitlines()[2:]
    assert [row.split()[-1] for row in left] == [extra]  # the manifest's /shop/hi is gone
    assert httpx.get(extra, timeout=90).json() == {"msg": "Howdy World"}
    twice = project(wskprops, root, "undeploy", env={"GREETING": "x"})
    assert twice.returncode == 0
    assert "Info: action [shop/hello] is not deployed; skipped." in twice.stdout


def test_refusals_name_the_line_and_deploy_nothing(
    wskprops: Path, api: httpx.Client, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "shop")
    text = (root / "manifest.yaml").read_text()
    (root / "manifest.yaml").write_text(text.replace("runtime: python:3", "runtime: cobol"))
    refused = project(wskprops, root, "deploy")
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "error: manifest.yaml:16: action 'lib': runtime 'cobol' is not supported (supported: "
    )
    assert refused.stdout == ""
    assert get(api, "packages", "shop") is None

    (root / "manifest.yaml").write_text(text.replace("${GREETING}", "${PYWHISK_TEST_UNSET}"))
    unset = project(wskprops, root, "deploy")
    assert (unset.returncode, unset.stderr) == (
        1,
        "error: manifest.yaml:6: package 'shop': "
        "environment variable 'PYWHISK_TEST_UNSET' is not set\n",
    )
    assert get(api, "packages", "shop") is None

    (root / "manifest.yaml").write_text(text)
    elsewhere = project(wskprops, tmp_path, "deploy", "--manifest", str(root / "manifest.yaml"))
    assert elsewhere.returncode == 0, elsewhere.stderr  # relative to the manifest, not the cwd

    missing = project(wskprops, tmp_path, "deploy")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: Manifest file not found at path [")


def test_a_failing_step_says_so_and_exits_nonzero(
    wskprops: Path, api: httpx.Client, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "shop")
    text = (root / "manifest.yaml").read_text()
    # a rule naming an action the manifest does not deploy: the server refuses it
    (root / "manifest.yaml").write_text(text.replace("action: hello", "action: nowhere"))
    failed = project(wskprops, root, "deploy")
    assert failed.returncode != 0
    assert "Error: Deployment did not complete successfully." in failed.stderr
    assert "error: rule [ping-hello]: " in failed.stderr
    assert get(api, "actions", "shop/hello") is not None  # what came before it stays


SECURED = """
project:
  name: vault
  packages:
    vault:
      actions:
        hello:
          function: src/hello.py
          web: true
          inputs: {greeting: Hi}
          annotations: {require-whisk-auth: "${SECRET}"}
      apis:
        vault-api:
          vault:
            hi: {hello: {method: GET, response: json}}
"""


def test_a_routes_secret_follows_its_action(
    wsk: Wsk, wskprops: Path, server: StandaloneServer, namespace: Identity, tmp_path: Path
) -> None:
    """A route sends its action's `require-whisk-auth` secret, which keeps the plain web
    URL shut: when the manifest changes the secret, a redeploy rewrites the route too."""
    root = tmp_path / "vault"
    (root / "src").mkdir(parents=True)
    (root / "src" / "hello.py").write_text(HELLO)
    (root / "manifest.yaml").write_text(textwrap.dedent(SECURED).lstrip("\n"))
    first = project(wskprops, root, "deploy", env={"SECRET": "first"})
    assert first.returncode == 0, first.stderr
    url = wsk("api", "list", "/vault").stdout.splitlines()[-1].split()[-1]
    assert httpx.get(url, timeout=90).json() == {"msg": "Hi World"}
    plain = f"{server.url}/api/v1/web/{namespace.namespace}/vault/hello.json"
    assert httpx.get(plain, timeout=90).status_code == 401

    changed = project(wskprops, root, "deploy", env={"SECRET": "second"})
    assert changed.returncode == 0, changed.stderr
    assert lines(changed, "successfully deployed") == [
        "Info: action [vault/hello] has been successfully deployed.",
        "Info: api [vault-api /vault/hi GET] has been successfully deployed.",
    ]
    assert httpx.get(url, timeout=90).json() == {"msg": "Hi World"}
    assert httpx.get(plain, headers={"X-Require-Whisk-Auth": "second"}, timeout=90).json() == {
        "msg": "Hi World"
    }
    again = project(wskprops, root, "deploy", env={"SECRET": "second"})
    assert len(lines(again, "is unchanged; skipped.")) == 3, again.stdout
