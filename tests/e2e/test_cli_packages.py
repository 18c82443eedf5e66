"""The real `wsk` against a real standalone server: packages, bindings, shared packages
across namespaces and the built-in `/whisk.system/utils`, with wsk's output and exit codes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from pywhisk.common.entities import Identity
from tests.support.server import TEST_LIMITS, StandaloneServer

Wsk = Callable[..., subprocess.CompletedProcess[str]]

# Prints back the parameters it was run with, so a test sees every merge step.
SHOW = "def main(args):\n    return {'params': args}\n"
CONFLICT_EXIT = 153  # 409 - 256, as wsk exits
FORBIDDEN_EXIT = 147  # 403 - 256


def show_file(tmp_path: Path) -> str:
    path = tmp_path / "show.py"
    path.write_text(SHOW)
    return str(path)


def result(done: subprocess.CompletedProcess[str]) -> object:
    return json.loads(done.stdout)


def test_create_update_get_list_delete(wsk: Wsk, namespace: Identity, tmp_path: Path) -> None:
    ns = namespace.namespace
    created = wsk("package", "create", "tools", "-p", "a", "1", "-a", "description", "Kit")
    assert created.stdout == "ok: created package tools\n"
    again = wsk("package", "create", "tools", check=False)
    assert again.returncode == CONFLICT_EXIT
    assert again.stderr.startswith(
        "error: Unable to create package 'tools': resource already exists (code "
    )
    assert wsk("package", "update", "tools", "--shared", "yes").stdout == (
        "ok: updated package tools\n"
    )
    refused = wsk("package", "update", "tools", "--shared", "maybe", check=False)
    assert (refused.returncode, refused.stderr) == (
        1,
        "error: Cannot use value 'maybe' for shared.\nRun 'wsk --help' for usage.\n",
    )
    assert wsk("action", "create", "tools/show", show_file(tmp_path)).stdout == (
        "ok: created action tools/show\n"
    )

    got = wsk("package", "get", "tools")
    header, _, body = got.stdout.partition("\n")
    assert header == "ok: got package tools"
    package = json.loads(body)
    assert list(package)[:6] == [
        "namespace",
        "name",
        "version",
        "publish",
        "annotations",
        "parameters",
    ]
    assert (package["namespace"], package["version"], package["publish"]) == (ns, "0.0.2", True)
    assert package["parameters"] == [{"key": "a", "value": 1}]
    assert package["binding"] == {}
    assert [a["name"] for a in package["actions"]] == ["show"]
    field = wsk("package", "get", "tools", "publish")
    assert field.stdout == "ok: got package tools, displaying field publish\ntrue\n"
    assert wsk("package", "get", "tools", "--summary").stdout == (
        f"package /{ns}/tools: Kit\n"
        "   (parameters: *a)\n"
        f" action /{ns}/tools/show\n"
        "   (parameters: none defined)\n"
    )

    assert wsk("package", "list").stdout == f"packages\n{f'/{ns}/tools':<70} shared\n"
    everything = wsk("list").stdout
    assert f"packages\n{f'/{ns}/tools':<70} shared\nactions\n/{ns}/tools/show " in everything
    assert wsk("action", "list", "tools").stdout.startswith(f"actions\n/{ns}/tools/show ")
    bad = wsk("package", "list", "tools", check=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: An entity name, 'tools', was provided instead of a")

    assert wsk("action", "delete", "tools/show").stdout == "ok: deleted action tools/show\n"
    assert wsk("package", "delete", "tools").stdout == "ok: deleted package tools\n"
    assert wsk("package", "list").stdout == "packages\n"
    missing = wsk("package", "get", "tools", check=False)
    assert missing.returncode == 148
    assert missing.stderr.startswith(
        "error: Unable to get package 'tools': The requested resource does not exist. (code "
    )


def test_parameters_merge_package_binding_action_invocation(wsk: Wsk, tmp_path: Path) -> None:
    levels = ("a", "b", "c", "d")
    wsk("package", "create", "base", *[x for k in levels for x in ("-p", k, "package")])
    wsk(
        "action",
        "create",
        "base/show",
        show_file(tmp_path),
        "-p",
        "c",
        "action",
        "-p",
        "d",
        "action",
    )
    bound = wsk(
        "package",
        "bind",
        "base",
        "mine",
        "-p",
        "b",
        "binding",
        "-p",
        "c",
        "binding",
        "-p",
        "d",
        "binding",
    )
    assert bound.stdout == "ok: created binding mine\n"
    invoked = wsk("action", "invoke", "mine/show", "-r", "-p", "d", "invocation")
    assert result(invoked) == {
        "params": {"a": "package", "b": "binding", "c": "action", "d": "invocation"}
    }
    # straight through the package the binding's parameters play no part
    direct = result(wsk("action", "invoke", "base/show", "-r"))
    assert direct == {"params": {"a": "package", "b": "package", "c": "action", "d": "action"}}

    blocking = wsk("action", "invoke", "mine/show", "--blocking")
    activation = json.loads(blocking.stdout.split("\n", 1)[1])
    annotations = {a["key"]: a["value"] for a in activation["annotations"]}
    ns = activation["namespace"]
    assert (annotations["path"], annotations["binding"]) == (f"{ns}/base/show", f"{ns}/mine")
    # listed under the binding's name, as OW's activation filter lists them
    through_binding = wsk("activation", "list", "mine/show").stdout
    assert activation["activationId"] in through_binding
    assert activation["activationId"] not in wsk("activation", "list", "base/show").stdout

    # a binding's view: the binding itself, the bound package's parameters under its own
    view = json.loads(wsk("package", "get", "mine").stdout.split("\n", 1)[1])
    assert view["binding"] == {"namespace": ns, "name": "base"}
    assert {p["key"]: p["value"] for p in view["parameters"]} == {
        "a": "package",
        "b": "binding",
        "c": "binding",
        "d": "binding",
    }
    assert [a["name"] for a in view["actions"]] == ["show"]


def test_bindings_refuse_what_openwhisk_refuses(wsk: Wsk, tmp_path: Path) -> None:
    wsk("package", "create", "base")
    wsk("action", "create", "base/show", show_file(tmp_path))
    wsk("package", "bind", "base", "mine")
    twice = wsk("package", "bind", "mine", "again", check=False)
    assert twice.returncode == 144  # 400 - 256
    assert twice.stderr.startswith(
        "error: Binding creation failed: Cannot bind to another package binding. (code "
    )
    nowhere = wsk("package", "bind", "nothere", "other", check=False)
    assert "Binding references a package that does not exist." in nowhere.stderr
    inside = wsk("action", "create", "mine/x", show_file(tmp_path), check=False)
    assert inside.returncode == 144
    assert inside.stderr.startswith(
        "error: Unable to create action 'mine/x': Operation not permitted on package binding."
    )
    reserved = wsk("package", "create", "default", check=False)
    assert "Package name 'default' is reserved." in reserved.stderr

    # a package that still holds actions is kept unless forced; a binding always goes
    full = wsk("package", "delete", "base", check=False)
    assert full.returncode == CONFLICT_EXIT
    assert full.stderr.startswith(
        "error: Unable to delete package 'base': Package not empty (contains 1 entity). "
        "Set force param or delete package contents. (code "
    )
    assert wsk("package", "delete", "mine").stdout == "ok: deleted package mine\n"
    assert wsk("package", "delete", "base", "--force").stdout == "ok: deleted package base\n"
    assert wsk("action", "get", "base/show", check=False).returncode == 148


def test_another_namespace_uses_a_public_package_through_a_binding(
    wsk: Wsk, namespace: Identity, server: StandaloneServer, tmp_path: Path
) -> None:
    owner = namespace.namespace
    wsk("package", "create", "pub", "--shared", "yes", "-p", "from", "owner")
    wsk("action", "create", "pub/show", show_file(tmp_path), "-p", "who", "action")
    wsk("package", "create", "priv", "-p", "secret", "s3cret")
    wsk("action", "create", "priv/show", show_file(tmp_path))
    other = server.create_namespace(f"{owner}_other", **TEST_LIMITS)

    def as_other(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return wsk("-u", other.auth, *args, check=check)

    listed = as_other("package", "list", f"/{owner}").stdout
    assert listed == f"packages\n{f'/{owner}/pub':<70} shared\n"
    inside = as_other("action", "list", f"/{owner}/pub").stdout
    assert inside.startswith(f"actions\n/{owner}/pub/show ")
    bound = as_other("package", "bind", f"/{owner}/pub", "mine", "-p", "from", "binding")
    assert bound.stdout == "ok: created binding mine\n"
    assert result(as_other("action", "invoke", "mine/show", "-r", "-p", "x", "1")) == {
        "params": {"from": "binding", "who": "action", "x": 1}
    }
    direct = as_other("action", "invoke", f"/{owner}/pub/show", "-r")
    assert result(direct) == {"params": {"from": "owner", "who": "action"}}
    # the activation is the invoker's own: recorded in the other namespace
    last = json.loads(as_other("activation", "get", "--last").stdout.split("\n", 1)[1])
    path = next(a["value"] for a in last["annotations"] if a["key"] == "path")
    assert (last["namespace"], path) == (other.namespace, f"{owner}/pub/show")

    for args in (
        ("action", "invoke", f"/{owner}/priv/show", "-r"),
        ("package", "get", f"/{owner}/priv"),
        ("package", "bind", f"/{owner}/priv", "sneaky"),
        ("package", "delete", f"/{owner}/pub"),
        ("action", "create", f"/{owner}/pub/mine", show_file(tmp_path)),
    ):
        refused = as_other(*args, check=False)
        assert refused.returncode == FORBIDDEN_EXIT, args
        assert "The supplied authentication is not authorized to access" in refused.stderr


def test_the_system_utils_package(wsk: Wsk) -> None:
    listed = wsk("package", "list", "/whisk.system").stdout
    assert f"{'/whisk.system/utils':<70} shared\n" in listed
    echo = wsk("action", "invoke", "/whisk.system/utils/echo", "-r", "-p", "payload", "hi")
    assert result(echo) == {"payload": "hi"}
    split = wsk(
        "action",
        "invoke",
        "/whisk.system/utils/split",
        "-r",
        "-p",
        "payload",
        "a,b",
        "-p",
        "separator",
        ",",
    )
    assert result(split) == {"lines": ["a", "b"], "payload": "a,b"}
    ns = result(wsk("action", "invoke", "/whisk.system/utils/namespace", "-r"))
    assert isinstance(ns, dict) and ns["namespace"] not in (None, "whisk.system")
    summary = wsk("package", "get", "/whisk.system/utils", "--summary").stdout
    assert summary.startswith(
        "package /whisk.system/utils: Building blocks that format and assemble data\n"
    )
    assert " action /whisk.system/utils/echo: Returns the input\n   (parameters: payload)\n" in (
        summary
    )
    # bound with a default, as `wsk package bind /whisk.system/utils myutils -p ...` is used
    wsk("package", "bind", "/whisk.system/utils", "myutils", "-p", "lines", '["b","a"]')
    assert result(wsk("action", "invoke", "myutils/sort", "-r")) == {
        "lines": ["a", "b"],
        "length": 2,
    }
