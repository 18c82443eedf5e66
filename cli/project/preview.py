"""`--preview`: the plan printed in wskdeploy's layout, each entity with what deploy would do.

wskdeploy's preview (`printDeploymentAssets`) lists `Packages:` with `Name:`, `bindings:`
(parameters as JSON) and `annotations:`, then each `* action:` and `* sequence:`, then
`Triggers:` and `Rules`. Here every entity also says `(create)`, `(update)` or
`(unchanged)`, an `Apis:` part lists the gateway routes, and a last line counts them;
nothing is sent but reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .plan import CREATE, UNCHANGED, UPDATE, Step

Echo = Callable[[str], None]
DELETE, ABSENT = "delete", "not deployed"
PHRASES = {
    CREATE: "to create",
    UPDATE: "to update",
    UNCHANGED: "unchanged",
    DELETE: "to delete",
    ABSENT: "not deployed",
}


def _pairs(echo: Echo, title: str, items: list[dict[str, Any]], indent: str = "    ") -> None:
    echo(f"{indent}{title}: ")
    for item in items:
        echo(f"{indent}    - {item['key']} : {json.dumps(item.get('value'))}")


def print_preview(steps: list[Step], echo: Echo) -> None:
    by_kind: dict[str, list[Step]] = {}
    for step in steps:
        by_kind.setdefault(step.entity.kind, []).append(step)
    echo("Packages:")
    for step in by_kind.get("package", []):
        body = step.entity.body
        echo(f"Name: {step.entity.name} ({step.change})")
        _pairs(echo, "bindings", body["parameters"])
        _pairs(echo, "annotations", body["annotations"])
        echo("")
    for step in by_kind.get("action", []):
        body = step.entity.body
        echo(f"  * action: {step.entity.name} ({step.change})")
        echo(f"    runtime: {body['exec'].get('kind')}")
        _pairs(echo, "bindings", body["parameters"])
        _pairs(echo, "annotations", body["annotations"])
    echo("")
    for step in by_kind.get("sequence", []):
        echo(f"  * sequence: {step.entity.name} ({step.change})")
        echo(f"    actions: {', '.join(step.entity.body['exec']['components'])}")
        _pairs(echo, "annotations", step.entity.body["annotations"])
    echo("")
    echo("Triggers:")
    for step in by_kind.get("trigger", []):
        echo(f"* trigger: {step.entity.name} ({step.change})")
        if step.entity.feed:
            echo(f"    feed: {step.entity.feed}")
        params = step.entity.body["parameters"] or [
            {"key": k, "value": v} for k, v in step.entity.feed_params.items()
        ]
        _pairs(echo, "bindings", params)
        _pairs(echo, "annotations", step.entity.body["annotations"])
    echo("")
    echo("Rules")
    for step in by_kind.get("rule", []):
        echo(f"* rule: {step.entity.name} ({step.change})")
        echo(f"    - trigger: {step.entity.body['trigger']}")
        echo(f"    - action: {step.entity.body['action']}")
    echo("")
    echo("Apis:")
    for step in by_kind.get("api", []):
        doc = step.entity.body["apidoc"]
        echo(f"* api: {step.entity.name} ({step.change})")
        echo(f"    - action: {doc['action']['name']}")
        echo(f"    - response: {dict(step.entity.query).get('responsetype')}")
    echo("")
    counts = [
        f"{sum(1 for s in steps if s.change == c)} {words}"
        for c, words in PHRASES.items()
        if any(s.change == c for s in steps)
    ]
    echo(f"Plan: {', '.join(counts) or 'nothing'}. Nothing was changed (--preview).")
