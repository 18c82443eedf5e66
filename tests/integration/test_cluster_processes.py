"""A cluster of real processes: one `pywhisk controller` and two `pywhisk invoker`s on a
real Kafka-protocol broker (tansu) and one SQLite store file, with process containers.

Checks that invocations spread over both invokers while one action keeps to its home
invoker, and that once an invoker is killed new activations reach the survivor within
10 s (docs/openwhisk-compatibility.md §8.3: Offline after 10 s without pings, then routed elsewhere).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cluster import Cluster, invoker_of
from tests.support.kafka import TansuBroker, tansu
from tests.support.polling import wait_until
from tests.support.server import create_namespace

__all__ = ["tansu"]  # the fixture the cluster fixture uses

# Which invoker ran it: a process container's hostname is its name, wsk{N}_{k}.
WHO = "import socket\ndef main(args):\n    return {'home': socket.gethostname()}\n"


@pytest.fixture
def cluster(tmp_path: Path, tansu: TansuBroker) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, f"sqlite:///{tmp_path / 'pywhisk.db'}", tansu.url)
    try:
        cluster.start_controller()
        for n in (0, 1):
            cluster.start_invoker(n)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def api(cluster: Cluster) -> Iterator[httpx.Client]:
    """A client of the controller in a namespace of its own, once the controller answers."""
    cluster.wait_for_controller()
    identity = create_namespace(
        cluster.store_url, "cluster", invocationsPerMinute=100_000, concurrentInvocations=1_000
    )
    with httpx.Client(
        base_url=f"{cluster.url}/api/v1/namespaces/_",
        auth=tuple(identity.auth.split(":", 1)),  # type: ignore[arg-type]
        timeout=60,
    ) as client:
        yield client


def test_spread_stickiness_and_failover(cluster: Cluster, api: httpx.Client) -> None:
    names = [f"who{i}" for i in range(8)]
    for name in names:
        r = api.put(
            f"/actions/{name}",
            json={"exec": {"kind": "python:3", "code": WHO}, "limits": {"memory": 128}},
        )
        assert r.status_code == 200, r.text

    def invoke(name: str) -> tuple[int, dict[str, str]]:
        r = api.post(f"/actions/{name}", params={"blocking": "true", "result": "true"})
        return r.status_code, r.json()

    # Both invokers usable: wait until an invoke goes through (503 until the first ping).
    def first_answer() -> int:
        status, _ = invoke(names[0])
        assert status in (200, 503), cluster.logs()
        return status

    wait_until(
        first_answer,
        "an invoke answered 200",
        interval=0.2,
        until=lambda status: status == 200,
        details=cluster.logs,
    )
    time.sleep(1.5)  # let the second invoker's pings arrive too

    seen: dict[str, set[int]] = {}
    for _ in range(3):
        for name in names:
            status, result = invoke(name)
            assert status == 200, (result, cluster.logs())
            seen.setdefault(name, set()).add(invoker_of(result))
    # Home-invoker stickiness: one action, one invoker (nothing is full).
    assert all(len(invokers) == 1 for invokers in seen.values()), seen
    # Spread: eight actions hash onto both invokers.
    assert set().union(*seen.values()) == {0, 1}, seen

    victim = next(iter(seen[names[0]]))
    survivor = 1 - victim
    cluster.procs[f"invoker{victim}"].stop(signal.SIGKILL)
    killed_at = time.monotonic()
    reached: float | None = None
    while time.monotonic() - killed_at < 30:
        try:
            r = api.post(
                f"/actions/{names[0]}",
                params={"blocking": "true", "result": "true"},
                timeout=0.5,
            )
        except httpx.TimeoutException:  # sent to the dead invoker: waits in its topic
            continue
        if r.status_code == 200 and invoker_of(r.json()) == survivor:
            reached = time.monotonic() - killed_at
            break
        time.sleep(0.2)
    # Offline once 10 s pass without a ping (the last one came at most 1 s before the kill).
    assert reached is not None and reached <= 10.5, (reached, cluster.logs())
    print(f"failover: activations reached invoker{survivor} {reached:.1f} s after the kill")
    # Every action now runs on the survivor.
    for name in names:
        status, result = invoke(name)
        assert status == 200 and invoker_of(result) == survivor, (name, result)


def test_a_stopping_invoker_is_left_at_once_and_rejoins_when_restarted(
    cluster: Cluster, api: httpx.Client
) -> None:
    """SIGTERM: the invoker's last ping says it is disabled, so the controller stops sending
    there right away; started again, it is up within seconds and gets its home actions."""
    for name in ("who0", "who1", "who2", "who3"):
        r = api.put(f"/actions/{name}", json={"exec": {"kind": "python:3", "code": WHO}})
        assert r.status_code == 200, r.text

    def run(name: str) -> int:
        r = api.post(f"/actions/{name}", params={"blocking": "true", "result": "true"})
        assert r.status_code == 200, (r.text, cluster.logs())
        return invoker_of(r.json())

    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"})
    homes = {name: run(name) for name in ("who0", "who1", "who2", "who3")}
    victim = homes["who0"]
    survivor = 1 - victim
    stopped_at = time.monotonic()
    cluster.procs[f"invoker{victim}"].stop(signal.SIGTERM)
    assert time.monotonic() - stopped_at < 10
    names = list(homes)
    assert {run(name) for name in names} == {survivor}
    assert httpx.get(f"{cluster.url}/invokers").json()[f"invoker{victim}"] == "down"

    cluster.start_invoker(victim)
    cluster.wait_for_invokers({"invoker0": "up", "invoker1": "up"})
    assert {name: run(name) for name in names} == homes
