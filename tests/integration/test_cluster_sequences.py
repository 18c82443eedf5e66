"""Sequences in the cluster preset: a `pywhisk controller` and a `pywhisk invoker` on a real
Kafka-protocol broker (tansu), components running through `invoker0` and back over
`completed0`. A controller stopped (SIGTERM) while a blocking caller waits on a sequence
answers that caller 202 at once, lets the sequence finish, and its record is there once a
controller is back."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.kafka import TansuBroker, tansu
from tests.support.polling import wait_until
from tests.support.server import create_namespace

__all__ = ["tansu"]  # the fixture the cluster fixture uses

STEP = "def main(args):\n    return {'n': args.get('n', 0) + 1}\n"
NAP = "import time\ndef main(args):\n    time.sleep(3)\n    return {'n': args['n'] + 1}\n"


@pytest.fixture
def cluster(tmp_path: Path, tansu: TansuBroker) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, f"sqlite:///{tmp_path / 'pywhisk.db'}", tansu.url)
    try:
        cluster.start_controller()
        cluster.start_invoker(0)
        cluster.wait_for_controller()
        cluster.wait_for_invokers({"invoker0": "up"})
        yield cluster
    finally:
        cluster.stop()


def client(cluster: Cluster, auth: str) -> httpx.Client:
    uuid, _, key = auth.partition(":")
    return httpx.Client(base_url=f"{cluster.url}/api/v1/namespaces/_", auth=(uuid, key), timeout=60)


def put(api: httpx.Client, name: str, body: dict[str, Any]) -> None:
    r = api.put(f"/actions/{name}", params={"overwrite": "true"}, json=body)
    assert r.status_code == 200, r.text


def test_sequence_through_kafka_and_a_controller_restart(cluster: Cluster) -> None:
    identity = create_namespace(cluster.store_url, "seq", concurrentInvocations=100)
    with client(cluster, identity.auth) as api:
        put(api, "step", {"exec": {"kind": "python:3", "code": STEP}})
        put(api, "nap", {"exec": {"kind": "python:3", "code": NAP}})
        put(api, "fast", {"exec": {"kind": "sequence", "components": ["/_/step"] * 3}})
        put(
            api,
            "slow",
            {"exec": {"kind": "sequence", "components": ["/_/step", "/_/nap", "/_/step"]}},
        )

        r = api.post("/actions/fast", params={"blocking": "true"}, json={"n": 10})
        assert r.status_code == 200, (r.text, cluster.logs())
        assert r.json()["response"]["result"] == {"n": 13}
        assert len(r.json()["logs"]) == 3

        answers: list[httpx.Response] = []
        caller = threading.Thread(
            target=lambda: answers.append(
                api.post("/actions/slow", params={"blocking": "true"}, json={"n": 0})
            )
        )
        caller.start()
        # `nap` runs once the slow sequence's first `step` is recorded (the fast one ran 3)
        steps = {"name": "step", "count": "true"}
        wait_until(
            lambda: api.get("/activations", params=steps).json()["activations"],
            "the slow sequence's first step recorded (4 steps in all)",
            interval=0.05,
            until=lambda count: count >= 4,
            details=cluster.logs,
        )
        stopping = time.monotonic()
        cluster.procs["controller"].stop(signal.SIGTERM)
        caller.join(30)
        # the caller was let go at the signal, not after the sequence's remaining seconds
        (answer,) = answers
        assert answer.status_code == 202, answer.text
        activation_id = answer.json()["activationId"]
        assert time.monotonic() - stopping < 15

    cluster.start_controller()
    cluster.wait_for_controller()
    with client(cluster, identity.auth) as api:
        r = api.get(f"/activations/{activation_id}")
        assert r.status_code == 200, (r.text, cluster.logs())
        seq = r.json()
    assert seq["response"]["result"] == {"n": 3}
    assert len(seq["logs"]) == 3
