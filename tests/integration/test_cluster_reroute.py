"""A dead or paused invoker's unstarted work runs elsewhere, and nothing runs twice: real
processes (one `pywhisk controller`, two `pywhisk invoker`s with process containers) on
tansu and pouchdb-server.

Every run of the test actions POSTs its activation id to a counter server this test runs
on 127.0.0.1, so runs are counted where they happen, whichever invoker ran them.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pywhisk.controller.core.tracker import LOST
from tests.support.cluster import Cluster, record
from tests.support.couchdb import PouchDBServer, couchdb_server
from tests.support.kafka import TansuBroker, tansu
from tests.support.polling import wait_until
from tests.support.server import create_namespace

__all__ = ["couchdb_server", "tansu"]  # the fixtures the cluster fixture uses

COUNTED = (
    "import os, socket, time, urllib.request\n"
    "OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
    "def main(args):\n"
    "    run = urllib.request.Request('http://127.0.0.1:%d/run',\n"
    "                                 data=os.environ['__OW_ACTIVATION_ID'].encode())\n"
    "    OPENER.open(run, timeout=10).read()\n"
    "    time.sleep(0.3)\n"
    "    return {'home': socket.gethostname(), 'n': args.get('n')}\n"
)
NAMES = [f"counted{i}" for i in range(8)]
MEMORY = 128  # MB per container
# MB per invoker: at most 8 runs at once on each, under OpenWhisk's reservations (the pool's
# former policy, which the invokers run here): today's budgets containers by the memory they
# use, so a victim could hold more running than its memory over the action's limit.
USER_MEMORY = 1024
CONCURRENCY = USER_MEMORY // MEMORY
VICTIM, SURVIVOR = 0, 1
_prefixes = itertools.count()


class RunCounter:
    """Counts the runs each activation id reports, over HTTP on 127.0.0.1."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        lock = threading.Lock()
        runs = self.runs

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with lock:
                    runs[body.decode()] += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self) -> Counter[str]:
        return Counter(self.runs)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counter() -> Iterator[RunCounter]:
    c = RunCounter()
    yield c
    c.close()


@pytest.fixture
def cluster(tmp_path: Path, tansu: TansuBroker, couchdb_server: PouchDBServer) -> Iterator[Cluster]:
    prefix = f"reroute{next(_prefixes)}_"
    cluster = Cluster(
        tmp_path,
        couchdb_server.store_url(prefix),
        tansu.url,
        env={
            "PYWHISK_USER_MEMORY": str(USER_MEMORY),
            "PYWHISK_CONTAINERS_URL": "process://?pool=former",
        },
    )
    try:
        cluster.start_controller()
        for n in (VICTIM, SURVIVOR):
            cluster.start_invoker(n)
        cluster.wait_for_controller()
        cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=30)
        yield cluster
    finally:
        victim = cluster.procs.get(f"invoker{VICTIM}")
        if victim is not None and victim.process.poll() is None:
            victim.process.send_signal(signal.SIGCONT)  # a stopped process ignores SIGTERM
        cluster.stop()
        couchdb_server.drop_databases(prefix)


@pytest.fixture
def api(cluster: Cluster, counter: RunCounter) -> Iterator[httpx.Client]:
    identity = create_namespace(
        cluster.store_url, "reroute", invocationsPerMinute=100_000, concurrentInvocations=1_000
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
                    "exec": {"kind": "python:3", "code": COUNTED % counter.port},
                    "limits": {"memory": MEMORY, "timeout": 15_000},
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
    body: dict[str, Any] = field(default_factory=dict)


def call(api: httpx.Client, n: int, blocking: bool) -> Call:
    r = api.post(
        f"/actions/{NAMES[n % len(NAMES)]}",
        params={"blocking": str(blocking).lower()},
        json={"n": n},
    )
    return Call(
        n, blocking, r.status_code, r.headers.get("x-openwhisk-activation-id", ""), r.json()
    )


def warm_up(api: httpx.Client, cluster: Cluster) -> int:
    """One blocking run of each action; both invokers must be home to some. Their count."""
    homes = set()
    for name in NAMES:
        r = api.post(f"/actions/{name}", params={"blocking": "true", "result": "true"})
        assert r.status_code == 200, (r.text, cluster.logs())
        homes.add(int(r.json()["home"].split("_")[0].removeprefix("wsk")))
    assert homes == {VICTIM, SURVIVOR}, homes
    return len(NAMES)


def load(api: httpx.Client, count: int, fault: Any, after: int) -> list[Call]:
    """`count` invokes from 24 threads, half blocking; `fault()` once `after` answered."""
    answered = threading.Semaphore(0)

    def one(n: int) -> Call:
        try:
            return call(api, n, blocking=n % 2 == 0)
        finally:
            answered.release()

    with ThreadPoolExecutor(max_workers=24) as pool:
        futures = [pool.submit(one, n) for n in range(count)]
        for _ in range(after):
            answered.acquire()
        fault()
        return [f.result() for f in futures]


def check_outcomes(
    api: httpx.Client, calls: list[Call], counter: RunCounter, cluster: Cluster
) -> dict[str, str]:
    """Every activation has one record, each success ran exactly once, nothing ran twice,
    and only what was running on the victim is a whisk internal error. Status by id."""
    deadline = time.monotonic() + 60
    statuses: dict[str, str] = {}
    reasons: dict[str, Any] = {}
    for c in calls:
        assert c.activation_id, c
        doc = record(api, c.activation_id, deadline)
        statuses[c.activation_id] = doc["response"]["status"]
        if doc["response"]["status"] != "success":
            reasons[c.activation_id] = doc["response"]["result"]
        if not c.blocking:
            assert c.status == 202, c
        elif doc["response"]["status"] == "success":  # the caller got the real result
            assert c.status == 200 and c.body["response"]["result"]["n"] == c.n, c
        else:
            assert c.status in (200, 202, 500), c
    outcomes = Counter(statuses.values())
    assert set(outcomes) <= {"success", "whisk internal error"}, (outcomes, cluster.logs())
    runs = counter.snapshot()
    assert max(runs.values()) == 1, [aid for aid, n in runs.items() if n > 1]
    for aid, status in statuses.items():
        if status == "success":
            assert runs[aid] == 1, aid
    # Only what was running on the victim is lost: at most its concurrency, not its
    # backlog; nothing else fails (neither stranded, nor unanswered, nor the survivor's own).
    lost = [aid for aid, reason in reasons.items() if reason == {"error": LOST}]
    others = {aid: r for aid, r in reasons.items() if aid not in lost}
    assert len(lost) <= CONCURRENCY, (outcomes, reasons, cluster.logs())
    assert not others, (others, cluster.logs())
    print(
        f"outcomes: {dict(outcomes)}; lost with the victim: {len(lost)}, of which "
        f"{sum(runs[a] for a in lost)} had begun the action's code"
    )
    return statuses


def count_records(api: httpx.Client) -> int:
    r = api.get("/activations", params={"count": "true"})
    assert r.status_code == 200, r.text
    return int(r.json()["activations"])


def test_a_killed_invokers_queued_work_runs_on_the_survivor_once(
    cluster: Cluster, api: httpx.Client, counter: RunCounter
) -> None:
    warmed = warm_up(api, cluster)
    victim = cluster.procs[f"invoker{VICTIM}"]
    calls = load(api, 200, lambda: victim.stop(signal.SIGKILL), after=50)
    statuses = check_outcomes(api, calls, counter, cluster)
    assert count_records(api) == warmed + 200  # one record each, no more

    # Restarted, the victim is handed its topic's uncommitted messages again: it runs
    # none of them (each was handed over, or had started here before the kill).
    before = counter.snapshot()
    cluster.start_invoker(VICTIM)
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=30)
    time.sleep(3)
    assert counter.snapshot() == before
    for aid, status in statuses.items():
        if status != "success":
            assert record(api, aid, time.monotonic() + 5)["response"]["status"] == status


def test_a_paused_invoker_resumed_runs_nothing_that_was_handed_over(
    cluster: Cluster, api: httpx.Client, counter: RunCounter
) -> None:
    warmed = warm_up(api, cluster)
    victim = cluster.procs[f"invoker{VICTIM}"]
    calls = load(api, 120, lambda: os.kill(victim.process.pid, signal.SIGSTOP), after=30)
    # Every call is answered while the victim is still paused: its work went elsewhere.
    statuses = check_outcomes(api, calls, counter, cluster)
    before = counter.snapshot()

    os.kill(victim.process.pid, signal.SIGCONT)
    # Resumed, it goes on with what it had fetched before the pause: each is skipped.
    wait_until(
        victim.log,
        "the resumed invoker to skip what was handed over",
        timeout=60,
        interval=0.5,
        until=lambda log: "started or handed over elsewhere" in log,
        details=cluster.logs,
    )
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"}, timeout=60)
    time.sleep(3)
    after = counter.snapshot()
    assert max(after.values()) == 1, [aid for aid, n in after.items() if n > 1]
    # A run it had claimed just before the pause may start only now: once, and recorded
    # as lost; whatever succeeded elsewhere never runs here.
    late = set(after - before)
    assert all(statuses.get(aid) == "whisk internal error" for aid in late), late
    assert count_records(api) == warmed + 120
    for aid, status in statuses.items():  # its late answers changed no record
        assert record(api, aid, time.monotonic() + 5)["response"]["status"] == status
