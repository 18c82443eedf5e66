"""A standalone server stopped (SIGTERM) right after answering a fire keeps everything the
fire started: the trigger's record, one line per rule, and a record for every action the
rules invoked (a sequence among them, started while the controller drains). Read back
after a restart, from the SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support.rest import put_action, put_sequence, wait_for_record
from tests.support.server import StandaloneServer

QUICK = "def main(args):\n    return {'n': args.get('n', 0) + 1}\n"
RULES = 12


def test_a_fire_answered_before_the_stop_is_recorded_whole(tmp_path: Path) -> None:
    server = StandaloneServer(tmp_path / "data")
    server.start()
    try:
        identity = server.create_namespace("firing", concurrentInvocations=100)
        uuid, _, key = identity.auth.partition(":")
        api = httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60)
        with api:
            put_action(api, "quick", QUICK)
            assert put_sequence(api, "twice", ["/_/quick", "/_/quick"]).status_code == 200
            api.put("/namespaces/_/triggers/t", json={})
            for i in range(RULES):
                action = "/_/twice" if i == 0 else "/_/quick"
                r = api.put(f"/namespaces/_/rules/r{i}", json={"trigger": "/_/t", "action": action})
                assert r.status_code == 200, r.text
            fired = api.post("/namespaces/_/triggers/t", json={"n": 1})
            assert fired.status_code == 202
            trigger_id = fired.json()["activationId"]
        assert server.stop() == 0, server.log()
        server.start()
        with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60) as api:
            record = wait_for_record(api, trigger_id, timeout=5)
            lines = [json.loads(line) for line in record["logs"]]
            assert len(lines) == RULES
            assert all(line["success"] for line in lines), lines
            results = [
                wait_for_record(api, line["activationId"], timeout=5)["response"] for line in lines
            ]
    finally:
        server.stop()
    assert all(r["status"] == "success" for r in results), results
    assert sorted(r["result"]["n"] for r in results) == [2] * (RULES - 1) + [3]
