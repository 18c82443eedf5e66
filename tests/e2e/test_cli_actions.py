"""The real `wsk` against a real standalone server: creating, invoking, reading and deleting
actions, with openwhisk-cli's output and exit codes (the seed talk's transcript first)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.support.wsk import ACTIVATION_ID, Wsk

HELLO = {
    "hello.php": (
        "<?php\n"
        "function main(array $args) : array\n"
        "{\n"
        '    $name = $args["name"] ?? "World";\n'
        '    return ["msg" => "Hello $name"];\n'
        "}\n"
    ),
    "hello.py": (
        "def main(args):\n"
        '    name = args.get("name", "World")\n'
        '    print("greeting", name)\n'
        '    return {"msg": f"Hello {name}"}\n'
    ),
    "hello.js": (
        'function main(params) {\n  return { msg: "Hello " + (params.name || "World") };\n}\n'
    ),
}
KINDS = {"hello.php": "php:", "hello.py": "python:", "hello.js": "nodejs:"}


def write(tmp_path: Path, name: str, text: str | None = None) -> Path:
    path = tmp_path / name
    path.write_text(HELLO[name] if text is None else text)
    return path


def test_seed_transcript_php_hello(wsk: Wsk, tmp_path: Path) -> None:
    write(tmp_path, "hello.php")
    assert wsk("action", "update", "hello", "hello.php", cwd=tmp_path).stdout == (
        "ok: updated action hello\n"
    )
    assert wsk("action", "invoke", "hello", "--result").stdout == (
        '{\n    "msg": "Hello World"\n}\n'
    )
    assert wsk("action", "invoke", "hello", "--result", "--param", "name", "Rob").stdout == (
        '{\n    "msg": "Hello Rob"\n}\n'
    )


@pytest.mark.parametrize("filename", sorted(HELLO))
def test_hello_in_every_language(wsk: Wsk, tmp_path: Path, filename: str) -> None:
    source = write(tmp_path, filename)
    assert wsk("action", "create", "hello", str(source)).stdout == "ok: created action hello\n"
    assert wsk("action", "invoke", "hello", "-r").stdout == '{\n    "msg": "Hello World"\n}\n'
    named = wsk("action", "invoke", "hello", "-r", "-p", "name", "Rob").stdout
    assert json.loads(named) == {"msg": "Hello Rob"}
    kind = wsk("action", "get", "hello", "exec").stdout
    assert kind.startswith("ok: got action hello, displaying field exec\n")
    assert json.loads(kind.split("\n", 1)[1])["kind"].startswith(KINDS[filename])


def test_zip_action_needs_kind_and_runs_with_it(wsk: Wsk, tmp_path: Path) -> None:
    archive = tmp_path / "action.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(
            "__main__.py",
            "def main(args):\n    return {'zipped': True, 'name': args.get('name')}\n",
        )
    refused = wsk("action", "create", "zipped", str(archive), check=False)
    assert refused.returncode == 2
    assert (
        "error: Invalid argument(s). creating an action from a .zip artifact requires "
        "specifying the action kind explicitly\n" in refused.stderr
    )
    assert wsk("action", "get", "zipped", check=False).returncode == 148

    created = wsk("action", "create", "zipped", str(archive), "--kind", "python:default")
    assert created.stdout == "ok: created action zipped\n"
    result = wsk("action", "invoke", "zipped", "-r", "-p", "name", "Z").stdout
    assert result == '{\n    "name": "Z",\n    "zipped": true\n}\n'


def test_main_names_the_entry_point(wsk: Wsk, tmp_path: Path) -> None:
    source = write(tmp_path, "greet.py", "def greet(args):\n    return {'greeting': 'hi'}\n")
    wsk("action", "create", "greet", str(source), "--main", "greet")
    assert wsk("action", "invoke", "greet", "-r").stdout == '{\n    "greeting": "hi"\n}\n'


def test_get_list_and_delete(wsk: Wsk, tmp_path: Path) -> None:
    source = write(tmp_path, "hello.php")
    wsk("action", "create", "hello", str(source), "-a", "description", "Says hello")

    got = wsk("action", "get", "hello").stdout
    header, body = got.split("\n", 1)
    assert header == "ok: got action hello"
    action = json.loads(body)
    assert list(action)[:4] == ["namespace", "name", "version", "exec"]
    assert action["name"] == "hello"
    assert action["version"] == "0.0.1"
    assert "code" not in action["exec"]
    assert body.startswith('{\n    "namespace": ')

    assert wsk("action", "get", "hello", "name").stdout == (
        'ok: got action hello, displaying field name\n"hello"\n'
    )
    summary = wsk("action", "get", "hello", "--summary").stdout
    assert re.fullmatch(
        r"action /\S+/hello: Says hello\n   \(parameters: none defined\)\n", summary
    )
    url = wsk("action", "get", "hello", "--url").stdout
    assert re.fullmatch(
        r"ok: got action hello\nhttp://127\.0\.0\.1:\d+/api/v1/namespaces/\S+/actions/hello\n", url
    )

    listed = wsk("action", "list").stdout.splitlines()
    assert listed[0] == "actions"
    assert any(re.fullmatch(r"/\S+/hello +private php:\S+", row) for row in listed[1:])

    assert wsk("action", "delete", "hello").stdout == "ok: deleted action hello\n"
    missing = wsk("action", "get", "hello", check=False)
    assert missing.returncode == 148
    assert missing.stderr.startswith(
        "error: Unable to get action 'hello': The requested resource does not exist. (code "
    )
    assert missing.stderr.endswith(")\nRun 'wsk --help' for usage.\n")
    assert wsk("action", "delete", "hello", check=False).returncode == 148


def test_create_twice_conflicts(wsk: Wsk, tmp_path: Path) -> None:
    source = write(tmp_path, "hello.py")
    wsk("action", "create", "hello", str(source))
    again = wsk("action", "create", "hello", str(source), check=False)
    assert again.returncode == 153
    assert "error: Unable to create action 'hello': resource already exists (code " in again.stderr


def test_parameters_limits_and_updates(wsk: Wsk, tmp_path: Path) -> None:
    source = write(tmp_path, "hello.py")
    wsk("action", "create", "hello", str(source), "-p", "name", "Bound", "-t", "3000", "-m", "128")
    assert json.loads(wsk("action", "invoke", "hello", "-r").stdout) == {"msg": "Hello Bound"}
    overridden = wsk("action", "invoke", "hello", "-r", "-p", "name", "Given").stdout
    assert json.loads(overridden) == {"msg": "Hello Given"}

    limits = wsk("action", "get", "hello", "limits").stdout.split("\n", 1)[1]
    assert json.loads(limits)["timeout"] == 3000
    assert json.loads(limits)["memory"] == 128

    params = tmp_path / "params.json"
    params.write_text('{"name": "FromFile"}')
    assert (
        wsk("action", "update", "hello", "-P", str(params)).stdout == "ok: updated action hello\n"
    )
    assert json.loads(wsk("action", "invoke", "hello", "-r").stdout) == {"msg": "Hello FromFile"}
    # an update without -t keeps the limit set before
    limits = wsk("action", "get", "hello", "limits").stdout.split("\n", 1)[1]
    assert json.loads(limits)["timeout"] == 3000


def test_non_blocking_and_blocking_invokes(wsk: Wsk, tmp_path: Path) -> None:
    wsk("action", "create", "hello", str(write(tmp_path, "hello.py")))
    fired = wsk("action", "invoke", "hello").stdout
    assert re.fullmatch(r"ok: invoked /_/hello with id [0-9a-f]{32}\n", fired)

    blocking = wsk("action", "invoke", "hello", "--blocking").stdout
    header, body = blocking.split("\n", 1)
    match = ACTIVATION_ID.search(header)
    assert match and header.startswith("ok: invoked /_/hello with id ")
    activation = json.loads(body)
    assert activation["activationId"] == match.group(1)
    assert activation["response"]["result"] == {"msg": "Hello World"}
    assert activation["response"]["success"] is True
    # a map is printed, so keys are sorted
    assert list(activation) == sorted(activation)


def test_application_error_exits_non_zero_with_the_result_on_stderr(
    wsk: Wsk, tmp_path: Path
) -> None:
    source = write(tmp_path, "fail.py", "def main(args):\n    return {'error': 'boom'}\n")
    wsk("action", "create", "fail", str(source))
    failed = wsk("action", "invoke", "fail", "--result", check=False)
    assert failed.returncode == 246  # 502 - 256, as wsk exits
    assert failed.stdout == ""
    assert failed.stderr == '{\n    "error": "boom"\n}\n'

    blocking = wsk("action", "invoke", "fail", "-b", check=False)
    assert blocking.returncode == 246
    assert blocking.stderr.startswith("ok: invoked /_/fail with id ")
    assert json.loads(blocking.stderr.split("\n", 1)[1])["response"]["status"] == (
        "application error"
    )


def test_web_action_flags_and_url(wsk: Wsk, tmp_path: Path) -> None:
    wsk("action", "create", "page", str(write(tmp_path, "hello.js")), "--web", "true")
    annotations = json.loads(wsk("action", "get", "page", "annotations").stdout.split("\n", 1)[1])
    values = {item["key"]: item["value"] for item in annotations}
    assert (values["web-export"], values["raw-http"], values["final"]) == (True, False, True)
    url = wsk("action", "get", "page", "--url").stdout.splitlines()[1]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1/web/\S+/default/page", url)

    wsk("action", "update", "page", "--web-secure", "s3cret")
    annotations = json.loads(wsk("action", "get", "page", "annotations").stdout.split("\n", 1)[1])
    values = {item["key"]: item["value"] for item in annotations}
    assert values["require-whisk-auth"] == "s3cret"
    assert values["web-export"] is True


def test_save_code(wsk: Wsk, tmp_path: Path) -> None:
    source = write(tmp_path, "hello.py")
    wsk("action", "create", "hello", str(source))
    out = tmp_path / "out"
    out.mkdir()
    saved = wsk("action", "get", "hello", "--save", cwd=out).stdout
    assert saved == f"ok: saved action code to {out / 'hello.py'}\n"
    assert (out / "hello.py").read_text() == HELLO["hello.py"]
    again = wsk("action", "get", "hello", "--save", cwd=out, check=False)
    assert again.returncode == 2
    assert "error: The file 'hello.py' already exists" in again.stderr


def test_argument_errors(wsk: Wsk, tmp_path: Path) -> None:
    missing = wsk("action", "create", "hello", str(tmp_path / "nope.py"), check=False)
    assert missing.returncode == 2
    assert f"File '{tmp_path / 'nope.py'}' is not a valid file or it does not exist" in (
        missing.stderr
    )
    no_name = wsk("action", "invoke", check=False)
    assert no_name.returncode == 1
    assert no_name.stderr == (
        "error: Invalid argument(s). An action name is required.\nRun 'wsk --help' for usage.\n"
    )
    unknown = wsk("action", "invoke", "nothing-here", check=False)
    assert unknown.returncode == 148
    assert "error: Unable to invoke action 'nothing-here': " in unknown.stderr
