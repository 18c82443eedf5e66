"""`wsk api create|get|list|delete` against a real server, and the APIs they make called
over real HTTP, as a user of the Go wsk would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from pywhisk.common.entities import Identity
from tests.support.actions import SHOW_TODO
from tests.support.wsk import Wsk

HELLO = "def main(args):\n    return {'msg': 'hello ' + args.get('name', 'world')}\n"


def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request with room for a cold start on a loaded machine (httpx waits 5 s)."""
    return httpx.request(method, url, timeout=90, **kwargs)


def action(wsk: Wsk, tmp_path: Path, name: str, code: str, *flags: str) -> None:
    (tmp_path / f"{name}.py").write_text(code)
    wsk("action", "update", name, f"{name}.py", *flags, cwd=tmp_path)


def test_create_call_list_get_delete(wsk: Wsk, tmp_path: Path, namespace: Identity) -> None:
    action(wsk, tmp_path, "show-todo", SHOW_TODO, "--web", "true")
    made = wsk("api", "create", "/todos", "/{id}", "get", "show-todo", "--response-type", "http")
    lines = made.stdout.splitlines()
    assert lines[0] == "ok: created API /todos/{id} GET for action /_/show-todo"
    url = lines[-1]
    assert url.endswith(f"/api/{namespace.uuid}/todos/{{id}}")
    got = call("GET", url.replace("{id}", "7"))
    assert got.status_code == 200 and got.text == "todo 7 /7"

    action(wsk, tmp_path, "hello", HELLO, "--web", "true")
    wsk("api", "create", "/todos", "/hello", "post", "hello", "--apiname", "ignored")
    hello_url = url.replace("/{id}", "/hello")
    assert call("POST", hello_url, json={"name": "Rob"}).json() == {"msg": "hello Rob"}

    listed = wsk("api", "list", "/todos", "--name-sort").stdout.splitlines()
    assert listed[0] == "ok: APIs"
    assert listed[1].split() == ["Action", "Verb", "API", "Name", "URL"]
    # action names are cut at 40 characters, and the column is as wide as the longest
    hello, show = (f"/{namespace.namespace}/{name}"[:40] for name in ("hello", "show-todo"))
    assert listed[2].split() == [hello, "post", "/todos", hello_url]
    assert listed[3].split() == [show, "get", "/todos", url]
    width = max(len(hello), len(show))
    assert listed[1].startswith("Action" + " " * (width - len("Action")) + "    Verb")
    only = wsk("api", "list", "/todos", "/hello", "post").stdout.splitlines()
    assert len(only) == 3 and only[2].split()[1] == "post"
    full = wsk("api", "list", "--full").stdout
    assert (
        f"Action: /{namespace.namespace}/hello\n   API Name: /todos\n   Base path: /todos\n" in full
    )

    swagger = json.loads(wsk("api", "get", "/todos").stdout)
    assert list(swagger) == ["swagger", "basePath", "info", "paths", "x-ibm-configuration"]
    op = swagger["paths"]["/{id}"]["get"]
    assert list(op) == ["operationId", "parameters", "responses", "x-openwhisk"]
    assert op["x-openwhisk"]["action"] == "show-todo"
    assert op["x-openwhisk"]["url"].endswith("/default/show-todo.http")
    detailed = json.loads(wsk("api", "get", "/todos", "--full").stdout)
    assert detailed["gwApiUrl"] == url.removesuffix("/{id}") and detailed["gwApiActivated"]
    yaml_text = wsk("api", "get", "/todos", "--format", "yaml").stdout
    assert "basePath: /todos\n" in yaml_text and 'swagger: "2.0"\n' in yaml_text

    assert wsk("api", "delete", "/todos", "/hello", "post").stdout == (
        "ok: deleted /hello POST from /todos\n"
    )
    after = call("POST", hello_url)  # /hello is now only what /{id} matches: a GET
    assert after.status_code == 405 and after.headers["allow"] == "GET"
    assert wsk("api", "delete", "/todos").stdout == "ok: deleted API /todos\n"
    assert call("GET", url.replace("{id}", "7")).status_code == 404
    empty = wsk("api", "list").stdout
    assert empty == "ok: APIs\n" + f"{'Action':<30} {'Verb':>7} {'API Name':>20}  URL\n"


def test_refusals(wsk: Wsk, tmp_path: Path) -> None:
    action(wsk, tmp_path, "plain", HELLO)
    done = wsk("api", "create", "/x", "/y", "get", "plain", check=False)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: Action '/_/plain' is not a web action. Issue 'wsk action update \"/_/plain\" "
        "--web true' to convert the action to a web action."
    )
    assert "web-export" not in wsk("action", "get", "plain").stdout  # refused, not changed
    missing = wsk("api", "create", "/x", "/y", "get", "nothing", check=False)
    assert missing.returncode == 148
    assert missing.stderr.startswith("error: Unable to get action '/_/nothing': ")
    verb = wsk("api", "create", "/x", "/y", "fetch", "plain", check=False)
    assert verb.returncode == 1 and "'fetch' is not a valid API verb." in verb.stderr
    params = wsk("api", "create", "/x", "/{y}", "get", "plain", check=False)
    assert "A response type of 'http' is required when using path parameters." in params.stderr
    gone = wsk("api", "get", "/nothing", check=False)
    assert (
        gone.returncode == 1 and gone.stderr == "error: API does not exist for basepath /nothing\n"
    )
    deleted = wsk("api", "delete", "/nothing", check=False)
    assert deleted.returncode == 1
    assert deleted.stderr.startswith(
        "error: Unable to delete API: API deletion failure: API '/nothing' does not exist."
    )


def test_config_file(wsk: Wsk, tmp_path: Path, namespace: Identity) -> None:
    action(wsk, tmp_path, "hello", HELLO, "--web", "true")
    wsk("api", "create", "/greet", "/hi", "get", "hello")
    exported = wsk("api", "get", "/greet").stdout
    wsk("api", "delete", "/greet")
    (tmp_path / "api.json").write_text(exported)
    made = wsk("api", "create", "--config-file", str(tmp_path / "api.json")).stdout.splitlines()
    assert made[0] == f"ok: created API /greet/hi get for action /{namespace.namespace}/hello"
    assert call("GET", made[1], params={"name": "file"}).json() == {"msg": "hello file"}
    (tmp_path / "bad.json").write_text('{"swagger": "2.0"}')
    bad = wsk("api", "create", "-c", str(tmp_path / "bad.json"), check=False)
    assert bad.returncode == 1 and "Swagger file is invalid" in bad.stderr


MARKUP = (
    "def main(args):\n"
    "    who = args.get('name', 'you')\n"
    "    return {'html': '<p>hello ' + who + '</p>', 'text': 'hello ' + who,\n"
    "            'svg': '<svg xmlns=\"http://www.w3.org/2000/svg\"><title>' + who + '</title></svg>'}\n"
)


def test_response_types_and_api_name(wsk: Wsk, tmp_path: Path) -> None:
    """`--response-type html|svg|text` shape what a route answers, and `--apiname` names
    the API a first route makes: listed under that name, got and deleted by it."""
    action(wsk, tmp_path, "markup", MARKUP, "--web", "true")
    urls: dict[str, str] = {}
    for kind in ("html", "svg", "text"):
        made = wsk(
            "api", "create", "/pages", f"/{kind}", "get", "markup",
            "--response-type", kind, "--apiname", "Pages",
        )  # fmt: skip
        urls[kind] = made.stdout.splitlines()[-1]
    page = call("GET", urls["html"], params={"name": "Ann"})
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == "<p>hello Ann</p>"
    logo = call("GET", urls["svg"], params={"name": "Bo"})
    assert logo.headers["content-type"].startswith("image/svg+xml")
    assert logo.text == '<svg xmlns="http://www.w3.org/2000/svg"><title>Bo</title></svg>'
    note = call("GET", urls["text"])
    assert note.headers["content-type"].startswith("text/plain") and note.text == "hello you"

    full = wsk("api", "list", "-f").stdout
    assert "   API Name: Pages\n   Base path: /pages\n" in full
    swagger = json.loads(wsk("api", "get", "Pages").stdout)
    assert swagger["basePath"] == "/pages" and swagger["info"]["title"] == "Pages"
    ops = {path: op["get"]["x-openwhisk"]["url"] for path, op in swagger["paths"].items()}
    assert {path: url.rsplit(".", 1)[1] for path, url in ops.items()} == {
        "/html": "html",
        "/svg": "svg",
        "/text": "text",
    }
    assert wsk("api", "delete", "Pages").stdout == "ok: deleted API Pages\n"
    assert call("GET", urls["html"]).status_code == 404
