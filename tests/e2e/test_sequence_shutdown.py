"""A standalone server stopped (SIGTERM) while a sequence runs keeps its record: a sequence
that ends within the drain grace is recorded as usual; one that outlasts it is ended and
recorded as a whisk internal error. Read back after a restart, from the SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.polling import wait_until
from tests.support.rest import put_action, put_sequence, wait_for_record
from tests.support.server import StandaloneServer

FIRST = "def main(args):\n    return {'seconds': args.get('seconds', 0), 'first': True}\n"
NAP = "import time\ndef main(args):\n    time.sleep(args['seconds'])\n    return {'slept': args['seconds']}\n"


def client(server: StandaloneServer, identity: Identity) -> httpx.Client:
    uuid, _, key = identity.auth.partition(":")
    return httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=90)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[StandaloneServer]:
    # One second of grace instead of ten: the second test outlasts it on purpose.
    srv = StandaloneServer(tmp_path / "data", env={"PYWHISK_DRAIN_TIMEOUT": "1"})
    srv.start()
    yield srv
    srv.stop()


def start_sequence(server: StandaloneServer, seconds: float) -> tuple[Identity, str]:
    identity = server.create_namespace("sleepy", concurrentInvocations=100)
    with client(server, identity) as api:
        put_action(api, "first", FIRST)
        put_action(api, "nap", NAP)
        # a component after `nap`: it needs the invoker still up when the shutdown drains
        assert put_sequence(api, "s", ["/_/first", "/_/nap", "/_/first"]).status_code == 200
        r = api.post("/namespaces/_/actions/s", json={"seconds": seconds})
        assert r.status_code == 202, r.text
        activation_id = str(r.json()["activationId"])
        # wait until `nap` is running: `first` has been recorded
        wait_until(
            lambda: api.get("/namespaces/_/activations", params={"name": "first"}).json(),
            "the first component's record",
            interval=0.05,
        )
    return identity, activation_id


def after_restart(
    server: StandaloneServer, identity: Identity, *activation_ids: str
) -> list[dict[str, Any]]:
    assert server.stop() == 0, server.log()
    server.start()
    with client(server, identity) as api:
        return [wait_for_record(api, i, timeout=5) for i in activation_ids]


def test_a_sequence_finishing_within_the_grace_is_recorded(tmp_path: Path) -> None:
    server = StandaloneServer(tmp_path / "data")  # the default ten seconds of grace
    server.start()
    try:
        identity, activation_id = start_sequence(server, 2)
        (seq,) = after_restart(server, identity, activation_id)
    finally:
        server.stop()
    assert seq["response"]["status"] == "success"
    assert seq["response"]["result"] == {"seconds": 0, "first": True}
    assert len(seq["logs"]) == 3


def test_a_sequence_outlasting_the_grace_is_recorded_as_ended(
    own_server: StandaloneServer,
) -> None:
    identity, activation_id = start_sequence(own_server, 30)
    (seq,) = after_restart(own_server, identity, activation_id)
    assert seq["response"]["status"] == "whisk internal error"
    assert seq["response"]["result"] == {"error": "Sequence failed."}
    # `first`, and `nap`, cut short: its record says how it ended
    assert len(seq["logs"]) == 2
    with client(own_server, identity) as api:
        first, nap = (wait_for_record(api, i, timeout=5) for i in seq["logs"])
    assert (first["name"], nap["name"]) == ("first", "nap")
    assert nap["cause"] == activation_id
    assert nap["response"]["status"] != "success"
