"""The real `wsk` against a real standalone server: triggers, rules and feeds with real
Python actions, wsk's output lines and exit codes (docs/openwhisk-compatibility.md §1.4, §1.5, §6.3, §7)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from pywhisk.common.entities import Identity
from tests.support.rest import wait_for_record
from tests.support.wsk import split_feed_failure

Wsk = Callable[..., subprocess.CompletedProcess[str]]

ECHO = "def main(args):\n    return args\n"
BAD_REQUEST_EXIT = 144  # 400 - 256, as wsk exits
NOT_FOUND_EXIT = 148
APPLICATION_ERROR_EXIT = 246  # 502 - 256

# A feed action that answers each lifecycle event with what it was given (its activation
# records are the log of its calls), refuses CREATE when asked to, and READ and DELETE of
# the trigger `stubborn`.
FEED = """import hashlib

def main(args):
    event = args.get("lifecycleEvent")
    if event == "CREATE" and args.get("fail"):
        return {"error": "feed refused: " + str(args["fail"])}
    if event in ("READ", "DELETE") and args.get("triggerName", "").endswith("/stubborn"):
        return {"error": "feed cannot " + event.lower()}
    own = ("lifecycleEvent", "triggerName", "authKey")
    return {
        "event": event,
        "trigger": args.get("triggerName"),
        "auth": hashlib.sha256(args.get("authKey", "").encode()).hexdigest(),
        "params": {k: v for k, v in args.items() if k not in own},
    }
"""


def write(tmp_path: Path, name: str, code: str) -> str:
    path = tmp_path / name
    path.write_text(code)
    return str(path)


def ok_id(line: str, prefix: str) -> str:
    assert line.startswith(prefix), line
    return line[len(prefix) :].strip()


def rule_lines(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {(entry := json.loads(line))["rule"]: entry for line in record["logs"]}


def test_trigger_rule_fire(
    wsk: Wsk, api: httpx.Client, namespace: Identity, tmp_path: Path
) -> None:
    ns = namespace.namespace
    wsk("action", "create", "echo", write(tmp_path, "echo.py", ECHO))
    assert wsk("trigger", "create", "t", "-p", "color", "red").stdout == "ok: created trigger t\n"
    again = wsk("trigger", "create", "t", check=False)
    assert again.returncode == 153
    assert again.stderr.startswith("error: Unable to create trigger 't': resource already exists")
    assert wsk("rule", "create", "r", "t", "echo").stdout == "ok: created rule r\n"
    assert wsk("rule", "status", "r").stdout == "ok: rule r is active\n"

    fired = wsk("trigger", "fire", "t", "-p", "size", "10")
    trigger_id = ok_id(fired.stdout, "ok: triggered /_/t with id ")
    listed = wsk("activation", "list", "t").stdout.splitlines()
    assert any(trigger_id in row and row.endswith("/t:0.0.1") for row in listed), listed
    got = wsk("activation", "get", trigger_id)
    record = json.loads(got.stdout.partition("\n")[2])
    assert record["name"] == "t" and record["response"]["result"] == {"size": 10}
    line = rule_lines(record)[f"{ns}/r"]
    assert (line["success"], line["action"]) == (True, f"{ns}/echo")
    result = json.loads(wsk("activation", "result", line["activationId"]).stdout)
    assert (result["color"], result["size"]) == ("red", 10)
    assert "user-agent" in result["__ow_headers"]

    # A disabled rule does not fire: 204, an empty id, and nothing new recorded.
    assert wsk("rule", "disable", "r").stdout == "ok: disabled rule r\n"
    assert wsk("rule", "status", "r").stdout == "ok: rule r is inactive\n"
    before = api.get("/namespaces/_/activations", params={"count": "true"}).json()
    assert wsk("trigger", "fire", "t").stdout == "ok: triggered /_/t with id \n"
    time.sleep(1)
    assert api.get("/namespaces/_/activations", params={"count": "true"}).json() == before

    rules = wsk("rule", "list").stdout.splitlines()
    assert rules[0] == "rules"
    assert rules[1].split() == [f"/{ns}/r", "private", "inactive"]
    assert wsk("trigger", "list").stdout.splitlines()[1].split() == [f"/{ns}/t", "private"]
    assert wsk("rule", "enable", "r").stdout == "ok: enabled rule r\n"
    shown = wsk("trigger", "get", "t")
    header, _, body = shown.stdout.partition("\n")
    assert header == "ok: got trigger t"
    trigger = json.loads(body)
    assert trigger["rules"][f"{ns}/r"]["status"] == "active"
    assert trigger["parameters"] == [{"key": "color", "value": "red"}]
    assert wsk("trigger", "get", "t", "parameters").stdout.startswith(
        "ok: got trigger t, displaying field parameters\n"
    )
    assert json.loads(wsk("rule", "get", "r", "action").stdout.partition("\n")[2]) == {
        "name": "echo",
        "path": ns,
    }
    summary = wsk("trigger", "get", "t", "--summary").stdout
    assert summary.startswith(f"trigger /{ns}/t: ") and "color" in summary
    assert wsk("rule", "get", "r", "-s").stdout == f"rule /{ns}/r\n   (status: active)\n"
    listing = wsk("list").stdout
    assert f"/{ns}/t" in listing and f"/{ns}/r" in listing

    assert wsk("rule", "delete", "--disable", "r").stdout == "ok: deleted rule r\n"
    assert wsk("rule", "get", "r", check=False).returncode == NOT_FOUND_EXIT
    assert wsk("trigger", "delete", "t").stdout == "ok: deleted trigger t\n"
    gone = wsk("trigger", "fire", "t", check=False)
    assert gone.returncode == NOT_FOUND_EXIT
    assert gone.stderr.startswith(
        "error: Unable to fire trigger 't': The requested resource does not exist."
    )


def test_rules_to_package_binding_and_deleted_action(
    wsk: Wsk, api: httpx.Client, namespace: Identity, tmp_path: Path
) -> None:
    ns = namespace.namespace
    echo = write(tmp_path, "echo.py", ECHO)
    wsk("package", "create", "tools", "-p", "via", "package")
    wsk("action", "create", "tools/echo", echo)
    wsk("package", "bind", "tools", "mine", "-p", "via", "binding")
    wsk("action", "create", "doomed", echo)
    wsk("trigger", "create", "t")
    wsk("rule", "create", "packaged", "t", "tools/echo")
    wsk("rule", "create", "bound", "t", "mine/echo")
    wsk("rule", "create", "dangling", "t", "doomed")
    wsk("action", "delete", "doomed")

    trigger_id = ok_id(wsk("trigger", "fire", "t").stdout, "ok: triggered /_/t with id ")
    lines = rule_lines(wait_for_record(api, trigger_id))
    assert lines[f"{ns}/dangling"]["statusCode"] == 1
    assert lines[f"{ns}/dangling"]["error"] == "The requested resource does not exist."
    for rule, via in (("packaged", "package"), ("bound", "binding")):
        run = json.loads(wsk("activation", "result", lines[f"{ns}/{rule}"]["activationId"]).stdout)
        assert run["via"] == via

    refused = wsk("rule", "create", "r", "nope", "tools/echo", check=False)
    assert refused.returncode == BAD_REQUEST_EXIT
    assert refused.stderr.startswith(
        f"error: Unable to create rule 'r': trigger /{ns}/nope does not exist (code "
    )
    missing = wsk("rule", "create", "r", "t", "tools/nope", check=False)
    assert missing.stderr.startswith(
        f"error: Unable to create rule 'r': action /{ns}/tools/nope does not exist (code "
    )
    assert wsk("rule", "create", "r", "t", check=False).stderr == (
        "error: Invalid argument(s). A rule, trigger and action name are required.\n"
        "Run 'wsk --help' for usage.\n"
    )


def feed_calls(api: httpx.Client) -> list[dict[str, Any]]:
    """The results of the feed action's activations, oldest first."""
    listed = api.get("/namespaces/_/activations", params={"name": "feed", "docs": "true"}).json()
    return [a["response"]["result"] for a in reversed(listed)]


def test_feed_lifecycle(wsk: Wsk, api: httpx.Client, namespace: Identity, tmp_path: Path) -> None:
    auth = hashlib.sha256(namespace.auth.encode()).hexdigest()
    wsk("action", "create", "feed", write(tmp_path, "feed.py", FEED), "-a", "feed", "true")

    created = wsk("trigger", "create", "ticks", "--feed", "feed", "-p", "cron", "* * * * *")
    lines = created.stdout.splitlines()
    ok_id(lines[0], "ok: invoked /_/feed with id ")
    assert lines[-1] == "ok: created trigger ticks"
    trigger = api.get("/namespaces/_/triggers/ticks").json()
    # The parameters went to the feed, not to the trigger.
    assert trigger["parameters"] == []
    assert trigger["annotations"] == [{"key": "feed", "value": "/_/feed"}]
    assert feed_calls(api) == [
        {"event": "CREATE", "trigger": "/_/ticks", "auth": auth, "params": {"cron": "* * * * *"}}
    ]

    read = wsk("trigger", "get", "ticks")
    assert json.loads(read.stdout)["response"]["result"]["event"] == "READ"
    assert wsk("trigger", "update", "ticks", "-p", "cron", "0 * * * *").stdout.endswith(
        "ok: updated trigger ticks\n"
    )
    assert wsk("trigger", "delete", "ticks").stdout.endswith("ok: deleted trigger ticks\n")
    calls = feed_calls(api)
    assert [(c["event"], c["trigger"]) for c in calls] == [
        ("CREATE", "/_/ticks"),
        ("READ", "/_/ticks"),
        ("UPDATE", "/_/ticks"),
        ("DELETE", "/_/ticks"),
    ]
    assert calls[2]["params"] == {"cron": "0 * * * *"}
    assert api.get("/namespaces/_/triggers/ticks").status_code == 404

    # -F/-T split the feed's parameters from the trigger's.
    wsk("trigger", "create", "split", "--feed", "feed", "-F", "cron", "x", "-T", "tp", "1")
    assert api.get("/namespaces/_/triggers/split").json()["parameters"] == [
        {"key": "tp", "value": 1}
    ]
    assert feed_calls(api)[-1]["params"] == {"cron": "x"}
    mixed = wsk("trigger", "create", "m", "-p", "a", "1", "-T", "b", "2", check=False)
    assert mixed.returncode == 149 and "Cannot combine --feed-param" in mixed.stderr
    assert api.get("/namespaces/_/triggers/m").status_code == 404


def test_feed_refusing_read_and_delete(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    wsk("action", "create", "feed", write(tmp_path, "feed.py", FEED), "-a", "feed", "true")
    wsk("trigger", "create", "stubborn", "--feed", "feed")
    read = wsk("trigger", "get", "stubborn", check=False)
    assert read.returncode == APPLICATION_ERROR_EXIT
    activation, error = split_feed_failure(read.stderr)
    assert activation["response"]["result"] == {"error": "feed cannot read"}
    assert error == (
        "error: Unable to get trigger 'stubborn': Unable to configure feed '/_/feed': "
        "The following application error was received: feed cannot read"
    )
    deleted = wsk("trigger", "delete", "stubborn", check=False)
    assert deleted.returncode == APPLICATION_ERROR_EXIT
    assert deleted.stdout.endswith("ok: deleted trigger stubborn\n")
    activation, error = split_feed_failure(deleted.stderr)
    assert activation["response"]["result"] == {"error": "feed cannot delete"}
    assert error == (
        "error: Trigger 'stubborn' was deleted, but its feed may still run: Unable to configure "
        "feed '/_/feed': The following application error was received: feed cannot delete"
    )
    assert api.get("/namespaces/_/triggers/stubborn").status_code == 404


def test_feed_failing_at_create_leaves_no_trigger(
    wsk: Wsk, api: httpx.Client, tmp_path: Path
) -> None:
    wsk("action", "create", "feed", write(tmp_path, "feed.py", FEED), "-a", "feed", "true")
    failed = wsk("trigger", "create", "bad", "--feed", "feed", "-p", "fail", "no cron", check=False)
    assert failed.returncode == APPLICATION_ERROR_EXIT
    activation, error = split_feed_failure(failed.stderr)  # the feed's failed activation
    assert activation["response"]["result"] == {"error": "feed refused: no cron"}
    assert error == (
        "error: Unable to create trigger 'bad': Unable to configure feed '/_/feed': "
        "The following application error was received: feed refused: no cron"
    )
    assert api.get("/namespaces/_/triggers/bad").status_code == 404
    assert wsk("trigger", "list").stdout == "triggers\n"
    missing_feed = wsk("trigger", "create", "worse", "--feed", "nothere", check=False)
    assert missing_feed.returncode == NOT_FOUND_EXIT
    assert "Unable to configure feed '/_/nothere'" in missing_feed.stderr
    assert api.get("/namespaces/_/triggers/worse").status_code == 404
