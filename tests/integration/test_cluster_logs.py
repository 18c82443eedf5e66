"""A cluster's processes each write their own logs about the activations they handle: a
`pywhisk controller` in JSON lines and a `pywhisk invoker` in text, on a real Kafka-protocol
broker. In JSON, every line on the controller's stderr is one (its "is ready" banner too),
as a log shipper reading `docker logs` needs. The transaction id the caller sent reaches the
invoker in the activation message, so the invoker's line about the activation carries it as
OpenWhisk's `[#tid_…]` lines do."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support.cluster import Cluster
from tests.support.kafka import TansuBroker, tansu
from tests.support.server import create_namespace

__all__ = ["tansu"]

TRANSID = "tid-cluster-logs-1"


def test_controller_and_invoker_log_the_activation_with_its_ids(
    tmp_path: Path, tansu: TansuBroker
) -> None:
    cluster = Cluster(
        tmp_path,
        f"sqlite:///{tmp_path / 'pywhisk.db'}",
        tansu.url,
        env={"PYWHISK_LOG_LEVEL": "debug", "PYWHISK_LOG_FORMAT": "json"},
    )
    try:
        cluster.start_controller()
        cluster.env["PYWHISK_LOG_FORMAT"] = "text"
        cluster.start_invoker(0)
        cluster.wait_for_controller()
        cluster.wait_for_invokers({"invoker0": "up"})
        identity = create_namespace(cluster.store_url, "traced")
        with httpx.Client(
            base_url=f"{cluster.url}/api/v1/namespaces/_",
            auth=(identity.uuid, identity.key),
            timeout=60,
        ) as api:
            code = {"kind": "python:3", "code": "def main(a):\n    return a\n"}
            assert api.put("/actions/echo", json={"exec": code}).status_code == 200
            answer = api.post(
                "/actions/echo?blocking=true", json={"n": 1}, headers={"X-Request-ID": TRANSID}
            )
            assert answer.status_code == 200, answer.text
            activation_id = answer.json()["activationId"]
    finally:
        cluster.stop()  # the logs are complete once the processes have exited
    controller = cluster.procs["controller"].log().splitlines()
    invoker = cluster.procs["invoker0"].log().splitlines()

    # The controller: JSON lines only, the one that placed the activation tagged with it.
    plain = [line for line in controller if line.strip() and not line.startswith("{")]
    assert not plain, plain
    lines = [json.loads(line) for line in controller if line.strip()]
    assert any(" is ready at " in line["message"] for line in lines)  # the banner too
    about = [line for line in lines if line.get("activationId") == activation_id]
    assert any(line["message"].startswith("posted ") for line in about), lines
    assert all(line["transid"] == TRANSID for line in about)

    # The invoker, in another process: the caller's transaction id came with the message.
    tags = f"[#tid_{TRANSID}] [#aid_{activation_id}] "
    ran = [line for line in invoker if tags in line]
    assert any("ran /traced/echo" in line for line in ran), invoker
    assert all(" DEBUG " in line or " INFO " in line for line in ran)
    assert not any(line.startswith("{") for line in invoker)  # text, as asked
