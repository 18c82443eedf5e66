"""The pure parts of firing a trigger: rule arguments, rule log lines, trigger links."""

from __future__ import annotations

import json

from common.entities import EntityRef, KeyValue, RuleLink, Status, Trigger
from common.names import QualifiedName
from controller.firing import RuleOutcome, rule_arguments

ACTION = EntityRef(path="ns/pkg", name="a")


def trigger(**rules: str) -> Trigger:
    links = {f"ns/{r}": RuleLink(action=ACTION, status=s) for r, s in rules.items()}  # type: ignore[arg-type]
    return Trigger(
        namespace="ns",
        name="t",
        parameters=(KeyValue(key="a", value=1), KeyValue(key="b", value=1)),
        rules=links or None,
    )


def test_payload_over_headers_over_trigger_parameters() -> None:
    args = rule_arguments(
        trigger(),
        {"b": 2, "c": 3},
        {"X-Thing": "yes", "Authorization": "Basic secret", "Cookie": "s=1"},
    )
    assert args == {"a": 1, "b": 2, "__ow_headers": {"x-thing": "yes"}, "c": 3}
    # A payload may even replace the headers, as in OW (payload wins).
    assert rule_arguments(trigger(), {"__ow_headers": "mine"}, None)["__ow_headers"] == "mine"
    assert rule_arguments(trigger(), {}, None)["__ow_headers"] == {}


def test_log_lines_carry_an_id_or_an_error() -> None:
    ok = RuleOutcome("ns/r", "ns/a", Status.SUCCESS, activation_id="f" * 32)
    assert json.loads(ok.to_log()) == {
        "statusCode": 0,
        "success": True,
        "rule": "ns/r",
        "action": "ns/a",
        "activationId": "f" * 32,
    }
    failed = RuleOutcome("ns/r", "ns/a", Status.WHISK_ERROR, error="boom")
    assert json.loads(failed.to_log()) == {
        "statusCode": 3,
        "success": False,
        "rule": "ns/r",
        "action": "ns/a",
        "error": "boom",
    }


def test_links_are_added_replaced_and_removed() -> None:
    t = trigger(r1="active", r2="inactive")
    assert list(t.active_rules()) == ["ns/r1"]
    t = t.with_link("ns/r2", RuleLink(action=ACTION, status="active"))
    assert sorted(t.active_rules()) == ["ns/r1", "ns/r2"]
    t = t.with_link("ns/r1", None)
    assert list(t.to_json()["rules"]) == ["ns/r2"]
    assert t.to_json()["rules"]["ns/r2"] == {
        "action": {"path": "ns/pkg", "name": "a"},
        "status": "active",
    }
    assert ACTION.fqn == QualifiedName("ns", "a", "pkg")
    assert "rules" not in trigger().to_json()  # absent until a rule is linked
