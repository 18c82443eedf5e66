"""/metrics of a real standalone server after real activations, read with prometheus-client's
parser: what ran (success, application error), cold and warm, a throttle refusal; and only
for the operator."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.metrics import operator, scrape, value
from tests.support.server import StandaloneServer

TOKEN = "scrape-token-for-tests"
OK = "def main(a):\n    return {'n': a.get('n')}\n"
FAIL = "def main(a):\n    return {'error': 'no'}\n"
MADE = "def main(a):\n    return {'statusCode': 201, 'body': 'made'}\n"
NOT_A_DICT = "def main(a):\n    return 5\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StandaloneServer]:
    srv = StandaloneServer(tmp_path / "server", env={"PYWHISK_METRICS_TOKEN": TOKEN})
    srv.start()
    yield srv
    srv.stop()


def test_activations_cold_warm_errors_and_throttles_are_counted(
    server: StandaloneServer,
) -> None:
    ns = server.create_namespace("metered", invocationsPerMinute=6)
    uuid, _, key = ns.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=60) as api:
        for name, code in (("ok", OK), ("pkgless-fail", FAIL), ("made", MADE), ("odd", NOT_A_DICT)):
            action = {"exec": {"kind": "python:3.11", "code": code}}
            assert api.put(f"/namespaces/_/actions/{name}", json=action).status_code == 200
        ids = []
        for n in range(3):
            answer = api.post("/namespaces/_/actions/ok?blocking=true", json={"n": n})
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["activationId"])
        failed = api.post("/namespaces/_/actions/pkgless-fail?blocking=true")
        assert failed.status_code == 502
        assert api.post("/namespaces/_/actions/made?blocking=true").status_code == 200
        assert api.post("/namespaces/_/actions/odd?blocking=true").status_code == 502
        assert api.post("/namespaces/_/actions/ok?blocking=true").status_code == 429
        records = [api.get(f"/namespaces/_/activations/{i}").json() for i in ids]

    parsed = scrape(f"{server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    ok = {"namespace": "metered", "initiator": "metered", "action": "ok"}
    assert value(parsed, "openwhisk_action_activations_total", **ok, kind="python:3.11") == 3
    # prometheus-client's parser reads OpenWhisk's `openwhisk_action_status` counter (no
    # `_total` on the wire) as `…_total`; tests/integration/test_prometheus.py queries the
    # wire names through a real Prometheus.
    assert value(parsed, "openwhisk_action_status_total", **ok, status="success") == 3
    fail = {**ok, "action": "pkgless-fail"}
    assert value(parsed, "openwhisk_action_status_total", **fail, status="application_error") == 1
    assert value(parsed, "openwhisk_action_status_total", **fail, status="success") == 0
    odd = {**ok, "action": "odd"}  # no dictionary returned: the developer's error
    for status, n in (("action_developer_error", 1), ("application_error", 0)):
        assert value(parsed, "openwhisk_action_status_total", **odd, status=status) == n
    made = {**ok, "action": "made"}
    assert value(parsed, "openwhisk_action_status_code_total", **made, status_code="201") == 1
    size = value(parsed, "openwhisk_action_response_size_bytes_sum", **ok)
    assert size == sum(r["response"]["size"] for r in records)
    # Cold starts as the records tell them: initTime only on a cold start.
    cold = sum(any(a["key"] == "initTime" for a in r["annotations"]) for r in records)
    assert cold == 1  # the first one; the next two found it warm
    assert value(parsed, "openwhisk_action_coldStarts_total", **ok) == cold
    assert value(parsed, "openwhisk_action_initTime_seconds_count", **ok) == cold
    assert value(parsed, "openwhisk_action_duration_seconds_count", **ok) == 3
    assert value(parsed, "openwhisk_action_waitTime_seconds_count", **ok) == 3
    durations = sum(r["duration"] for r in records) / 1000
    assert value(parsed, "openwhisk_action_duration_seconds_sum", **ok) == pytest.approx(durations)
    assert value(parsed, "openwhisk_action_memory", **ok) == 256
    assert value(parsed, "openwhisk_action_limit_timed_total", namespace="metered") == 1
    # Platform figures: the invoker's containers, what is in flight (nothing any more).
    assert value(parsed, "pywhisk_containers", invoker="invoker0") >= 2
    assert value(parsed, "pywhisk_invoker_activations", invoker="invoker0", state="running") == 0
    assert value(parsed, "pywhisk_controller_activations_in_flight", controller="0") == 0
    assert value(parsed, "pywhisk_store_seconds_count", operation="activation_put") >= 6
    assert value(parsed, "pywhisk_queue_seconds_count", topic="invoker") >= 6


def test_a_new_actions_first_invoke_reads_it_from_the_store_once(
    server: StandaloneServer,
) -> None:
    """The controller reads the new action to publish its activation; the invoker beside it
    takes it from the controller's cache rather than reading and parsing it again."""
    ns = server.create_namespace("reader")
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(
        base_url=f"{server.url}/api/v1",
        auth=(ns.uuid, ns.key),
        timeout=60,  # type: ignore[arg-type]
    ) as api:
        action = {"exec": {"kind": "python:3.11", "code": OK}}
        assert api.put("/namespaces/_/actions/once", json=action).status_code == 200
        before = value(
            scrape(f"{server.url}/metrics", headers=bearer),
            "pywhisk_store_seconds_count",
            operation="entity_get",
        )
        for n in range(2):
            answer = api.post("/namespaces/_/actions/once?blocking=true&result=true", json={"n": n})
            assert answer.json() == {"n": n}
    after = value(
        scrape(f"{server.url}/metrics", headers=bearer),
        "pywhisk_store_seconds_count",
        operation="entity_get",
    )
    assert after - before == 1


def test_only_the_operator_reads_metrics(server: StandaloneServer) -> None:
    url = f"{server.url}/metrics"
    guest = server.create_namespace("tenant")
    system = operator(f"sqlite:///{server.data_dir / 'pywhisk.db'}")
    for headers in (
        {},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic !!!"},
    ):
        answer = httpx.get(url, headers=headers, timeout=10)
        assert answer.status_code == 401, headers
        assert answer.json()["error"] == "The supplied authentication is invalid."
    tenant = httpx.get(url, auth=(guest.uuid, guest.key), timeout=10)
    assert tenant.status_code == 401
    wrong = httpx.get(url, auth=(system.uuid, system.key + "x"), timeout=10)
    assert wrong.status_code == 401
    assert scrape(url, auth=(system.uuid, system.key))
    assert scrape(url, headers={"Authorization": f"Bearer {TOKEN}"})


def test_without_prometheus_client_metrics_answer_501(tmp_path: Path) -> None:
    # A package of that name that fails to import, first on the path: as if not installed.
    shadow = tmp_path / "shadow" / "prometheus_client"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n")
    path = os.pathsep.join([str(shadow.parent), *sys.path])
    srv = StandaloneServer(
        tmp_path / "server", env={"PYWHISK_METRICS_TOKEN": TOKEN, "PYTHONPATH": path}
    )
    srv.start()
    try:
        ns = srv.create_namespace("plain")
        with httpx.Client(base_url=f"{srv.url}/api/v1", auth=(ns.uuid, ns.key), timeout=60) as api:  # type: ignore[arg-type]
            action = {"exec": {"kind": "python:3.11", "code": OK}}
            assert api.put("/namespaces/_/actions/ok", json=action).status_code == 200
            answer = api.post("/namespaces/_/actions/ok?blocking=true&result=true", json={"n": 1})
            assert answer.json() == {"n": 1}  # counting nothing breaks nothing
        answer = httpx.get(
            f"{srv.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert answer.status_code == 501
        assert "prometheus-client" in answer.json()["error"]
    finally:
        srv.stop()
