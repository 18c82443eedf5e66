"""Faults in a cluster of real processes: one `pywhisk controller`, two `pywhisk invoker`s
(process containers), tansu as the broker and pouchdb-server as the CouchDB store.

Nothing is lost and nothing hangs: an invoker killed in the middle of 200 invocations
leaves every one with a recorded outcome, only those it was running lost, and every blocking
caller answered within the controller's blocking wait; a restarted controller keeps every
entity and record; a broker restart is survived by reconnecting.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pywhisk.controller.core.tracker import LOST
from tests.support.cluster import Cluster, invoker_of, record
from tests.support.couchdb import PouchDBServer, couchdb_server
from tests.support.kafka import TansuBroker, tansu
from tests.support.polling import wait_until
from tests.support.server import create_namespace

__all__ = ["couchdb_server", "tansu"]  # the fixtures the cluster fixture uses

# Which invoker ran it: a process container's hostname is its name, wsk{N}_{k}.
SLOW_WHO = (
    "import socket, time\n"
    "def main(args):\n"
    "    time.sleep(0.3)\n"
    "    return {'home': socket.gethostname(), 'n': args.get('n')}\n"
)
ACTION_TIMEOUT = 15.0  # s, the actions' limit
# A blocking caller gets its answer, or a 202 with the activation id, within the controller's
# blocking wait; one whose activation moved off the killed invoker waits for the 10 s health
# window and the survivor's queue, so the action's timeout alone no longer bounds it.
BLOCKING_WAIT = 60.0
MARGIN = 5.0
NAMES = [f"who{i}" for i in range(8)]
_prefixes = itertools.count()


@pytest.fixture
def cluster(tmp_path: Path, tansu: TansuBroker, couchdb_server: PouchDBServer) -> Iterator[Cluster]:
    prefix = f"faults{next(_prefixes)}_"
    cluster = Cluster(
        tmp_path,
        couchdb_server.store_url(prefix),
        tansu.url,
        # 8 containers of 128 MB per invoker: enough to overlap, few enough for 2 cores. By
        # reservation (the former pool policy), so no more than 8 run on the one killed.
        env={"PYWHISK_USER_MEMORY": "1024", "PYWHISK_CONTAINERS_URL": "process://?pool=former"},
    )
    try:
        cluster.start_controller()
        for n in (0, 1):
            cluster.start_invoker(n)
        cluster.wait_for_controller()
        cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=30)
        yield cluster
    finally:
        cluster.stop()
        couchdb_server.drop_databases(prefix)


@pytest.fixture
def api(cluster: Cluster) -> Iterator[httpx.Client]:
    identity = create_namespace(
        cluster.store_url, "faults", invocationsPerMinute=100_000, concurrentInvocations=1_000
    )
    with httpx.Client(
        base_url=f"{cluster.url}/api/v1/namespaces/_",
        auth=tuple(identity.auth.split(":", 1)),  # type: ignore[arg-type]
        timeout=120,
    ) as client:
        for name in NAMES:
            r = client.put(
                f"/actions/{name}",
                json={
                    "exec": {"kind": "python:3", "code": SLOW_WHO},
                    "limits": {"memory": 128, "timeout": int(ACTION_TIMEOUT * 1000)},
                },
            )
            assert r.status_code == 200, r.text
        yield client


@dataclass
class Call:
    n: int
    blocking: bool
    status: int = 0
    activation_id: str = ""
    seconds: float = 0.0


def call(api: httpx.Client, n: int, blocking: bool) -> Call:
    started = time.monotonic()
    r = api.post(
        f"/actions/{NAMES[n % len(NAMES)]}",
        params={"blocking": str(blocking).lower()},
        json={"n": n},
    )
    done = Call(n, blocking, r.status_code, r.headers.get("x-openwhisk-activation-id", ""))
    done.seconds = time.monotonic() - started
    return done


def test_an_invoker_killed_under_load_leaves_every_activation_with_an_outcome(
    cluster: Cluster, api: httpx.Client
) -> None:
    # Warm both invokers' containers a little, and learn each action's home.
    homes = {}
    for name in NAMES:
        r = api.post(f"/actions/{name}", params={"blocking": "true", "result": "true"})
        assert r.status_code == 200, (r.text, cluster.logs())
        homes[name] = invoker_of(r.json())
    assert set(homes.values()) == {0, 1}, homes
    victim, survivor = 0, 1

    answered = threading.Semaphore(0)
    calls: list[Call] = []

    def one(n: int) -> Call:
        try:
            return call(api, n, blocking=n % 2 == 0)
        finally:
            answered.release()

    with ThreadPoolExecutor(max_workers=24) as pool:
        futures = [pool.submit(one, n) for n in range(200)]
        for _ in range(50):  # a quarter answered: the rest is queued or running
            answered.acquire()
        cluster.procs[f"invoker{victim}"].stop(signal.SIGKILL)
        calls = [f.result() for f in futures]

    blocking = [c for c in calls if c.blocking]
    assert {c.status for c in calls if not c.blocking} == {202}
    assert {c.status for c in blocking} <= {200, 500}, [c for c in blocking if c.status >= 500]
    slowest = max(c.seconds for c in blocking)
    assert slowest <= BLOCKING_WAIT + MARGIN, (slowest, cluster.logs())

    outcomes: dict[str, int] = {}
    reasons: list[Any] = []
    deadline = time.monotonic() + 30
    for c in calls:
        assert c.activation_id, c
        doc = record(api, c.activation_id, deadline)
        status = doc["response"]["status"]
        outcomes[status] = outcomes.get(status, 0) + 1
        if status != "success":
            reasons.append(doc["response"]["result"])
        if c.blocking:  # the caller was told what is recorded
            assert (c.status == 200) == (status == "success"), (c, doc)
    assert set(outcomes) <= {"success", "whisk internal error"}, outcomes
    assert sum(outcomes.values()) == 200
    # Only what was running on the victim is lost (8 containers of 128 MB); what waited
    # there runs on the survivor (tests/integration/test_cluster_reroute.py counts runs).
    # Nothing else fails: the survivor's own work, and what it took over, all succeed.
    lost = [r for r in reasons if r == {"error": LOST}]
    assert len(lost) == len(reasons) <= 8, (outcomes, reasons, cluster.logs())
    print(f"outcomes after killing invoker{victim}: {outcomes}; slowest answer {slowest:.1f} s")

    # New work runs on the survivor, the victim's home actions included.
    for name in NAMES:
        r = api.post(f"/actions/{name}", params={"blocking": "true", "result": "true"})
        assert r.status_code == 200 and invoker_of(r.json()) == survivor, r.text

    # Restarted, the victim rejoins, and does not run what was already answered as lost:
    # those records stay whisk internal errors.
    lost = [
        c.activation_id
        for c in calls
        if record(api, c.activation_id, deadline)["response"]["status"] != "success"
    ]
    cluster.start_invoker(victim)
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=30)
    time.sleep(3)
    for activation_id in lost:
        doc = record(api, activation_id, deadline)
        assert doc["response"]["status"] == "whisk internal error", doc
    r = api.post(f"/actions/{NAMES[0]}", params={"blocking": "true", "result": "true"})
    assert r.status_code == 200, r.text


def test_a_restarted_controller_keeps_every_entity_and_record(
    cluster: Cluster, api: httpx.Client
) -> None:
    ids = []
    for n in range(12):
        c = call(api, n, blocking=n % 2 == 0)
        assert c.status in (200, 202), c
        ids.append(c.activation_id)
    # One still running while the controller restarts: its invoker records it anyway.
    slow = api.put(
        "/actions/slow",
        json={"exec": {"kind": "python:3", "code": SLOW_WHO.replace("0.3", "3")}},
    )
    assert slow.status_code == 200, slow.text
    r = api.post("/actions/slow", json={"n": "in flight"})
    assert r.status_code == 202, r.text
    ids.append(r.json()["activationId"])

    cluster.procs["controller"].stop(signal.SIGTERM)
    cluster.start_controller()
    cluster.wait_for_controller()
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=30)

    listed = api.get("/actions", params={"limit": 0}).json()
    assert sorted(a["name"] for a in listed) == sorted([*NAMES, "slow"])
    deadline = time.monotonic() + 20
    results = [record(api, i, deadline)["response"] for i in ids]
    assert all(r["status"] == "success" for r in results), results
    assert results[-1]["result"]["n"] == "in flight"
    r = api.post(f"/actions/{NAMES[3]}", params={"blocking": "true", "result": "true"})
    assert r.status_code == 200 and r.json()["n"] is None, r.text


def test_a_broker_restart_is_survived(
    cluster: Cluster, api: httpx.Client, tansu: TansuBroker
) -> None:
    r = api.post(f"/actions/{NAMES[0]}", params={"blocking": "true", "result": "true"})
    assert r.status_code == 200, r.text

    tansu.stop()
    tansu.start()  # tansu keeps nothing: topics, offsets and groups start again empty

    # Producers and consumers reconnect, pings flow again, and invokes are answered.
    r = wait_until(
        lambda: api.post(
            f"/actions/{NAMES[0]}",
            params={"blocking": "true", "result": "true"},
            json={"n": "after"},
            timeout=5,
        ),
        "an invoke answered after the broker's restart",
        timeout=60,
        interval=0.5,
        until=lambda r: r.status_code == 200,
        ignoring=(httpx.TimeoutException,),
        details=cluster.logs,
    )
    assert r.json()["n"] == "after"
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=30)
    for name in NAMES:
        r = api.post(f"/actions/{name}", params={"blocking": "true", "result": "true"})
        assert r.status_code == 200, (name, r.text, cluster.logs())
