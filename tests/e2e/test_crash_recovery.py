"""A standalone server killed with SIGKILL amid load keeps its promises after a restart.

Every blocking answer has its record, with the result that was answered; every 202 runs
exactly once and is recorded once; an activation that was running at the kill is recorded
as a whisk internal error and not run again. Runs are counted by a tiny HTTP server on
127.0.0.1 that the actions call with their activation id: process containers share no files
with the test, but they reach loopback.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pywhisk.controller.core.replay import INTERRUPTED
from tests.support.polling import wait_until_async
from tests.support.server import StandaloneServer

LIMITS = {"invocationsPerMinute": 100_000, "concurrentInvocations": 10_000}
COUNTED = """
import os, time, urllib.request

def main(args):
    aid = os.environ["__OW_ACTIVATION_ID"]
    urllib.request.urlopen(urllib.request.Request(args["counter"] + "/" + aid, data=b""), timeout=30).read()
    print("counted", aid)
    time.sleep(args.get("sleep", 0))
    return {"n": args.get("n"), "id": aid}
"""


class RunCounter:
    """Counts POSTs per path: one per run of an action, keyed by its activation id."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        self.lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with counter.lock:
                    counter.runs[self.path.strip("/")] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.runs)


@pytest.fixture
def counter() -> Iterator[RunCounter]:
    c = RunCounter()
    yield c
    c.http.shutdown()
    c.http.server_close()


@pytest.fixture
def crashing(tmp_path: Path) -> Iterator[StandaloneServer]:
    # Two 256 MB slots: non-blocking work queues up behind the running ones. Reservations
    # (the former pool policy): budgeted by use, 512 MB would hold far more than two.
    env = {"PYWHISK_USER_MEMORY": "512", "PYWHISK_CONTAINERS_URL": "process://?pool=former"}
    srv = StandaloneServer(tmp_path / "server", env=env)
    srv.start(timeout=120)
    yield srv
    srv.stop(signal.SIGKILL)


def api(server: StandaloneServer, auth: str) -> httpx.AsyncClient:
    uuid, _, key = auth.partition(":")
    return httpx.AsyncClient(
        base_url=f"{server.url}/api/v1/namespaces/_", auth=(uuid, key), timeout=120
    )


async def create(client: httpx.AsyncClient, name: str, counter: RunCounter) -> None:
    body = {
        "exec": {"kind": "python:3.11", "code": COUNTED},
        "parameters": [{"key": "counter", "value": counter.url}],
    }
    r = await client.put(f"/actions/{name}?overwrite=true", json=body)
    assert r.status_code == 200, r.text


async def records(client: httpx.AsyncClient, ids: list[str], within: float) -> dict[str, Any]:
    """Each id's record, waiting up to `within` seconds for all of them; a failure lists the
    ids still without one."""
    found: dict[str, Any] = {}

    async def missing() -> list[str]:
        for aid in [a for a in ids if a not in found]:
            r = await client.get(f"/activations/{aid}")
            if r.status_code == 200:
                found[aid] = r.json()
        return [a for a in ids if a not in found]

    await wait_until_async(
        missing,
        f"a record of each of {len(ids)} activations (seen: the ids without one)",
        timeout=within,
        interval=0.5,
        until=lambda left: not left,
    )
    return found


async def running(counter: RunCounter, aid: str | None = None) -> None:
    """Until the action has started (the activation `aid`, or any), as its runs report."""
    await wait_until_async(
        counter.snapshot,
        f"the action to start running {aid or 'anything'}",
        timeout=60,
        until=lambda runs: runs[aid] if aid else runs,
    )


def restart(server: StandaloneServer) -> None:
    server.stop(signal.SIGKILL)
    server.start(timeout=120)


async def test_every_blocking_answer_has_its_record_after_a_kill(
    crashing: StandaloneServer, counter: RunCounter
) -> None:
    auth = (await asyncio.to_thread(crashing.create_namespace, "blocking", **LIMITS)).auth
    answered: dict[str, Any] = {}
    async with api(crashing, auth) as client:
        await create(client, "counted", counter)
        todo = iter(range(200))
        halfway = asyncio.Event()

        async def caller() -> None:
            for n in todo:
                try:
                    r = await client.post("/actions/counted?blocking=true", json={"n": n})
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code == 200:
                    answered[r.json()["activationId"]] = r.json()["response"]["result"]
                if len(answered) >= 100:
                    halfway.set()

        callers = [asyncio.create_task(caller()) for _ in range(16)]
        await halfway.wait()  # kill amid the load, answers still flowing
        assert crashing.process is not None
        crashing.process.kill()
        await asyncio.gather(*callers)
    await asyncio.to_thread(restart, crashing)
    async with api(crashing, auth) as client:
        found = await records(client, list(answered), within=30)
    missing = sorted(set(answered) - set(found))
    assert not missing, f"{len(missing)} of {len(answered)} answered activations have no record"
    assert {aid: doc["response"]["result"] for aid, doc in found.items()} == answered


async def test_every_202_runs_once_and_is_recorded_once_after_a_kill(
    crashing: StandaloneServer, counter: RunCounter
) -> None:
    auth = (await asyncio.to_thread(crashing.create_namespace, "nonblocking", **LIMITS)).auth
    async with api(crashing, auth) as client:
        await create(client, "counted", counter)
        sem = asyncio.Semaphore(10)

        async def invoke(n: int) -> str:
            async with sem:
                r = await client.post("/actions/counted", json={"n": n, "sleep": 0.1})
            assert r.status_code == 202, r.text
            return str(r.json()["activationId"])

        accepted = await asyncio.gather(*(invoke(n) for n in range(150)))
    assert crashing.process is not None
    crashing.process.kill()  # at once: most of them still wait for one of the two slots
    ran_before = counter.snapshot()
    await asyncio.to_thread(restart, crashing)
    async with api(crashing, auth) as client:
        found = await records(client, accepted, within=120)
        listed = (await client.get("/activations?name=counted&count=true")).json()
    runs = counter.snapshot()
    assert len(found) == len(accepted), f"{len(accepted) - len(found)} accepted ones unrecorded"
    assert listed == {"activations": len(accepted)}  # one record each
    assert max(runs.values()) == 1, [aid for aid, n in runs.items() if n > 1]
    lost = {aid for aid, doc in found.items() if doc["response"]["status"] != "success"}
    for aid in lost:  # running at the kill: recorded as such, and never run again
        assert found[aid]["response"]["status"] == "whisk internal error", found[aid]
        assert found[aid]["response"]["result"] == {"error": INTERRUPTED}
    # Only what had begun before the kill. The action counts itself in its first line, so a
    # lost one it never counted was handed to one of the two slots and had not got that far:
    # at most one per slot. Counted ones may be more: those running, and any that had just
    # finished but whose record was still to be written (a loaded machine has some).
    assert len(lost - set(ran_before)) <= 2, lost - set(ran_before)
    for aid in set(accepted) - lost:
        assert runs[aid] == 1, aid
        assert found[aid]["response"]["result"]["id"] == aid
    assert len(set(accepted) - set(ran_before)) > 50  # most ran after the restart


async def test_an_activation_running_at_the_kill_is_recorded_lost_not_rerun(
    crashing: StandaloneServer, counter: RunCounter
) -> None:
    auth = (await asyncio.to_thread(crashing.create_namespace, "running", **LIMITS)).auth
    async with api(crashing, auth) as client:
        await create(client, "counted", counter)
        r = await client.post("/actions/counted", json={"sleep": 60})
        aid = r.json()["activationId"]
        await running(counter, aid)
    await asyncio.to_thread(restart, crashing)
    async with api(crashing, auth) as client:
        found = await records(client, [aid], within=30)
        # A rerun would be published at the restart, ahead of this one.
        after = await client.post("/actions/counted?blocking=true", json={})
        assert after.status_code == 200, after.text
    assert aid in found, "the activation running at the kill has no record"
    assert found[aid]["response"]["status"] == "whisk internal error"
    assert found[aid]["response"]["result"] == {"error": INTERRUPTED}
    assert counter.snapshot()[aid] == 1
    # The operator learns of it from the restarted server's log, by id and cause.
    logged = [line for line in crashing.log().splitlines() if f"activation {aid}" in line]
    assert any(
        f"whisk internal error: activation {aid}" in line
        and "(cause: it had started when the server last stopped)" in line
        for line in logged
    ), logged


async def test_a_sequence_running_at_the_kill_is_recorded_lost_not_rerun(
    crashing: StandaloneServer, counter: RunCounter
) -> None:
    auth = (await asyncio.to_thread(crashing.create_namespace, "sequence", **LIMITS)).auth
    async with api(crashing, auth) as client:
        await create(client, "counted", counter)
        body = {"exec": {"kind": "sequence", "components": ["/_/counted"]}}
        assert (await client.put("/actions/seq", json=body)).status_code == 200
        r = await client.post("/actions/seq", json={"sleep": 60})
        assert r.status_code == 202, r.text
        aid = r.json()["activationId"]
        await running(counter)
    await asyncio.to_thread(restart, crashing)
    async with api(crashing, auth) as client:
        found = await records(client, [aid], within=30)
        after = await client.post("/actions/counted?blocking=true", json={})
        assert after.status_code == 200, after.text
    assert aid in found, "the sequence running at the kill has no record"
    assert found[aid]["response"]["status"] == "whisk internal error"
    assert found[aid]["response"]["result"] == {"error": INTERRUPTED}
    runs = counter.snapshot()
    assert sum(runs.values()) == 2 and max(runs.values()) == 1, runs  # its component, then `after`


async def test_a_blocking_invoke_answered_202_is_recorded_lost_not_rerun(
    tmp_path: Path, counter: RunCounter
) -> None:
    """Past its blocking wait, a blocking invoke answers 202 while the action runs on: that
    202 is a promise too."""
    server = StandaloneServer(tmp_path / "server", env={"PYWHISK_BLOCKING_WAIT": "1"})
    await asyncio.to_thread(server.start, 120)
    try:
        auth = (await asyncio.to_thread(server.create_namespace, "late", **LIMITS)).auth
        async with api(server, auth) as client:
            await create(client, "counted", counter)
            r = await client.post("/actions/counted?blocking=true", json={"sleep": 60})
            assert r.status_code == 202, r.text
            aid = r.json()["activationId"]
            await running(counter, aid)
        await asyncio.to_thread(restart, server)
        async with api(server, auth) as client:
            found = await records(client, [aid], within=30)
            after = await client.post("/actions/counted?blocking=true", json={})
            assert after.status_code == 200, after.text
    finally:
        server.stop(signal.SIGKILL)
    assert aid in found, "the activation answered 202 has no record"
    assert found[aid]["response"]["result"] == {"error": INTERRUPTED}
    assert counter.snapshot()[aid] == 1


async def test_an_activation_the_disk_refuses_is_refused_not_promised(
    crashing: StandaloneServer, counter: RunCounter
) -> None:
    """A full disk (here: a trigger that makes every journal write fail, as an operator's
    mistake or a full disk would): a non-blocking invoke gets 503 in OpenWhisk's shape and
    never runs; once the disk takes writes again, invokes are accepted again."""
    auth = (await asyncio.to_thread(crashing.create_namespace, "refused", **LIMITS)).auth
    db = sqlite3.connect(crashing.data_dir / "pywhisk.db", check_same_thread=False)
    try:
        async with api(crashing, auth) as client:
            await create(client, "counted", counter)
            await asyncio.to_thread(
                db.executescript,
                "CREATE TRIGGER refuse BEFORE INSERT ON journal "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
            )
            refused = await client.post("/actions/counted", json={})
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"].startswith("The server is currently unavailable")
            assert "code" in refused.json()
            await asyncio.to_thread(db.executescript, "DROP TRIGGER refuse;")
            accepted = await client.post("/actions/counted", json={})
            assert accepted.status_code == 202, accepted.text
            aid = accepted.json()["activationId"]
            found = await records(client, [aid], within=60)
    finally:
        db.close()
    assert found[aid]["response"]["status"] == "success"
    assert list(counter.snapshot()) == [aid]  # the refused one never ran
