"""The platform's own figures at /metrics while a real standalone server works, read with
prometheus-client's parser: stem cells ready ahead of use; an activation that runs holds a
busy container and is in flight; one behind it, with no memory left for a second container,
waits queued (and its waitTime says how long); a third over the namespace's concurrency is
refused and counted; the container turns warm when the work is done and paused once idle; a
trigger fired over its namespace's per-minute limit is counted apart from invokes.

The running action waits on a gate served by this test (real HTTP from inside the sandbox),
so the figures are read while it is held, not raced against a sleep."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.support.metrics import scrape, value
from tests.support.polling import wait_until
from tests.support.server import StandaloneServer

TOKEN = "platform-gauges-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
INVOKER = "invoker0"
HELD_S = 1.0  # how long the test holds the gate once one activation runs and one waits
# Waits at the test's gate (no proxy: the gate is on loopback), then answers.
HOLD = """import urllib.request
def main(a):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    opener.open(a['gate'], timeout=120).read()
    return {'held': True}
"""


class Gate:
    """An HTTP server whose every GET waits until `open()`."""

    def __init__(self) -> None:
        opened = self.opened = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                opened.wait(120)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wait"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def open(self) -> None:
        self.opened.set()

    def close(self) -> None:
        self.opened.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    yield g
    g.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StandaloneServer]:
    srv = StandaloneServer(
        tmp_path / "server",
        env={
            "PYWHISK_METRICS_TOKEN": TOKEN,
            # Room for one 256 MB container, counted by reservation: a second activation of
            # the held action waits for the first.
            "PYWHISK_USER_MEMORY": "256",
            "PYWHISK_CONTAINERS_URL": "process://?pool=former",
            "PYWHISK_PAUSE_GRACE": "4",
        },
    )
    srv.start()
    yield srv
    srv.stop()


def figures(server: StandaloneServer) -> dict[str, float]:
    parsed = scrape(f"{server.url}/metrics", headers=BEARER)
    out = {
        state: value(parsed, "pywhisk_containers", invoker=INVOKER, state=state)
        for state in ("warm", "paused", "stem cell", "busy")
    }
    for state in ("queued", "running"):
        out[state] = value(parsed, "pywhisk_invoker_activations", invoker=INVOKER, state=state)
    out["in flight"] = value(parsed, "pywhisk_controller_activations_in_flight")
    out["refused concurrent"] = value(parsed, "openwhisk_action_limit_concurrent_total")
    out["refused timed"] = value(parsed, "openwhisk_action_limit_timed_total")
    out["refused fires"] = value(parsed, "pywhisk_trigger_limit_timed_total")
    return out


def test_containers_activations_and_refusals_as_the_platform_works(
    server: StandaloneServer, gate: Gate
) -> None:
    # Stem cells are started ahead of use (one per runtime with a stem cell configured).
    start = wait_until(
        lambda: figures(server),
        "stem cells ready",
        until=lambda f: f["stem cell"] >= 1,
        details=server.log,
    )
    assert (start["warm"], start["busy"], start["paused"]) == (0, 0, 0)

    ns = server.create_namespace("gauged", concurrentInvocations=2, firesPerMinute=1)
    with httpx.Client(
        base_url=f"{server.url}/api/v1/namespaces/_", auth=(ns.uuid, ns.key), timeout=60
    ) as api:
        action = {"exec": {"kind": "python:3.11", "code": HOLD}, "limits": {"memory": 256}}
        assert api.put("/actions/hold", json=action).status_code == 200
        ids = []
        for _ in range(2):
            answer = api.post("/actions/hold", json={"gate": gate.url})
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["activationId"])

        # One runs (held at the gate), the other waits for memory; both are in flight.
        held = wait_until(
            lambda: figures(server),
            "one activation running and one queued",
            until=lambda f: f["running"] == 1 and f["queued"] == 1,
            details=server.log,
        )
        assert held["busy"] == 1 and held["warm"] == 0
        assert held["in flight"] == 2

        refused = api.post("/actions/hold", json={"gate": gate.url})
        assert refused.status_code == 429
        assert "concurrent" in refused.json()["error"]
        after = figures(server)
        assert after["refused concurrent"] == 1 and after["refused timed"] == 0

        time.sleep(HELD_S)  # the queued one's wait, which its waitTime must show
        gate.open()
        done = wait_until(
            lambda: figures(server),
            "both activations done",
            until=lambda f: (
                f["running"] == 0 and f["queued"] == 0 and f["in flight"] == 0 and f["warm"] == 1
            ),
            details=server.log,
        )
        waits = []
        for activation_id in ids:  # both ran, the second warm in the first's container
            record = api.get(f"/activations/{activation_id}").json()
            assert record["response"]["result"] == {"held": True}, record
            waits.append(next(a["value"] for a in record["annotations"] if a["key"] == "waitTime"))
        assert max(waits) >= HELD_S * 1000  # queued behind the held one
        parsed = scrape(f"{server.url}/metrics", headers=BEARER)
        hold = {"namespace": "gauged", "action": "hold"}
        waited = value(parsed, "openwhisk_action_waitTime_seconds_sum", **hold)
        assert waited == pytest.approx(sum(waits) / 1000)
        assert value(parsed, "openwhisk_action_waitTime_seconds_count", **hold) == 2
        assert done["busy"] == 0 and done["paused"] == 0

        # Idle past the pause grace: paused, no longer warm.
        idle = wait_until(
            lambda: figures(server),
            "the idle container paused",
            until=lambda f: f["paused"] == 1,
            details=server.log,
        )
        assert idle["warm"] == 0 and idle["busy"] == 0

        # Fires have a per-minute limit of their own, counted apart from invokes.
        assert api.put("/triggers/tick", json={}).status_code == 200
        assert api.post("/triggers/tick", json={}).status_code in (202, 204)
        over = api.post("/triggers/tick", json={})
        assert over.status_code == 429, over.text
    final = figures(server)
    assert final["refused fires"] == 1
    assert final["refused timed"] == 0 and final["refused concurrent"] == 1
