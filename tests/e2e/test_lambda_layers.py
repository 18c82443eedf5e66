"""Layers with the real `wsk`: the talk's PHP runtime as a layer under a function holding only
`hello($eventData)`, layers in order (later ones win), sharing across namespaces, and what
a user sees for a missing one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from pywhisk.common.entities import Identity
from tests.support.examples import EXAMPLES
from tests.support.lambda_zip import opt_probe_layer, write_executable, zip_tree, zlib_version
from tests.support.server import StandaloneServer

Wsk = Callable[..., subprocess.CompletedProcess[str]]


def layer_zip(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    tree = tmp_path / f"tree-{name}"
    for path, text in files.items():
        write_executable(tree / path, text)
    return zip_tree(tmp_path / f"{name}.zip", tree)


def test_talk_php_runtime_as_a_layer(wsk: Wsk, tmp_path: Path) -> None:
    example = EXAMPLES / "lambda-php"
    layer = zip_tree(tmp_path / "php-layer.zip", example / "layer")
    function = zip_tree(tmp_path / "hello.zip", example / "function")
    assert wsk("layer", "create", "php", str(layer)).stdout == "ok: created layer php\n"
    created = wsk(
        "action", "create", "hello", str(function), "--kind", "provided",
        "--main", "handler.hello", "--layer", "php",
    )  # fmt: skip
    assert created.stdout == "ok: created action hello\n"
    rob = wsk("action", "invoke", "hello", "--result", "-p", "name", "Rob").stdout
    assert rob == '{\n    "msg": "Hello Rob"\n}\n'

    got = wsk("layer", "get", "php").stdout
    assert got.startswith("ok: got layer php\n")
    shown = json.loads(got.split("\n", 1)[1])
    assert shown["name"] == "php" and shown["version"] == "0.0.1" and "code" not in shown
    listed = wsk("layer", "list").stdout.splitlines()
    assert listed[0] == "layers" and listed[1].split()[0].endswith("/php")
    annotations = json.loads(wsk("action", "get", "hello", "annotations").stdout.split("\n", 1)[1])
    assert {"key": "layers", "value": ["php"]} in annotations


# As the talk shows them (the loop without a try/catch, the handler, Bref's entry point).
TALK_LOOP = """\
while (true) {
  // get next event
  $eventPayload = $lambdaRuntime->getEventPayload();

  // execute handler
  $data = $handlerFunction($eventPayload);

  // send result
  $lambdaRuntime->sendResult($data);
}
"""
TALK_HANDLER = """\
function hello($eventData)
{
    $data = json_decode($eventData, true, 512,
        JSON_THROW_ON_ERROR);

    $name = $data['name']  ?? 'World';

    return json_encode(['msg' => "Hello $name"]);
}
"""
TALK_BREF = """\
<?php

require __DIR__.'/vendor/autoload.php';

lambda(function (array $event) {
    $name = $event['name']  ?? 'World';
    return ['msg' => "Hello $name"];
});
"""


def test_the_talks_examples_are_verbatim() -> None:
    php = EXAMPLES / "lambda-php"
    assert TALK_LOOP in (php / "layer" / "php" / "bootstrap.php").read_text()
    assert TALK_HANDLER in (php / "function" / "handler.php").read_text()
    assert TALK_HANDLER in (EXAMPLES / "lambda-serverless" / "handler.php").read_text()
    assert (EXAMPLES / "lambda-bref" / "index.php").read_text() == TALK_BREF


def test_talk_loop_reports_a_throwing_handler_and_carries_on(wsk: Wsk, tmp_path: Path) -> None:
    """The talk's loop has no try/catch: a handler that throws ends the bootstrap, after its
    runtime class reported the exception as the event's error (an application error, as
    Lambda's); the next event gets a new bootstrap."""
    layer = zip_tree(tmp_path / "php-layer.zip", EXAMPLES / "lambda-php" / "layer")
    function = layer_zip(
        tmp_path,
        "photo",
        {
            "handler.php": "<?php\nfunction photo($eventData)\n{\n"
            "    $data = json_decode($eventData, true, 512, JSON_THROW_ON_ERROR);\n"
            "    if ($data['fail'] ?? false) {\n"
            "        throw new RuntimeException('no photo today');\n    }\n"
            "    return json_encode(['photo' => 'sunrise']);\n}\n"
        },
    )
    wsk("layer", "create", "php", str(layer))
    wsk(
        "action", "create", "photo", str(function), "--kind", "provided",
        "--main", "handler.photo", "--layer", "php",
    )  # fmt: skip
    failed = wsk("action", "invoke", "photo", "--result", "-p", "fail", "true", check=False)
    assert failed.returncode != 0
    error = json.loads(failed.stderr)["error"]  # wsk prints a failed result there
    assert error["errorMessage"] == "no photo today"
    assert error["errorType"] == "RuntimeException"
    assert error["stackTrace"][0] == "#0 /opt/php/bootstrap.php(17): photo()"
    logs = wsk("activation", "logs", "--last").stdout
    assert "RuntimeException: no photo today" in logs
    time.sleep(1)  # the bootstrap's end reaches the invoker within ms; margin for load
    served = wsk("action", "invoke", "photo", "--result").stdout
    assert json.loads(served) == {"photo": "sunrise"}


def test_layer_at_opt_runs_and_stays_read_only(wsk: Wsk, tmp_path: Path) -> None:
    """As on Lambda: the layer's /opt/bootstrap runs, /opt/bin is on PATH, /opt/lib on the
    library path (a real shared library through a symlink), and the function can change
    nothing under /opt, not even with chmod: the sandbox mounts it read-only."""
    wsk("layer", "create", "probe", str(opt_probe_layer(tmp_path / "probe.zip")))
    function = layer_zip(tmp_path, "fn", {"README": "the layer brings the bootstrap\n"})
    wsk("action", "create", "prober", str(function), "--kind", "provided", "--layer", "probe")
    result = json.loads(wsk("action", "invoke", "prober", "--result").stdout)
    assert result["bootstrap"] == "/opt/bootstrap"
    assert result["tool"] == "tool from /opt/bin"
    assert result["zlib"] == zlib_version()
    writes = result["writes"]
    assert "done" not in writes.values(), writes
    assert writes["new file"] == writes["chmod"] == "Read-only file system"


def test_layers_in_order_later_ones_win(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    bootstrap = (
        "#!/bin/sh\napi=http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\n"
        "while true; do\n"
        "  id=$(curl -sS -D - -o /dev/null $api/invocation/next | "
        "grep -i '^Lambda-Runtime-Aws-Request-Id:' | cut -d: -f2 | tr -d ' \\r')\n"
        '  curl -sS -d "{\\"who\\": \\"$(who-am-i)\\", \\"base\\": \\"$(cat $(dirname $0)/base.txt)\\"}" '
        "$api/invocation/$id/response >/dev/null\n"
        "done\n"
    )
    first = layer_zip(
        tmp_path,
        "first",
        {
            "bootstrap": bootstrap,
            "bin/who-am-i": "#!/bin/sh\necho first\n",
            "base.txt": "from first",
        },
    )
    second = layer_zip(tmp_path, "second", {"bin/who-am-i": "#!/bin/sh\necho second\n"})
    wsk("layer", "create", "first", str(first))
    wsk("layer", "create", "second", str(second))
    empty = layer_zip(tmp_path, "fn", {"README": "the layers do it all\n"})
    wsk(
        "action",
        "create",
        "both",
        str(empty),
        "--kind",
        "provided",
        "--layer",
        "first",
        "--layer",
        "second",
    )
    result = json.loads(wsk("action", "invoke", "both", "--result").stdout)
    assert result == {"who": "second", "base": "from first"}
    wsk("action", "update", "both", "--layer", "second", "--layer", "first")
    assert json.loads(wsk("action", "invoke", "both", "--result").stdout)["who"] == "first"


READ_OPT = """\
import os
def main(args):
    with open("/opt/version.txt") as version:
        return {"version": version.read().strip(), "path_ends": os.environ["PATH"].endswith(":/opt/bin")}
"""


def test_layer_update_share_and_delete_with_wsk(
    wsk: Wsk, server: StandaloneServer, namespace: Identity, tmp_path: Path
) -> None:
    """`wsk layer update` and `--shared`, a Python action reading its layer at /opt, the
    new content after the action is updated, another namespace's use, and `wsk layer delete`."""
    first = layer_zip(tmp_path, "v1", {"version.txt": "1"})
    second = layer_zip(tmp_path, "v2", {"version.txt": "2"})
    assert wsk("layer", "create", "site", str(first)).stdout == "ok: created layer site\n"
    script = tmp_path / "reader.py"
    script.write_text(READ_OPT)
    wsk("action", "create", "reader", str(script), "--layer", "site")
    result = json.loads(wsk("action", "invoke", "reader", "--result").stdout)
    assert result == {"version": "1", "path_ends": True}

    updated = wsk("layer", "update", "site", str(second), "--shared", "yes")
    assert updated.stdout == "ok: updated layer site\n"
    assert json.loads(wsk("layer", "get", "site").stdout.split("\n", 1)[1])["publish"] is True
    wsk("action", "update", "reader", "--layer", "site")  # prepared again: the new content
    assert json.loads(wsk("action", "invoke", "reader", "--result").stdout)["version"] == "2"

    owner = namespace.namespace
    other = server.create_namespace(f"layer-user-{tmp_path.name[-8:]}")
    props = tmp_path / "other.wskprops"
    props.write_text(f"APIHOST={server.url}\nAUTH={other.auth}\n")
    env = {**os.environ, "WSK_CONFIG_FILE": str(props)}
    wsk_other = shutil.which("wsk")
    assert wsk_other is not None
    for args in (
        ["action", "create", "borrower", str(script), "--layer", f"/{owner}/site"],
        ["action", "invoke", "borrower", "--result"],
    ):
        done = subprocess.run([wsk_other, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == "2"

    assert wsk("layer", "delete", "site").stdout == "ok: deleted layer site\n"
    wsk("action", "update", "reader", "--layer", "site")
    gone = wsk("action", "invoke", "reader", "--result", check=False)
    assert json.loads(gone.stderr)["error"] == "The layer 'site' does not exist or is not shared."


def test_missing_and_private_layers(
    wsk: Wsk, api: httpx.Client, server: StandaloneServer, tmp_path: Path
) -> None:
    fn = layer_zip(tmp_path, "fn", {"bootstrap": "#!/bin/sh\nexit 0\n"})
    wsk("action", "create", "lost", str(fn), "--kind", "provided", "--layer", "nowhere")
    answer = api.post("/namespaces/_/actions/lost", params={"blocking": "true"}, json={}).json()
    assert answer["response"]["status"] == "action developer error"
    assert (
        answer["response"]["result"]["error"]
        == "The layer 'nowhere' does not exist or is not shared."
    )

    # Another namespace's layer: usable once shared, never writable.
    other = server.create_namespace(f"layers-owner-{tmp_path.name[-8:]}")
    uuid, _, key = other.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60) as owner:
        code = (
            __import__("base64")
            .b64encode(
                layer_zip(tmp_path, "tool", {"bin/tool": "#!/bin/sh\necho tool\n"}).read_bytes()
            )
            .decode()
        )
        assert owner.put("/namespaces/_/layers/tool", json={"code": code}).status_code == 200
        private = api.get(f"/namespaces/{other.namespace}/layers/tool")
        assert private.status_code == 403
        assert api.get(f"/namespaces/{other.namespace}/layers/none").status_code == 403
        assert (
            api.put(f"/namespaces/{other.namespace}/layers/tool", json={"code": code}).status_code
            == 403
        )
        assert (
            owner.put(
                "/namespaces/_/layers/tool",
                params={"overwrite": "true"},
                json={"code": code, "publish": True},
            ).json()["version"]
            == "0.0.2"
        )
    shared = api.get(f"/namespaces/{other.namespace}/layers/tool", params={"code": "false"}).json()
    assert shared["publish"] is True and "code" not in shared

    bad = api.put("/namespaces/_/layers/junk", json={"code": "bm90IGEgemlw"})
    assert bad.status_code == 400 and bad.json()["error"] == "The layer's code is not a zip file."
    assert (
        api.put("/namespaces/_/layers/junk", json={})
        .json()["error"]
        .startswith("A layer needs 'code'")
    )
    assert wsk("layer", "delete", "junk", check=False).returncode != 0
