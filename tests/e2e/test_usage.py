"""Usage in GB-seconds from a real standalone server, checked against the activation records
themselves (summed here from `wsk activation list` and the records' own memory and duration)
before and after a restart, through the API and the real `wsk namespace usage`."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import StandaloneServer

PRICE = 0.0000166667
SLOW = "import time\ndef main(a):\n    time.sleep(0.05)\n    return {'n': a.get('n')}\n"
FAIL = "def main(a):\n    return {'error': 'no'}\n"


def from_records(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the records add up to, per action name, computed independently of the server."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        notes = {a["key"]: a["value"] for a in r["annotations"]}
        if "end" not in r or notes.get("kind") == "sequence":
            continue
        name = notes["path"].partition("/")[2]
        row = out.setdefault(name, {"invocations": 0, "mb_ms": 0, "cold_starts": 0, "errors": 0})
        row["invocations"] += 1
        row["mb_ms"] += notes["limits"]["memory"] * r["duration"]
        row["cold_starts"] += "initTime" in notes
        row["errors"] += r["statusCode"] != 0
    return out


def as_records(usage: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["name"]: {
            "invocations": a["invocations"],
            "mb_ms": round(a["gb_seconds"] * 1024 * 1000),
            "cold_starts": a["cold_starts"],
            "errors": a["errors"],
        }
        for a in usage["actions"]
    }


def listed_ids(wsk: Any) -> set[str]:
    out = wsk("activation", "list", "--limit", "200").stdout.splitlines()[1:]
    return {line.split()[2] for line in out if line.strip()}


def test_usage_agrees_with_the_records_across_a_restart(tmp_path: Path) -> None:
    server = StandaloneServer(tmp_path / "server", env={"PYWHISK_PRICE_PER_GB_SECOND": str(PRICE)})
    server.start()
    ns = server.create_namespace("billed", invocationsPerMinute=1000)
    props = tmp_path / "wskprops"
    props.write_text(f"APIHOST={server.url}\nAUTH={ns.auth}\n")
    env = {**os.environ, "WSK_CONFIG_FILE": str(props)}
    executable = shutil.which("wsk")
    assert executable

    def wsk(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [executable, *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done

    def api() -> httpx.Client:
        return httpx.Client(
            base_url=f"{server.url}/api/v1/namespaces/_", auth=(ns.uuid, ns.key), timeout=60
        )

    def records() -> list[dict[str, Any]]:
        with api() as client:
            found = client.get("/activations", params={"docs": "true", "limit": 200}).json()
        assert {r["activationId"] for r in found} == listed_ids(wsk)  # what wsk lists
        summaries = {r["activationId"]: r for r in client_summaries()}
        return [{**r, "statusCode": summaries[r["activationId"]]["statusCode"]} for r in found]

    def client_summaries() -> list[dict[str, Any]]:
        with api() as client:
            return client.get("/activations", params={"limit": 200}).json()  # type: ignore[no-any-return]

    def usage(**params: int) -> dict[str, Any]:
        with api() as client:
            answer = client.get("/usage", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    try:
        with api() as client:
            for name, code, memory in (("slow", SLOW, 128), ("fail", FAIL, 256)):
                action = {
                    "exec": {"kind": "python:3.11", "code": code},
                    "limits": {"memory": memory},
                }
                assert client.put(f"/actions/{name}", json=action).status_code == 200
            assert client.put("/packages/tools", json={}).status_code == 200
            action = {"exec": {"kind": "python:3.11", "code": SLOW}, "limits": {"memory": 512}}
            assert client.put("/actions/tools/slow", json=action).status_code == 200
            for n in range(3):
                client.post("/actions/slow?blocking=true", json={"n": n})
            client.post("/actions/fail?blocking=true")
            client.post("/actions/tools/slow?blocking=true")
            sequence = {"exec": {"kind": "sequence", "components": ["/billed/slow"]}}
            assert client.put("/actions/both", json=sequence).status_code == 200
            assert client.post("/actions/both?blocking=true").status_code == 200
        time.sleep(0.5)  # records are written after the answers
        before = records()
        expected = from_records(before)
        assert set(expected) == {"slow", "fail", "tools/slow"}
        assert expected["slow"]["invocations"] == 4  # three direct, one in the sequence
        first = usage()
        assert as_records(first) == expected
        assert first["total"]["invocations"] == 6
        assert first["price_per_gb_second"] == PRICE
        gb_s = first["total"]["gb_seconds"]
        assert gb_s == pytest.approx(sum(r["mb_ms"] for r in expected.values()) / 1024 / 1000)
        assert first["total"]["cost"] == pytest.approx(gb_s * PRICE)

        # The same through wsk: one row per action and the total, the cost column priced.
        table = wsk("namespace", "usage").stdout.splitlines()
        assert table[1].split() == [
            "action",
            "invocations",
            "GB-seconds",
            "cold",
            "starts",
            "errors",
            "cost",
        ]
        rows = {line.split()[0]: line.split() for line in table[2:]}
        slow = next(a for a in first["actions"] if a["name"] == "slow")
        assert rows["slow"][1:5] == ["4", f"{slow['gb_seconds']:.6f}", "1", "0"]
        assert rows["slow"][5] == f"{slow['cost']:.8f}"
        assert rows["total"][1] == "6" and rows["total"][4] == "1"  # one error in all
    finally:
        assert server.stop() == 0, server.log()

    server.start()
    try:
        assert usage() == first  # from the records, so a restart changes nothing
        with api() as client:
            client.post("/actions/fail?blocking=true")
        time.sleep(0.5)
        after = usage()
        assert as_records(after) == from_records(records())
        assert after["total"]["errors"] == 2
        # A window: only what started within it.
        latest = max(r["start"] for r in records())
        window = usage(since=latest, upto=latest + 60_000)
        assert window["total"]["invocations"] == 1 and window["actions"][0]["name"] == "fail"
        assert window["since"] == latest
        since = wsk("namespace", "usage", "--since", str(latest)).stdout.splitlines()
        assert since[-1].split()[:2] == ["total", "1"]
    finally:
        server.stop()


def test_usage_refuses_what_it_cannot_answer(tmp_path: Path) -> None:
    server = StandaloneServer(tmp_path / "server")
    server.start()
    try:
        one, other = server.create_namespace("one"), server.create_namespace("other")
        base = f"{server.url}/api/v1/namespaces"
        assert httpx.get(f"{base}/_/usage", timeout=10).status_code == 401
        theirs = httpx.get(f"{base}/other/usage", auth=(one.uuid, one.key), timeout=10)
        assert theirs.status_code == 403
        for params in ({"since": "yesterday"}, {"since": "20", "upto": "10"}):
            bad = httpx.get(f"{base}/_/usage", params=params, auth=(one.uuid, one.key), timeout=10)
            assert bad.status_code == 400, params
            assert set(bad.json()) == {"error", "code"}
        empty = httpx.get(f"{base}/_/usage", auth=(other.uuid, other.key), timeout=10).json()
        assert empty["actions"] == [] and empty["total"]["invocations"] == 0
        assert "cost" not in empty["total"]  # no price configured
    finally:
        server.stop()
