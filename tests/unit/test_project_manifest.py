"""wskdeploy manifests read into a plan: every feature, substitution, refusals with lines."""

from __future__ import annotations

import base64
import dataclasses
import io
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from pywhisk.cli.project.manifest import Manifest, ManifestError, Target, parse
from pywhisk.cli.project.plan import as_after_package_update, same, same_api
from pywhisk.controller.api.apigw import model

RUNTIMES = {
    "python": [{"kind": "python:3.11", "default": True}],
    "php": [{"kind": "php:8.2", "default": True}],
    "nodejs": [{"kind": "nodejs:20", "default": True}],
}
TARGET = Target("guest", "http://127.0.0.1:3233/api", "uuid:key")


def read(
    tmp_path: Path,
    text: str,
    env: dict[str, str] | None = None,
    deployment: str | None = None,
) -> Manifest:
    path = tmp_path / "manifest.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    (tmp_path / "hello.py").write_text("def main(args):\n    return args\n")
    (tmp_path / "hello.php").write_text("<?php function main(array $a): array { return $a; }\n")
    (tmp_path / "lib").mkdir(exist_ok=True)
    (tmp_path / "lib" / "__main__.py").write_text("def main(args):\n    return {}\n")
    (tmp_path / "lib" / "util.py").write_text("X = 1\n")
    dep = None
    if deployment is not None:
        dep = tmp_path / "deployment.yaml"
        dep.write_text(textwrap.dedent(deployment).lstrip("\n"))
    return parse(path, TARGET, RUNTIMES, env=env or {}, deployment=dep)


def refusal(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ManifestError) as caught:
        read(tmp_path, text, env)
    return str(caught.value)


def entity(manifest: Manifest, kind: str, name: str) -> Any:
    return next(e for e in manifest.entities if e.kind == kind and e.name == name)


def kv(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {i["key"]: i["value"] for i in items}


FULL = """
project:
  name: shop
  packages:
    shop:
      public: true
      annotations: {owner: team-a}
      inputs:
        dsn: ${DSN}
        port: {type: integer, value: $PORT, description: the port}
        ratio: {type: float, default: 1}
        debug: {type: boolean}
        label: {type: string, value: 42}
        cfg: {a: 1, b: [1, 2]}
      actions:
        list:
          function: hello.py
          runtime: python
          main: handler
          web: raw
          inputs: {page: 1}
          limits: {timeout: 5000, memorySize: 128, logSize: 5}
          annotations: {require-whisk-auth: "s3cret"}
        show:
          function: hello.php
          web-export: true
        lib:
          function: lib
          runtime: python@3.11
        inline:
          code: "function main(p) { return p }"
          runtime: nodejs:default
      sequences:
        both:
          actions: list, show, /whisk.system/utils/echo
          web: true
      triggers:
        every-minute:
          feed: /whisk.system/alarms/alarm
          inputs: {cron: "* * * * *"}
        plain:
          inputs: {color: red}
      rules:
        on-plain:
          trigger: plain
          action: list
      apis:
        items-api:
          items:
            "":
              list: {method: get, response: json}
            "{id}":
              show: {method: GET, response: json}
            "{id}/x":
              both: DELETE
"""


def test_every_feature(tmp_path: Path) -> None:
    plan = read(tmp_path, FULL, env={"DSN": "pgsql:host=h", "PORT": "5432"})
    assert plan.project == "shop"
    assert [(e.kind, e.name) for e in plan.entities] == [
        ("package", "shop"),
        ("action", "shop/list"),
        ("action", "shop/show"),
        ("action", "shop/lib"),
        ("action", "shop/inline"),
        ("sequence", "shop/both"),
        ("trigger", "every-minute"),
        ("trigger", "plain"),
        ("rule", "on-plain"),
        ("api", "items-api /items/ GET"),
        ("api", "items-api /items/{id} GET"),
        ("api", "items-api /items/{id}/x DELETE"),
    ]
    package = entity(plan, "package", "shop").body
    assert package["publish"] is True
    assert kv(package["annotations"]) == {"owner": "team-a"}
    assert kv(package["parameters"]) == {
        "dsn": "pgsql:host=h",
        "port": 5432,
        "ratio": 1.0,
        "debug": False,
        "label": "42",
        "cfg": {"a": 1, "b": [1, 2]},
    }

    listing = entity(plan, "action", "shop/list")
    assert listing.body["namespace"] == "guest/shop"
    assert listing.body["exec"] == {
        "kind": "python:3.11",
        "code": "def main(args):\n    return args\n",
        "binary": False,
        "main": "handler",
    }
    assert kv(listing.body["annotations"]) == {
        "require-whisk-auth": "s3cret",
        "web-export": True,
        "raw-http": True,
        "final": True,
    }
    assert listing.body["limits"] == {"timeout": 5000, "memory": 128, "logs": 5}
    assert kv(listing.body["parameters"]) == {"page": 1}
    assert kv(listing.inherited)["dsn"] == "pgsql:host=h"

    show = entity(plan, "action", "shop/show").body
    assert show["exec"]["kind"] == "php:8.2"  # from the extension
    assert kv(show["annotations"]) == {"web-export": True, "raw-http": False, "final": True}

    lib = entity(plan, "action", "shop/lib").body["exec"]
    assert lib["binary"] is True and lib["kind"] == "python:3.11"
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(lib["code"]))).namelist()
    assert names == ["__main__.py", "util.py"]
    inline = entity(plan, "action", "shop/inline").body["exec"]
    assert inline == {"code": "function main(p) { return p }", "binary": False, "kind": "nodejs:20"}

    both = entity(plan, "sequence", "shop/both").body
    assert both["exec"] == {
        "kind": "sequence",
        "components": ["/guest/shop/list", "/guest/shop/show", "/whisk.system/utils/echo"],
    }
    assert kv(both["annotations"])["web-export"] is True

    feed = entity(plan, "trigger", "every-minute")
    assert feed.feed == "/whisk.system/alarms/alarm"
    assert feed.feed_params == {"cron": "* * * * *"}
    assert feed.body["parameters"] == []
    assert kv(feed.body["annotations"])["feed"] == "/whisk.system/alarms/alarm"
    assert kv(entity(plan, "trigger", "plain").body["parameters"]) == {"color": "red"}
    assert entity(plan, "rule", "on-plain").body == {
        "name": "on-plain",
        "trigger": "/guest/plain",
        "action": "/guest/shop/list",
    }


def test_apis_as_the_gateway_takes_them(tmp_path: Path) -> None:
    plan = read(tmp_path, FULL, env={"DSN": "d", "PORT": "1"})
    one = entity(plan, "api", "items-api /items/{id} GET")
    assert one.query == [("responsetype", "http")]  # path parameters need .http
    assert one.body["apidoc"] == {
        "namespace": "guest",
        "gatewayBasePath": "/items",
        "gatewayPath": "/{id}",
        "gatewayMethod": "GET",
        "id": "API:guest:/{id}",
        "apiName": "items-api",
        "action": {
            "name": "shop/show",
            "namespace": "guest",
            "backendMethod": "GET",
            "backendUrl": "http://127.0.0.1:3233/api/v1/web/guest/shop/show.http",
            "authkey": "uuid:key",
        },
        "pathParameters": [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "type": "string",
                "description": "Default description for 'id'",
            }
        ],
    }
    listing = entity(plan, "api", "items-api /items/ GET")
    assert listing.query == [("responsetype", "json")]
    assert listing.body["apidoc"]["action"]["secureKey"] == "s3cret"
    assert any("response is http, not json" in w for w in plan.warnings)


def test_api_action_is_made_a_web_action(tmp_path: Path) -> None:
    plan = read(
        tmp_path,
        """
        packages:
          p:
            actions:
              a: {function: hello.py}
            apis:
              api: {base: {path: {a: GET}}}
        """,
    )
    assert kv(entity(plan, "action", "p/a").body["annotations"])["web-export"] is True
    assert plan.warnings == ["manifest.yaml:6: action 'a' is made a web action for api 'api'"]


def test_default_package_and_older_single_package_form(tmp_path: Path) -> None:
    plan = read(
        tmp_path,
        """
        packages:
          default:
            actions:
              hi: {function: hello.py}
            sequences:
              s: {actions: [hi]}
        """,
    )
    assert [(e.kind, e.name) for e in plan.entities] == [("action", "hi"), ("sequence", "s")]
    assert entity(plan, "action", "hi").body["namespace"] == "guest"
    assert entity(plan, "sequence", "s").body["exec"]["components"] == ["/guest/hi"]
    single = read(tmp_path, "package:\n  name: p\n  actions:\n    a: {function: hello.py}\n")
    assert [e.name for e in single.entities] == ["p", "p/a"]


def test_substitution(tmp_path: Path) -> None:
    plan = read(
        tmp_path,
        """
        packages:
          p:
            inputs:
              whole: $NAME
              inside: "user=${NAME};pw=${PW}"
              escaped: "$${NAME}"
              literal: "costs $5"
              flag: {type: boolean, value: $FLAG}
            actions:
              a: {function: $FILE}
        """,
        env={"NAME": "rob", "PW": "x y", "FLAG": "true", "FILE": "hello.py"},
    )
    assert kv(entity(plan, "package", "p").body["parameters"]) == {
        "whole": "rob",
        "inside": "user=rob;pw=x y",
        "escaped": "${NAME}",
        "literal": "costs $5",
        "flag": True,
    }
    assert entity(plan, "action", "p/a").body["exec"]["kind"] == "python:3.11"


def test_deployment_file_inputs_win(tmp_path: Path) -> None:
    plan = read(
        tmp_path,
        """
        packages:
          p:
            inputs: {dsn: manifest, keep: 1}
            actions:
              a: {function: hello.py, inputs: {x: 1}}
        """,
        deployment="""
        project:
          packages:
            p:
              inputs: {dsn: production}
              actions:
                a: {inputs: {x: 2}}
        """,
    )
    assert kv(entity(plan, "package", "p").body["parameters"]) == {"dsn": "production", "keep": 1}
    assert kv(entity(plan, "action", "p/a").body["parameters"]) == {"x": 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "packages:\n  p:\n    actions:\n      x:\n        function: hello.py\n"
            "        runtime: cobol\n",
            "manifest.yaml:6: action 'x': runtime 'cobol' is not supported "
            "(supported: nodejs:20, php:8.2, python:3.11)",
        ),
        (
            "packages:\n  p:\n    inputs:\n      dsn: ${PGDSN}\n",
            "manifest.yaml:4: package 'p': environment variable 'PGDSN' is not set",
        ),
        (
            "packages:\n  p:\n    actions:\n      x:\n        function: nowhere.py\n",
            "manifest.yaml:5: action 'x': function '",
        ),
        (
            "packages:\n  p:\n    actions:\n      x:\n        function: hello.py\n"
            "        limts: {timeout: 1}\n",
            "manifest.yaml:6: action 'x': unknown key 'limts'",
        ),
        (
            "packages:\n  p:\n    actions:\n      x:\n        function: hello.py\n"
            "        limits:\n          timeout: soon\n",
            "manifest.yaml:7: action 'x': limit timeout: 'soon' is not a positive integer",
        ),
        (
            "packages:\n  p:\n    inputs:\n      n: {type: integer, value: ten}\n",
            "manifest.yaml:4: package 'p': input 'n': 'ten' is not an integer",
        ),
        (
            "packages:\n  p:\n    inputs:\n      n: {type: date, value: x}\n",
            "manifest.yaml:4: package 'p': input 'n': type 'date' is not supported",
        ),
        (
            "packages:\n  p:\n    actions:\n      x: {function: lib}\n",
            "manifest.yaml:4: action 'x': function 'lib' is a folder or zip; give its runtime",
        ),
        (
            "packages:\n  p:\n    actions:\n      x: {function: hello.py, web: maybe}\n",
            "manifest.yaml:4: action 'x': web: 'maybe' is not one of true, yes, raw, false, no",
        ),
        (
            "packages:\n  p:\n    sequences:\n      s:\n        actions: ''\n",
            "manifest.yaml:5: sequence 's': actions: needs one or more actions",
        ),
        (
            "packages:\n  p:\n    rules:\n      r:\n        trigger: t\n",
            "manifest.yaml:4: rule 'r': action: needs a name",
        ),
        (
            "packages:\n  p:\n    actions:\n      'bad/name': {function: hello.py}\n",
            "manifest.yaml:4: action 'bad/name': not a valid OpenWhisk entity name",
        ),
        (
            "packages:\n  p:\n    actions:\n      a: {function: hello.py}\n    apis:\n"
            "      api: {base: {path: {missing: GET}}}\n",
            "manifest.yaml:6: package 'p': api 'api': action 'missing' is not an action",
        ),
        (
            "packages:\n  p:\n    actions:\n      a: {function: hello.py}\n    apis:\n"
            "      api: {base: {path: {a: {method: FETCH}}}}\n",
            "manifest.yaml:6: package 'p': api 'api': method 'FETCH' is not one of GET",
        ),
        (
            "packages:\n  p:\n    actions:\n      a: {function: hello.py}\n    apis:\n"
            "      api:\n        a/b: {path: {a: GET}}\n",
            "manifest.yaml:7: package 'p': api 'api': base path 'a/b' must be one path segment",
        ),
        (
            "packages:\n  p:\n    actions:\n      a: {function: hello.py}\n"
            "      a: {function: hello.php}\n",
            "manifest.yaml:5: 'a' is given twice",
        ),
        (
            "packages:\n  p:\n    triggers:\n      t: {}\n  q:\n    triggers:\n      t: {}\n",
            "manifest.yaml:7: trigger 't': already defined as a trigger on line 4",
        ),
        (
            "packages:\n  p:\n    actions:\n      a: {function: hello.py}\n"
            "    sequences:\n      a: {actions: x}\n",
            "manifest.yaml:6: sequence 'p/a': already defined as an action on line 4",
        ),
        ("packages:\n  p: [1\n", "manifest.yaml:3: not valid YAML"),
        ("project:\n  name: x\n", "manifest.yaml:1: the manifest has no packages"),
        ("packges:\n  p: {}\n", "manifest.yaml:1: unknown key 'packges'"),
        ("project:\n  inputs: {a: 1}\n", "manifest.yaml:2: project: unknown key 'inputs'"),
    ],
)
def test_refusals_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    assert refusal(tmp_path, text).startswith(message)


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_bytes(b"packages:\n  p: \xff\xfe\n")
    with pytest.raises(ManifestError, match=r"^manifest.yaml: is not UTF-8 text$"):
        parse(path, TARGET, RUNTIMES, env={})


def test_folder_zip_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    text = "packages:\n  p:\n    actions:\n      a: {function: lib, runtime: python}\n"
    first = entity(read(tmp_path, text), "action", "p/a").body["exec"]["code"]
    (tmp_path / "lib" / "util.py").touch()  # a newer file time, same contents
    assert entity(read(tmp_path, text), "action", "p/a").body["exec"]["code"] == first
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "__main__.py").write_text("def main(args):\n    return {'v': 2}\n")
    changed = text.replace("function: lib", "function: other")
    assert entity(read(tmp_path, changed), "action", "p/a").body["exec"]["code"] != first


def test_comparison_with_the_server(tmp_path: Path) -> None:
    plan = read(tmp_path, FULL, env={"DSN": "d", "PORT": "1"})
    listing = entity(plan, "action", "shop/list")
    server: dict[str, Any] = {
        "exec": {**listing.body["exec"]},
        "parameters": [*listing.inherited, *listing.body["parameters"]],
        "annotations": [*listing.body["annotations"], {"key": "exec", "value": "python:3.11"}],
        "limits": {"timeout": 5000, "memory": 128, "logs": 5, "concurrency": 1},
    }
    assert same(listing, server)
    assert not same(listing, {**server, "limits": {**server["limits"], "timeout": 60000}})
    assert not same(listing, {**server, "exec": {**server["exec"], "code": "x"}})
    assert not same(listing, {**server, "annotations": listing.body["annotations"][1:]})
    extra = [*server["parameters"], {"key": "left", "value": "over"}]
    assert not same(listing, {**server, "parameters": extra})
    rule = entity(plan, "rule", "on-plain")
    stored = {
        "trigger": {"path": "guest", "name": "plain"},
        "action": {"path": "guest/shop", "name": "list"},
        "status": "active",
    }
    assert same(rule, stored)
    assert not same(rule, {**stored, "status": "inactive"})
    api = entity(plan, "api", "items-api /items/{id} GET")
    swagger = {
        "info": {"title": "items-api"},
        "paths": {
            "/{id}": {
                "get": {
                    "x-openwhisk": {
                        "namespace": "guest",
                        "package": "shop",
                        "action": "show",
                        "url": "http://h/api/v1/web/guest/shop/show.http",
                    }
                }
            }
        },
    }
    assert same_api(api, swagger)
    assert not same_api(api, {**swagger, "info": {"title": "renamed"}})
    assert not same_api(api, None)


def test_a_route_is_compared_on_its_secret_too(tmp_path: Path) -> None:
    """The route sends its action's `require-whisk-auth` secret: one whose secret changed
    (or went) is rewritten, or the action would refuse its own route. The swagger is the
    one the server keeps, built by the server's own model."""
    plan = read(tmp_path, FULL, env={"DSN": "d", "PORT": "1"})
    secured = entity(plan, "api", "items-api /items/ GET")
    doc = secured.body["apidoc"]

    def kept(apidoc: dict[str, Any]) -> dict[str, Any]:
        return model.add_route(model.base_swagger("/items", "items-api"), apidoc, "json", "h")

    assert same_api(secured, kept(doc))
    changed = {**doc, "action": {**doc["action"], "secureKey": "other"}}
    assert not same_api(secured, kept(changed))
    without = {**doc, "action": {k: v for k, v in doc["action"].items() if k != "secureKey"}}
    assert not same_api(secured, kept(without))
    numeric = {**doc, "action": {**doc["action"], "secureKey": 1234}}
    assert same_api(entity_with(secured, numeric), kept(numeric))


def entity_with(api: Any, apidoc: dict[str, Any]) -> Any:
    return dataclasses.replace(api, body={**api.body, "apidoc": apidoc})


def test_an_action_seen_through_its_package_update() -> None:
    have = {"parameters": [{"key": "dsn", "value": "old"}, {"key": "own", "value": 1}]}
    after = as_after_package_update(have, {"dsn": "old", "gone": 2}, {"dsn": "new"})
    assert after["parameters"] == [{"key": "dsn", "value": "new"}, {"key": "own", "value": 1}]
    overriding = {"parameters": [{"key": "dsn", "value": "mine"}]}
    after = as_after_package_update(overriding, {"dsn": "old"}, {"dsn": "new"})
    assert after["parameters"] == [{"key": "dsn", "value": "mine"}]


def test_docker_actions(tmp_path: Path) -> None:
    plan = read(
        tmp_path,
        """
        packages:
          p:
            actions:
              image: {docker: "example/skeleton:1"}
              with-code: {docker: example/python, function: hello.py}
        """,
    )
    assert entity(plan, "action", "p/image").body["exec"] == {
        "kind": "blackbox",
        "image": "example/skeleton:1",
    }
    with_code = entity(plan, "action", "p/with-code").body["exec"]
    assert with_code["kind"] == "blackbox" and with_code["code"].startswith("def main")
