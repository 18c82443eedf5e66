"""Feeds in the cluster preset: two `pywhisk controller`s and an invoker as real processes on
pouchdb-server and tansu. Both controllers run the alarm scheduler; each due time is fired
once, whichever controller claims it, and the rule's action runs once per fire. (Two
claims racing at one moment are tested with the scheduler itself, on CouchDB too:
tests/integration/test_alarm_scheduler.py.)"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.couchdb import PouchDBServer, couchdb_server
from tests.support.kafka import TansuBroker, tansu
from tests.support.polling import wait_until
from tests.support.server import create_namespace

__all__ = ["couchdb_server", "tansu"]

ECHO = "def main(args):\n    return args\n"
PERIOD = 2  # seconds between two alarms
_prefixes = itertools.count()


@pytest.fixture
def cluster(tmp_path: Path, tansu: TansuBroker, couchdb_server: PouchDBServer) -> Iterator[Cluster]:
    prefix = f"feeds{next(_prefixes)}_"
    cluster = Cluster(tmp_path, couchdb_server.store_url(prefix), tansu.url)
    # The feed action calls the API at __OW_API_HOST: controller 0.
    cluster.env["PYWHISK_API_HOST"] = cluster.url
    try:
        cluster.start_controller(0, of=2)
        cluster.start_controller(1, of=2)
        cluster.start_invoker(0)
        cluster.wait_for_controller()
        cluster.wait_for_invokers({"invoker0": "up"}, timeout=30)
        yield cluster
    finally:
        cluster.stop()
        couchdb_server.drop_databases(prefix)


def records(api: httpx.Client, name: str) -> list[dict[str, Any]]:
    r = api.get("/activations", params={"name": name, "limit": 200})
    assert r.status_code == 200, r.text
    return list(r.json())


def test_two_controllers_fire_each_due_time_once(cluster: Cluster) -> None:
    owner = create_namespace(cluster.store_url, "feeds", invocationsPerMinute=100_000)
    auth = tuple(owner.auth.split(":", 1))
    with httpx.Client(
        base_url=f"{cluster.url}/api/v1/namespaces/_",
        auth=auth,  # type: ignore[arg-type]
        timeout=60,
    ) as api:
        r = api.put("/actions/echo", json={"exec": {"kind": "python:3", "code": ECHO}})
        assert r.status_code == 200, r.text
        feed = [{"key": "feed", "value": "/whisk.system/alarms/alarm"}]
        assert api.put("/triggers/tick", json={"annotations": feed}).status_code == 200
        rule = {"trigger": "/_/tick", "action": "/_/echo"}
        assert api.put("/rules/tick-echo", json=rule).status_code == 200
        time.sleep((1.0 - time.time() % PERIOD) % PERIOD)  # midway between two due times
        began = time.time()
        alarm = f"{cluster.url}/api/v1/namespaces/whisk.system/actions/alarms/alarm"
        created = api.post(
            alarm,
            params={"blocking": "true", "result": "true"},
            json={
                "lifecycleEvent": "CREATE",
                "triggerName": "/_/tick",
                "authKey": owner.auth,
                "cron": f"*/{PERIOD} * * * * *",
            },
        )
        assert created.json() == {"status": "success"}, created.text
        time.sleep(6 * PERIOD)
        time.sleep((1.0 - time.time() % PERIOD) % PERIOD)
        deleted = api.post(
            alarm,
            params={"blocking": "true", "result": "true"},
            json={"lifecycleEvent": "DELETE", "triggerName": "/_/tick", "authKey": owner.auth},
        )
        assert deleted.json() == {"status": "success"}, deleted.text
        ended = time.time()
        due = [t for t in range(int(began) + 1, int(ended) + 1) if t % PERIOD == 0]
        wait_until(
            lambda: records(api, "echo"),
            f"an echo of each of the {len(due)} due times",
            interval=0.3,
            until=lambda echoes: len(echoes) >= len(due),
            details=cluster.logs,
        )
        time.sleep(2)
        fired = sorted(r["start"] / 1000 for r in records(api, "tick"))
        assert len(fired) == len(due), (fired, due, cluster.logs())
        assert all(0 <= f - d < PERIOD for f, d in zip(fired, due, strict=True)), (fired, due)
        assert len(records(api, "echo")) == len(due)
