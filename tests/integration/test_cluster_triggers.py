"""Triggers, rules and webhooks in the cluster preset: two `pywhisk controller`s and an
invoker as real processes on pouchdb-server and tansu. What one controller writes (a rule
disabled, a webhook revoked) holds at once on the other: firing reads the trigger from the
store, never from a controller's cache."""

from __future__ import annotations

import itertools
import json
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
_prefixes = itertools.count()


@pytest.fixture
def cluster(
    tmp_path: Path, tansu: TansuBroker, couchdb_server: PouchDBServer
) -> Iterator[tuple[Cluster, str]]:
    """The cluster, and the URL of its second controller."""
    prefix = f"triggers{next(_prefixes)}_"
    cluster = Cluster(tmp_path, couchdb_server.store_url(prefix), tansu.url)
    try:
        cluster.start_controller(0, of=2)
        second = cluster.start_controller(1, of=2)
        cluster.start_invoker(0)
        cluster.wait_for_controller()
        cluster.wait_for_invokers({"invoker0": "up"}, timeout=30)
        yield cluster, second
    finally:
        cluster.stop()
        couchdb_server.drop_databases(prefix)


def wait_for(api: httpx.Client, activation_id: str) -> dict[str, Any]:
    """The activation's record, once stored."""
    found = wait_until(
        lambda: api.get(f"/activations/{activation_id}"),
        f"the record of {activation_id}",
        interval=0.2,
        until=lambda r: r.status_code == 200,
    )
    return found.json()  # type: ignore[no-any-return]


def ran(api: httpx.Client, fired: httpx.Response) -> dict[str, Any]:
    assert fired.status_code == 202, fired.text
    record = wait_for(api, fired.json()["activationId"])
    (line,) = [json.loads(x) for x in record["logs"]]
    return wait_for(api, line["activationId"])["response"]["result"]  # type: ignore[no-any-return]


def test_a_write_on_one_controller_holds_on_the_other(cluster: tuple[Cluster, str]) -> None:
    one, second = cluster
    owner = create_namespace(one.store_url, "owner", invocationsPerMinute=100_000)
    auth = tuple(owner.auth.split(":", 1))
    a = httpx.Client(base_url=f"{one.url}/api/v1/namespaces/_", auth=auth, timeout=60)  # type: ignore[arg-type]
    b = httpx.Client(base_url=f"{second}/api/v1/namespaces/_", auth=auth, timeout=60)  # type: ignore[arg-type]
    with a, b:
        assert (
            a.put("/actions/echo", json={"exec": {"kind": "python:3", "code": ECHO}}).status_code
            == 200
        )
        assert (
            a.put("/triggers/t", json={"parameters": [{"key": "p", "value": 1}]}).status_code == 200
        )
        assert a.put("/rules/r", json={"trigger": "/_/t", "action": "/_/echo"}).status_code == 200

        assert ran(a, b.post("/triggers/t", json={"via": "b"}))["via"] == "b"
        assert a.post("/rules/r", json={"status": "inactive"}).status_code == 200
        assert b.post("/triggers/t", json={}).status_code == 204
        assert b.post("/rules/r", json={"status": "active"}).status_code == 200
        assert ran(b, a.post("/triggers/t", json={"via": "a"}))["via"] == "a"

        made = a.post("/triggers/t/webhook").json()
        with httpx.Client(timeout=30) as outside:
            assert ran(a, outside.post(second + made["path"], json={"hook": 1}))["hook"] == 1
            assert a.delete("/triggers/t/webhook").status_code == 200
            assert outside.post(second + made["path"], json={}).status_code == 401
