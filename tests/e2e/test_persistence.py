"""A stopped and restarted standalone server still has every action and activation."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.server import StandaloneServer


def test_restart_keeps_actions_and_activations(tmp_path: Path) -> None:
    server = StandaloneServer(tmp_path / "data")
    server.start()
    ns = server.create_namespace("keeper", invocationsPerMinute=1000)
    uuid, _, key = ns.auth.partition(":")
    try:
        with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60) as api:
            code = {
                "kind": "python:3.11",
                "code": "def main(a):\n    print('kept')\n    return {'n': a.get('n')}\n",
            }
            assert api.put("/namespaces/_/actions/keep", json={"exec": code}).status_code == 200
            ids = [
                api.post("/namespaces/_/actions/keep?blocking=true", json={"n": i}).json()[
                    "activationId"
                ]
                for i in range(3)
            ]
            # The last non-blocking one may still be running while we stop: it must not be lost.
            ids.append(api.post("/namespaces/_/actions/keep", json={"n": 3}).json()["activationId"])
            time.sleep(0.5)
    finally:
        assert server.stop() == 0, server.log()

    server.start()
    try:
        with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60) as api:
            assert (
                api.get("/namespaces/_/actions/keep").json()["exec"]["code"].startswith("def main")
            )
            listed = {
                a["activationId"] for a in api.get("/namespaces/_/activations?limit=10").json()
            }
            assert set(ids) <= listed
            record = api.get(f"/namespaces/_/activations/{ids[0]}").json()
            assert record["response"]["result"] == {"n": 0}
            assert any(line.endswith("stdout: kept") for line in record["logs"])
            again = api.post("/namespaces/_/actions/keep?blocking=true&result=true", json={"n": 9})
            assert again.json() == {"n": 9}
    finally:
        server.stop()
