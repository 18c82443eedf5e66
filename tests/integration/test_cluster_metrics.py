"""In a cluster every process answers its own scrape: a `pywhisk controller` on its API
port (the invokers' health as it sees them, what it awaits) and a `pywhisk invoker` on
`--metrics-port` (what it ran), both on a real Kafka-protocol broker; and an invoker whose
metrics port is taken does not start."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.kafka import TansuBroker, tansu
from tests.support.metrics import operator, scrape, value
from tests.support.polling import wait_until
from tests.support.server import create_namespace, free_port

__all__ = ["tansu"]

TOKEN = "cluster-scrape-token"


@pytest.fixture
def cluster(tmp_path: Path, tansu: TansuBroker) -> Iterator[Cluster]:
    cluster = Cluster(
        tmp_path,
        f"sqlite:///{tmp_path / 'pywhisk.db'}",
        tansu.url,
        env={"PYWHISK_METRICS_TOKEN": TOKEN},
    )
    try:
        yield cluster
    finally:
        cluster.stop()


def test_controller_and_invoker_each_serve_their_figures(cluster: Cluster) -> None:
    port = free_port()
    cluster.start_controller()
    cluster.env["PYWHISK_METRICS_PORT"] = str(port)
    cluster.start_invoker(0)
    cluster.wait_for_controller()
    cluster.wait_for_invokers({"invoker0": "up"})
    identity = create_namespace(cluster.store_url, "counted")
    with httpx.Client(
        base_url=f"{cluster.url}/api/v1/namespaces/_",
        auth=(identity.uuid, identity.key),
        timeout=60,
    ) as api:
        code = {"kind": "python:3", "code": "def main(a):\n    return a\n"}
        assert api.put("/actions/echo", json={"exec": code}).status_code == 200
        for n in range(2):
            answer = api.post("/actions/echo?blocking=true&result=true", json={"n": n})
            assert answer.json() == {"n": n}

    bearer = {"Authorization": f"Bearer {TOKEN}"}
    invoker_url = f"http://127.0.0.1:{port}/metrics"
    ran = scrape(invoker_url, headers=bearer)
    labels = {"namespace": "counted", "initiator": "counted", "action": "echo"}
    assert value(ran, "openwhisk_action_activations_total", **labels) == 2
    assert value(ran, "openwhisk_action_coldStarts_total", **labels) == 1
    assert value(ran, "pywhisk_containers", invoker="invoker0", state="busy") == 0
    # The store as the invoker uses it: the action fetched once, each record written.
    assert value(ran, "pywhisk_store_seconds_count", operation="entity_get") == 1
    assert value(ran, "pywhisk_store_seconds_count", operation="activation_put") == 2

    seen = scrape(f"{cluster.url}/metrics", headers=bearer)
    assert value(seen, "pywhisk_invoker_health", invoker="invoker0", state="up") == 1
    assert value(seen, "pywhisk_invoker_health", invoker="invoker0", state="down") == 0
    assert value(seen, "pywhisk_controller_activations_in_flight") == 0
    assert value(seen, "pywhisk_queue_seconds_count", topic="completed") == 2
    # The controller ran nothing itself: the invoker's series are the invoker's alone.
    assert value(seen, "openwhisk_action_activations_total") == 0
    # The store as the controller uses it: the caller's key looked up, the action written
    # and read back on its first invoke.
    for operation in ("subject_get", "entity_put", "entity_get"):
        assert value(seen, "pywhisk_store_seconds_count", operation=operation) >= 1, operation

    # The invoker's port asks for the operator too, and knows only /metrics.
    assert httpx.get(invoker_url, timeout=10).status_code == 401
    system = operator(cluster.store_url)
    assert scrape(invoker_url, auth=(system.uuid, system.key))
    assert httpx.get(invoker_url, auth=(identity.uuid, identity.key), timeout=10).status_code == 401
    missing = httpx.get(f"http://127.0.0.1:{port}/other", headers=bearer, timeout=10)
    assert missing.status_code == 404
    assert missing.json()["code"] == 404


def test_an_invoker_whose_metrics_port_is_taken_does_not_start(
    cluster: Cluster, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "pywhisk.deploy.commands", "invoker", "--id", "5"]
        command += ["--metrics-port", str(port), *cluster.backends()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Error: cannot serve metrics on 127.0.0.1:{port}")


def test_usage_is_the_same_from_every_controller(cluster: Cluster) -> None:
    other = cluster.start_controller(1, of=2)
    cluster.start_controller(0, of=2)
    cluster.start_invoker(0)
    cluster.wait_for_controller()
    cluster.wait_for_invokers({"invoker0": "up"})
    wait_until(
        lambda: httpx.get(f"{other}/invokers", timeout=1).json(),
        "the second controller to answer and see the invoker",
        until=lambda seen: seen == {"invoker0": "up"},
        ignoring=(httpx.TransportError,),
        details=cluster.logs,
    )
    identity = create_namespace(cluster.store_url, "shared")
    auth = (identity.uuid, identity.key)
    code = {"kind": "python:3", "code": "def main(a):\n    return a\n"}
    with httpx.Client(base_url=f"{cluster.url}/api/v1/namespaces/_", auth=auth, timeout=60) as one:
        assert one.put("/actions/echo", json={"exec": code}).status_code == 200
        for url in (cluster.url, other, other):  # through both controllers
            answer = httpx.post(
                f"{url}/api/v1/namespaces/_/actions/echo?blocking=true", auth=auth, timeout=60
            )
            assert answer.status_code == 200, answer.text
        time.sleep(0.5)  # the records are written after the answers
        records = one.get("/activations", params={"docs": "true"}).json()
    expected_mb_ms = sum(
        next(a["value"]["memory"] for a in r["annotations"] if a["key"] == "limits") * r["duration"]
        for r in records
    )
    answers = [
        httpx.get(f"{url}/api/v1/namespaces/_/usage", auth=auth, timeout=10).json()
        for url in (cluster.url, other)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["total"]["invocations"] == len(records) == 3
    assert round(answers[0]["total"]["gb_seconds"] * 1024 * 1000) == expected_mb_ms


def test_an_invoker_that_dies_is_reported_down(cluster: Cluster) -> None:
    cluster.start_controller()
    for n in (0, 1):
        cluster.start_invoker(n)
    cluster.wait_for_controller()
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=30)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    before = scrape(f"{cluster.url}/metrics", headers=bearer)
    assert value(before, "pywhisk_invoker_health", invoker="invoker1", state="up") == 1

    # Killed, so it cannot say it is going (a stopping invoker does): no ping for
    # OpenWhisk's 10 s makes it offline, which GET /invokers and the metrics call down.
    cluster.procs.pop("invoker1").stop(signal.SIGKILL)  # the cluster's waits ignore it now
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "down"}, timeout=40)
    after = scrape(f"{cluster.url}/metrics", headers=bearer)
    for invoker, state in (("invoker0", "up"), ("invoker1", "down")):
        assert value(after, "pywhisk_invoker_health", invoker=invoker, state=state) == 1
        others = [s for s in ("up", "down", "unhealthy", "unresponsive") if s != state]
        for other in others:
            assert value(after, "pywhisk_invoker_health", invoker=invoker, state=other) == 0
