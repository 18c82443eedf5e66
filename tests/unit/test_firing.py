"""The pure parts of firing a trigger: rule arguments, rule log lines, trigger links."""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace
from typing import Any, cast

import pytest

from pywhisk.common.entities import (
    Activation,
    ActivationResponse,
    EntityRef,
    KeyValue,
    RuleLink,
    Status,
    Trigger,
)
from pywhisk.common.metrics import Metrics
from pywhisk.common.names import QualifiedName
from pywhisk.controller.core.triggers import firing
from pywhisk.controller.core.triggers.firing import RuleOutcome, rule_arguments

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


async def test_a_fire_cut_short_still_writes_its_record(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A stopping controller cancels what outlasts the drain: the trigger's record is
    written anyway, the rules not reached reported as whisk errors."""
    written: list[dict[str, Any]] = []

    class Activations:
        async def put(self, doc: dict[str, Any]) -> None:
            written.append(doc)

    svc = SimpleNamespace(store=SimpleNamespace(activations=Activations()), metrics=Metrics())

    async def fire_rule(_svc: Any, _caller: Any, rule: str, link: RuleLink, *_: Any) -> Any:
        if rule == "ns/stuck":
            await asyncio.sleep(60)
        return RuleOutcome(rule, link.action.doc_id, Status.SUCCESS, activation_id="a" * 32)

    monkeypatch.setattr(firing, "_fire_rule", fire_rule)
    record = Activation(
        namespace="ns",
        name="t",
        subject="ns",
        activation_id="b" * 32,
        start=1,
        response=ActivationResponse(status=Status.SUCCESS, result={}),
    )
    task = asyncio.create_task(
        firing._activate_rules(
            cast(Any, svc),
            cast(Any, None),
            trigger(quick="active", stuck="active"),
            record,
            {},
            "x",
        )
    )
    await asyncio.sleep(0.05)
    task.cancel()
    with caplog.at_level(logging.ERROR, logger="pywhisk"), pytest.raises(asyncio.CancelledError):
        await task
    (doc,) = written
    lines = {json.loads(x)["rule"]: json.loads(x) for x in doc["logs"]}
    assert lines["ns/quick"]["activationId"] == "a" * 32
    assert (lines["ns/stuck"]["statusCode"], lines["ns/stuck"]["error"]) == (
        3,
        "There was an error processing your request.",
    )
    assert doc["activationId"] == "b" * 32 and "end" not in doc
    # The rule's whisk error is the server's too: one line naming the trigger's activation.
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"whisk internal error: activation {'b' * 32} (transaction x) of ns/t: There was an "
        "error processing your request. (cause: rule ns/stuck could not invoke ns/pkg/a)"
    ]
