"""Triggers and rules over the real REST API of a real standalone server, with real Python
actions (docs/openwhisk-compatibility.md §1.4, §1.5; OW TriggersApiTests, RulesApiTests)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from pywhisk.common.entities import Identity
from tests.support.rest import put, put_action, setup_rule, wait_for_record
from tests.support.server import StandaloneServer

ECHO = "def main(args):\n    return args\n"


def fire(api: httpx.Client, trigger: str, payload: Any = None, **headers: str) -> httpx.Response:
    return api.post(f"/namespaces/_/triggers/{trigger}", json=payload or {}, headers=headers)


def rule_logs(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record["logs"]]


def error(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]


# -- triggers ---------------------------------------------------------------------------------


def test_trigger_create_get_update_list_delete(api: httpx.Client, namespace: Identity) -> None:
    ns = namespace.namespace
    r = put(api, "triggers", "t", {"parameters": [{"key": "a", "value": 1}]})
    assert r.status_code == 200, r.text
    created = r.json()
    assert {k: created[k] for k in ("namespace", "name", "version", "publish", "limits")} == {
        "namespace": ns,
        "name": "t",
        "version": "0.0.1",
        "publish": False,
        "limits": {},
    }
    assert "rules" not in created
    assert error(put(api, "triggers", "t", {})) == (409, "resource already exists")

    put_action(api, "echo", ECHO)
    setup_rule(api, "t", "r", "echo")
    r = put(api, "triggers", "t", {"annotations": [{"key": "x", "value": "y"}]}, overwrite="true")
    updated = r.json()
    # Given fields replace, the others stay, the version moves on, the rule link survives.
    assert updated["parameters"] == [{"key": "a", "value": 1}]
    assert updated["annotations"] == [{"key": "x", "value": "y"}]
    assert updated["version"] == "0.0.2"
    assert updated["rules"] == {
        f"{ns}/r": {"action": {"path": ns, "name": "echo"}, "status": "active"}
    }

    listed = api.get("/namespaces/_/triggers").json()
    assert [t["name"] for t in listed] == ["t"]
    assert set(listed[0]) == {"namespace", "name", "version", "publish", "annotations", "updated"}
    assert api.get("/namespaces/_/triggers", params={"count": "true"}).json() == {"triggers": 1}

    assert api.delete("/namespaces/_/triggers/t").status_code == 200
    assert error(api.get("/namespaces/_/triggers/t")) == (
        404,
        "The requested resource does not exist.",
    )
    assert api.delete("/namespaces/_/triggers/t").status_code == 404
    # Its rule dangles, inactive.
    assert api.get("/namespaces/_/rules/r").json()["status"] == "inactive"


def test_trigger_refusals(api: httpx.Client, server: StandaloneServer) -> None:
    bad_feed = {"annotations": [{"key": "feed", "value": "/a/b/c/d"}]}
    assert error(put(api, "triggers", "t", bad_feed)) == (400, "Feed name is not valid")
    assert (
        put(
            api, "triggers", "t", {"annotations": [{"key": "feed", "value": "/ns/p/f"}]}
        ).status_code
        == 200
    )
    assert error(api.post("/namespaces/_/triggers/nope", json={})) == (
        404,
        "The requested resource does not exist.",
    )
    r = api.post("/namespaces/_/triggers/t", content=b"[1]")
    assert r.status_code == 400 and "malformed" in r.json()["error"]
    big = b'{"x": "' + b"y" * (1024 * 1024) + b'"}'
    r = api.post("/namespaces/_/triggers/t", content=big)
    assert error(r) == (413, f"Request larger than allowed: {len(big)} > 1048576 bytes.")
    other = server.create_namespace(f"other{time.monotonic_ns()}")
    assert api.get(f"/namespaces/{other.namespace}/triggers/t").status_code == 403
    assert api.post(f"/namespaces/{other.namespace}/triggers/t", json={}).status_code == 403
    put_action(api, "echo", ECHO)
    assert error(put(api, "triggers", "echo", {})) == (
        409,
        "Resource by this name exists but is not in this collection.",
    )


# -- rules ------------------------------------------------------------------------------------


def test_rule_lifecycle(api: httpx.Client, namespace: Identity) -> None:
    ns = namespace.namespace
    put_action(api, "echo", ECHO)
    put(api, "triggers", "t", {})
    r = put(api, "rules", "r", {"trigger": "/_/t", "action": "/_/echo", "status": "inactive"})
    assert r.status_code == 200, r.text
    rule = r.json()
    assert rule["status"] == "active"  # a status in the body is ignored
    assert rule["trigger"] == {"path": ns, "name": "t"}
    assert rule["action"] == {"path": ns, "name": "echo"}
    assert error(put(api, "rules", "r", {"trigger": "/_/t", "action": "/_/echo"})) == (
        409,
        "resource already exists",
    )

    disable = api.post("/namespaces/_/rules/r", json={"status": "inactive"})
    assert disable.status_code == 200
    assert api.get("/namespaces/_/rules/r").json()["status"] == "inactive"
    trigger = api.get("/namespaces/_/triggers/t").json()
    assert trigger["rules"][f"{ns}/r"]["status"] == "inactive"
    # The same state again is fine; an update keeps the status.
    assert api.post("/namespaces/_/rules/r", json={"status": "inactive"}).status_code == 200
    r = put(api, "rules", "r", {"annotations": [{"key": "k", "value": 1}]}, overwrite="true")
    assert (r.json()["status"], r.json()["version"]) == ("inactive", "0.0.2")
    assert api.post("/namespaces/_/rules/r", json={"status": "active"}).status_code == 200
    assert api.get("/namespaces/_/rules/r").json()["status"] == "active"

    listed = api.get("/namespaces/_/rules").json()
    assert [(x["name"], "status" in x) for x in listed] == [("r", False)]

    # Moving the rule to another trigger moves its link.
    put(api, "triggers", "t2", {})
    r = put(api, "rules", "r", {"trigger": "/_/t2"}, overwrite="true")
    assert r.json()["trigger"] == {"path": ns, "name": "t2"}
    assert api.get("/namespaces/_/triggers/t").json()["rules"] == {}
    assert f"{ns}/r" in api.get("/namespaces/_/triggers/t2").json()["rules"]

    deleted = api.delete("/namespaces/_/rules/r")
    assert (deleted.status_code, deleted.json()["status"]) == (200, "inactive")
    assert api.get("/namespaces/_/triggers/t2").json()["rules"] == {}
    assert api.get("/namespaces/_/rules/r").status_code == 404


def test_rule_refusals(api: httpx.Client, namespace: Identity) -> None:
    ns = namespace.namespace
    put_action(api, "echo", ECHO)
    put(api, "triggers", "t", {})
    assert error(put(api, "rules", "r", {"trigger": "/_/t"})) == (
        400,
        "rule requires a valid trigger and a valid action",
    )
    assert error(put(api, "rules", "r", {"trigger": "/_/nope", "action": "/_/echo"})) == (
        400,
        f"trigger /{ns}/nope does not exist",
    )
    assert error(put(api, "rules", "r", {"trigger": "/_/t", "action": "/_/nope"})) == (
        400,
        f"action /{ns}/nope does not exist",
    )
    r = put(api, "rules", "r", {"trigger": "/a/b/c/d", "action": "/_/echo"})
    assert r.status_code == 400 and "fully qualified name" in r.json()["error"]
    setup_rule(api, "t", "r", "echo")
    for body in ({"status": "xxx"}, {}):
        assert api.post("/namespaces/_/rules/r", json=body).status_code == 400
    assert api.post("/namespaces/_/rules/nope", json={"status": "active"}).status_code == 404
    api.delete("/namespaces/_/triggers/t")
    assert error(api.post("/namespaces/_/rules/r", json={"status": "inactive"})) == (
        404,
        "Only rules with existing triggers can be activated",
    )


# -- firing -----------------------------------------------------------------------------------


def ran(api: httpx.Client, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The activation records of the actions the trigger record's rules started."""
    return [
        wait_for_record(api, line["activationId"])
        for line in rule_logs(record)
        if "activationId" in line
    ]


def test_fire_without_active_rules_is_204(api: httpx.Client) -> None:
    put_action(api, "echo", ECHO)
    put(api, "triggers", "t", {})
    r = fire(api, "t", {"x": 1})
    assert (r.status_code, r.content) == (204, b"")
    setup_rule(api, "t", "r", "echo")
    api.post("/namespaces/_/rules/r", json={"status": "inactive"})
    assert fire(api, "t", {"x": 1}).status_code == 204
    time.sleep(0.5)
    assert api.get("/namespaces/_/activations").json() == []  # nothing ran, nothing recorded


def test_fire_runs_each_active_rule(api: httpx.Client, namespace: Identity) -> None:
    ns = namespace.namespace
    put_action(api, "echo", ECHO, parameters=[{"key": "mine", "value": "action"}])
    put(
        api,
        "triggers",
        "t",
        {"parameters": [{"key": "from", "value": "trigger"}, {"key": "x", "value": 0}]},
    )
    setup_rule(api, "t", "r1", "echo")
    setup_rule(api, "t", "r2", "echo")
    setup_rule(api, "t", "off", "echo")
    api.post("/namespaces/_/rules/off", json={"status": "inactive"})

    r = fire(api, "t", {"x": 1}, **{"X-Custom": "hello"})
    assert r.status_code == 202, r.text
    activation_id = r.json()["activationId"]
    assert r.headers["x-openwhisk-activation-id"] == activation_id
    record = wait_for_record(api, activation_id)
    assert (record["name"], record["namespace"]) == ("t", ns)
    assert record["response"]["result"] == {"x": 1}
    assert record["response"]["success"] is True
    assert "end" not in record and "duration" not in record
    lines = sorted(rule_logs(record), key=lambda line: line["rule"])
    assert [(x["rule"], x["statusCode"], x["success"]) for x in lines] == [
        (f"{ns}/off", 1, False),
        (f"{ns}/r1", 0, True),
        (f"{ns}/r2", 0, True),
    ]
    assert (
        lines[0]["error"] == f"Rule '{ns}/off' is inactive, action '{ns}/echo' was not activated."
    )
    assert all(x["action"] == f"{ns}/echo" for x in lines)

    runs = ran(api, record)
    assert len(runs) == 2
    for run in runs:
        args = run["response"]["result"]
        # trigger parameters < __ow_headers < payload; the action's own parameters underneath
        assert (args["mine"], args["from"], args["x"]) == ("action", "trigger", 1)
        assert args["__ow_headers"]["x-custom"] == "hello"
        assert "authorization" not in args["__ow_headers"]
        assert "cause" not in run


def test_rule_through_package_and_binding(api: httpx.Client, namespace: Identity) -> None:
    ns = namespace.namespace
    api.put("/namespaces/_/packages/tools", json={"parameters": [{"key": "p", "value": "pkg"}]})
    put_action(api, "tools/echo", ECHO)
    api.put(
        "/namespaces/_/packages/mine",
        json={
            "binding": {"namespace": ns, "name": "tools"},
            "parameters": [{"key": "p", "value": "binding"}],
        },
    )
    put(api, "triggers", "t", {})
    for rule, action in (("in-package", "tools/echo"), ("in-binding", "mine/echo")):
        r = put(api, "rules", rule, {"trigger": "/_/t", "action": f"/_/{action}"})
        assert r.status_code == 200, r.text
    record = wait_for_record(api, fire(api, "t", {"q": 2}).json()["activationId"])
    seen = {}
    for line in rule_logs(record):
        run = wait_for_record(api, line["activationId"])
        seen[line["rule"]] = (run["response"]["result"]["p"], run["response"]["result"]["q"])
    assert seen == {f"{ns}/in-package": ("pkg", 2), f"{ns}/in-binding": ("binding", 2)}


def test_rule_to_deleted_action_is_reported(api: httpx.Client, namespace: Identity) -> None:
    ns = namespace.namespace
    put_action(api, "gone", ECHO)
    put_action(api, "echo", ECHO)
    put(api, "triggers", "t", {})
    setup_rule(api, "t", "dangling", "gone")
    setup_rule(api, "t", "fine", "echo")
    api.delete("/namespaces/_/actions/gone")
    record = wait_for_record(api, fire(api, "t").json()["activationId"])
    by_rule = {line["rule"]: line for line in rule_logs(record)}
    assert by_rule[f"{ns}/dangling"] == {
        "statusCode": 1,
        "success": False,
        "rule": f"{ns}/dangling",
        "action": f"{ns}/gone",
        "error": "The requested resource does not exist.",
    }
    assert by_rule[f"{ns}/fine"]["statusCode"] == 0
    assert len(ran(api, record)) == 1


def test_fires_per_minute_throttle(server: StandaloneServer) -> None:
    ident = server.create_namespace(f"fires{time.monotonic_ns()}", firesPerMinute=2)
    uuid, _, key = ident.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=30) as api:
        put(api, "triggers", "t", {})
        while time.time() % 60 > 55:  # the window is the wall-clock minute: stay inside one
            time.sleep(1)
        answers = [fire(api, "t") for _ in range(3)]
    assert [a.status_code for a in answers] == [204, 204, 429]
    assert answers[2].json()["error"] == (
        "Too many requests in the last minute (count: 2, allowed: 2)."
    )


def test_rule_to_another_namespaces_shared_package(
    api: httpx.Client, namespace: Identity, server: StandaloneServer
) -> None:
    ns = namespace.namespace
    owner = server.create_namespace(f"lib{time.monotonic_ns()}")
    uuid, _, key = owner.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=30) as lib:
        lib.put("/namespaces/_/packages/shared", json={"publish": True})
        lib.put("/namespaces/_/packages/private", json={})
        put_action(lib, "shared/echo", ECHO)
        put_action(lib, "private/echo", ECHO)
    put(api, "triggers", "t", {})
    refused = put(
        api, "rules", "no", {"trigger": "/_/t", "action": f"/{owner.namespace}/private/echo"}
    )
    assert refused.status_code == 403
    r = put(api, "rules", "yes", {"trigger": "/_/t", "action": f"/{owner.namespace}/shared/echo"})
    assert r.status_code == 200, r.text
    record = wait_for_record(api, fire(api, "t", {"k": "v"}).json()["activationId"])
    (line,) = rule_logs(record)
    assert line["action"] == f"{owner.namespace}/shared/echo"
    run = wait_for_record(api, line["activationId"])
    # Recorded, and throttled, in the namespace that fired.
    assert (run["namespace"], run["response"]["result"]["k"]) == (ns, "v")


def test_rules_created_at_once_are_all_linked(api: httpx.Client, namespace: Identity) -> None:
    """Each rule's link is a write to the one trigger document: none may be lost."""
    ns = namespace.namespace
    put_action(api, "echo", ECHO)
    put(api, "triggers", "t", {})

    def create(i: int) -> int:
        body = {"trigger": "/_/t", "action": "/_/echo"}
        return put(api, "rules", f"r{i}", body).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(create, range(16))) == [200] * 16
    links = api.get("/namespaces/_/triggers/t").json()["rules"]
    assert sorted(links) == sorted(f"{ns}/r{i}" for i in range(16))
    record = wait_for_record(api, fire(api, "t").json()["activationId"])
    assert len(record["logs"]) == 16
