"""The real `wsk` against a real standalone server with `/whisk.system/alarms`: a trigger
created with an alarm feed, a rule to a real action, the alarm firing it; an invalid cron
refused with no trigger left; a once alarm deleting its trigger and rules after firing."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.polling import wait_until
from tests.support.rest import records
from tests.support.wsk import Wsk, echo_action, split_feed_failure


def feed_answer(done: subprocess.CompletedProcess[str]) -> Any:
    """What the feed answered READ: `wsk trigger get` of a feed's trigger prints the feed
    action's activation."""
    return json.loads(done.stdout)["response"]["result"]


def test_every_two_seconds_through_a_rule(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    echo_action(wsk, tmp_path)
    created = wsk(
        *("trigger", "create", "every-2s", "--feed", "/whisk.system/alarms/alarm"),
        *("-p", "cron", "*/2 * * * * *", "-p", "trigger_payload", '{"x":1}'),
    )
    assert created.stdout.splitlines()[-1] == "ok: created trigger every-2s"
    assert wsk("rule", "create", "r", "every-2s", "echo").stdout == "ok: created rule r\n"
    wait_until(lambda: records(api, "echo"), "two echoes", until=lambda rs: len(rs) >= 2)
    assert records(api, "echo")[0]["response"]["result"]["x"] == 1

    answer = feed_answer(wsk("trigger", "get", "every-2s"))
    assert answer["config"]["cron"] == "*/2 * * * * *"
    assert answer["config"]["payload"] == {"x": 1}
    assert answer["status"]["active"] is True

    updated = wsk("trigger", "update", "every-2s", "-p", "trigger_payload", '{"x":2}')
    assert updated.stdout.endswith("ok: updated trigger every-2s\n")
    wait_until(
        lambda: records(api, "echo")[0]["response"]["result"],
        "an echo of the updated payload",
        until=lambda echoed: echoed["x"] == 2,
    )

    assert wsk("trigger", "delete", "every-2s").stdout.endswith("ok: deleted trigger every-2s\n")
    time.sleep(1.5)  # a fire claimed just before the delete may still be recorded
    count = len(records(api, "every-2s"))
    time.sleep(4)
    assert len(records(api, "every-2s")) == count  # the schedule went with the trigger


def test_an_invalid_cron_leaves_no_trigger(wsk: Wsk, api: httpx.Client) -> None:
    failed = wsk(
        *("trigger", "create", "bad", "--feed", "/whisk.system/alarms/alarm"),
        *("-p", "cron", "*/61 * * *"),
        check=False,
    )
    assert failed.returncode != 0
    activation, error = split_feed_failure(failed.stderr)
    assert activation["response"]["result"] == {"error": "cron pattern '*/61 * * *' is not valid"}
    assert error == (
        "error: Unable to create trigger 'bad': Unable to configure feed "
        "'/whisk.system/alarms/alarm': The following application error was received: "
        "cron pattern '*/61 * * *' is not valid"
    )
    assert wsk("trigger", "list").stdout == "triggers\n"
    assert api.get("/namespaces/_/triggers/bad").status_code == 404
    later = wsk(
        *("trigger", "create", "late", "--feed", "/whisk.system/alarms/alarm"),
        *("-p", "cron", "* * * * *"),
        *("-p", "startDate", "2031-02-01T00:00:00Z", "-p", "stopDate", "2031-01-01T00:00:00Z"),
        check=False,
    )
    assert split_feed_failure(later.stderr)[0]["response"]["result"] == {
        "error": "stopDate parameter '2031-01-01T00:00:00Z' must be greater than the "
        "startDate parameter '2031-02-01T00:00:00Z'"
    }
    assert wsk("trigger", "list").stdout == "triggers\n"


def test_once_then_trigger_and_rules_deleted(wsk: Wsk, api: httpx.Client, tmp_path: Path) -> None:
    echo_action(wsk, tmp_path)
    # Far enough ahead that the trigger and the rule exist by then on a loaded machine.
    when = datetime.fromtimestamp(time.time() + 12, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    wsk(
        *("trigger", "create", "soon", "--feed", "/whisk.system/alarms/once"),
        *("-p", "date", when, "-p", "deleteAfterFire", "rules"),
        *("-p", "trigger_payload", "the talk"),
    )
    wsk("rule", "create", "once-r", "soon", "echo")
    wait_until(lambda: records(api, "echo"), "the one echo", until=lambda rs: len(rs) == 1)
    assert records(api, "echo")[0]["response"]["result"]["payload"] == "the talk"
    wait_until(
        lambda: api.get("/namespaces/_/triggers/soon").status_code,
        "the once trigger deleted after its fire",
        until=lambda status: status == 404,
    )
    assert api.get("/namespaces/_/rules/once-r").status_code == 404
    assert wsk("trigger", "list").stdout == "triggers\n"


def test_aws_schedule_expressions_through_wsk(wsk: Wsk, api: httpx.Client) -> None:
    """The talk's `schedule: cron(0 */2 * * ? *)` as the alarm's cron; EventBridge's refusals."""
    created = wsk(
        *("trigger", "create", "every-2h", "--feed", "/whisk.system/alarms/alarm"),
        *("-p", "cron", "cron(0 */2 * * ? *)"),
    )
    assert created.stdout.endswith("ok: created trigger every-2h\n")
    answer = feed_answer(wsk("trigger", "get", "every-2h"))
    assert answer["config"]["cron"] == "cron(0 */2 * * ? *)"
    assert answer["status"]["active"] is True
    for expr, reason in (
        ("cron(0 */2 * * * *)", "exactly one of Day-of-month and Day-of-week must be '?'"),
        ("rate(1 minutes)", "the unit is singular for 1 and plural otherwise"),
    ):
        failed = wsk(
            *("trigger", "create", "bad", "--feed", "/whisk.system/alarms/alarm"),
            *("-p", "cron", expr),
            check=False,
        )
        assert failed.returncode != 0
        activation, message = split_feed_failure(failed.stderr)
        error = activation["response"]["result"]["error"]
        assert error.startswith(f"cron pattern '{expr}' is not valid: ") and reason in error
        assert message.endswith(f"The following application error was received: {error}")
    assert api.get("/namespaces/_/triggers/bad").status_code == 404
