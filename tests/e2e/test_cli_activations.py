"""The real `wsk activation` commands against a real standalone server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.polling import wait_until
from tests.support.wsk import Wsk

PRINTER = (
    "def main(args):\n"
    '    print("hi from python", args.get("name", "nobody"))\n'
    '    return {"msg": "done", "name": args.get("name")}\n'
)


@pytest.fixture
def invoked(wsk: Wsk, tmp_path: Path) -> str:
    """A printing action invoked once (blocking); returns the activation id."""
    source = tmp_path / "printer.py"
    source.write_text(PRINTER)
    wsk("action", "create", "printer", str(source))
    header = wsk("action", "invoke", "printer", "-b", "-p", "name", "Ada").stdout.splitlines()[0]
    match = re.fullmatch(r"ok: invoked /_/printer with id ([0-9a-f]{32})", header)
    assert match, header
    activation_id = match.group(1)
    # Activation records are written after the result.
    wait_until(
        lambda: wsk("activation", "get", activation_id, check=False),
        f"wsk activation get {activation_id} to succeed",
        interval=0.2,
        until=lambda done: done.returncode == 0,
    )
    return activation_id


def test_list_shows_the_wsk_table(wsk: Wsk, invoked: str) -> None:
    listed = wait_until(
        lambda: wsk("activation", "list").stdout,
        f"wsk activation list to show {invoked}",
        interval=0.2,
        until=lambda table: invoked in table,
    ).splitlines()
    assert re.fullmatch(
        r"Datetime {12}Activation ID {20}Kind +Start Duration   Status +Entity", listed[0]
    )
    row = next(line for line in listed if invoked in line)
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d {invoked} python:\S+ +(cold|warm) +\d+m?s +success"
        r" +\S+/printer:0\.0\.1",
        row,
    )
    filtered = wsk("activation", "list", "printer", "--limit", "1").stdout
    assert invoked in filtered


def test_get_last(wsk: Wsk, invoked: str) -> None:
    got = wsk("activation", "get", "--last").stdout
    header, body = got.split("\n", 1)
    assert header == f"ok: got activation {invoked}"
    activation = json.loads(body)
    assert list(activation)[:5] == ["namespace", "name", "version", "subject", "activationId"]
    assert activation["name"] == "printer"
    assert activation["statusCode"] == 0
    assert activation["response"] == {
        "status": "success",
        "statusCode": 0,
        "success": True,
        "result": {"msg": "done", "name": "Ada"},
    }


def test_get_field_summary_and_logs(wsk: Wsk, invoked: str) -> None:
    field = wsk("activation", "get", invoked, "name").stdout
    assert field == f'ok: got activation {invoked}, displaying field name\n"printer"\n'
    summary = wsk("activation", "get", invoked, "--summary").stdout
    assert re.match(r"activation result for '/\S+/printer' \(success at \d{4}-", summary)
    assert summary.endswith('{\n    "msg": "done",\n    "name": "Ada"\n}\n')
    assert wsk("activation", "get", invoked, "--logs").stdout == "hi from python Ada\n"


def test_logs_and_result_of_the_last_activation(wsk: Wsk, invoked: str) -> None:
    logs = wsk("activation", "logs", "--last").stdout
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\S+Z\s+stdout: hi from python Ada\n", logs)
    assert wsk("activation", "logs", invoked, "--strip").stdout == "hi from python Ada\n"
    assert wsk("activation", "result", "--last").stdout == (
        '{\n    "msg": "done",\n    "name": "Ada"\n}\n'
    )


def test_poll_prints_new_activations(wsk: Wsk, invoked: str) -> None:
    polled = wsk("activation", "poll", "printer", "--since-seconds", "120", "--exit", "2").stdout
    assert polled.startswith("Enter Ctrl-c to exit.\nPolling for activation logs\n")
    assert f"\nActivation: 'printer' ({invoked})\n[\n    " in polled
    assert "stdout: hi from python Ada" in polled


def test_bad_and_unknown_activation_ids(wsk: Wsk) -> None:
    bad = wsk("activation", "get", "nope", check=False)
    assert bad.returncode == 144  # 400 - 256
    assert bad.stderr.startswith("error: Unable to get activation 'nope': ")
    unknown = wsk("activation", "result", "0" * 32, check=False)
    assert unknown.returncode == 148
    assert "The requested resource does not exist." in unknown.stderr


def test_last_without_activations(wsk: Wsk) -> None:
    none = wsk("activation", "logs", "--last", check=False)
    assert none.returncode == 1
    assert none.stderr == (
        "error: Unable to get logs for activation: Activation list does not contain any "
        "activations.\nRun 'wsk --help' for usage.\n"
    )
