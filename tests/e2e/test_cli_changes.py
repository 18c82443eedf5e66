"""The real `wsk` with `/whisk.system/couchdb/changes` against pouchdb-server: a trigger
fired once for every document change, none lost or repeated across a restart of the
standalone server (changes made while it was down included)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.couchdb import ADMIN, PouchDBServer, couchdb_server
from tests.support.polling import wait_until
from tests.support.rest import records
from tests.support.server import StandaloneServer
from tests.support.wsk import Wsk, echo_action

__all__ = ["couchdb_server"]  # fixtures, used below


@pytest.fixture
def server(tmp_path: Path) -> Iterator[StandaloneServer]:
    """A server of this test's own (the conftest's `wsk` and `api` use it): it is restarted.
    pouchdb-server listens on loopback, which feeds may reach only when the operator says so."""
    srv = StandaloneServer(tmp_path / "server", env={"PYWHISK_FEED_ALLOWED_HOSTS": "127.0.0.1"})
    srv.start()
    yield srv
    srv.stop()


def create_trigger(
    wsk: Wsk, name: str, dbname: str, couch: PouchDBServer, check: bool = True
) -> subprocess.CompletedProcess[str]:
    user, password = ADMIN
    return wsk(
        *("trigger", "create", name, "--feed", "/whisk.system/couchdb/changes"),
        *("-p", "dbname", dbname, "-p", "host", "127.0.0.1", "-p", "port", str(couch.port)),
        *("-p", "username", user, "-p", "password", password),
        check=check,
    )


def put_doc(couch: PouchDBServer, db: str, doc_id: str) -> None:
    with couch.client() as client:
        client.put(f"/{db}/{doc_id}", json={"taken": doc_id}).raise_for_status()


def changed_ids(api: httpx.Client) -> list[str]:
    return sorted(r["response"]["result"]["id"] for r in records(api, "echo"))


def test_each_change_fires_once_across_a_restart(
    wsk: Wsk,
    api: httpx.Client,
    server: StandaloneServer,
    couchdb_server: PouchDBServer,
    tmp_path: Path,
) -> None:
    with couchdb_server.client() as client:
        client.put("/365photos").raise_for_status()
    put_doc(couchdb_server, "365photos", "before")  # the feed starts at `now`: not fired
    echo_action(wsk, tmp_path)
    created = create_trigger(wsk, "photos", "365photos", couchdb_server)
    assert created.stdout.splitlines()[-1] == "ok: created trigger photos"
    wsk("rule", "create", "photos-echo", "photos", "echo")
    put_doc(couchdb_server, "365photos", "day001")
    put_doc(couchdb_server, "365photos", "day002")
    wait_until(
        lambda: changed_ids(api),
        "the first two changes fired",
        until=lambda ids: ids == ["day001", "day002"],
    )
    first = records(api, "echo")[0]["response"]["result"]
    assert first["dbname"] == "365photos" and first["changes"][0]["rev"].startswith("1-")

    server.stop()
    put_doc(couchdb_server, "365photos", "day003")  # while the server is down
    server.start()
    put_doc(couchdb_server, "365photos", "day004")
    wait_until(lambda: changed_ids(api), "four changes fired", until=lambda ids: len(ids) >= 4)
    time.sleep(2)  # anything repeated would show by now
    assert changed_ids(api) == ["day001", "day002", "day003", "day004"]
    assert len(records(api, "photos")) == 4

    refused = create_trigger(wsk, "nodb", "nosuchdb", couchdb_server, check=False)
    assert refused.returncode != 0 and "database 'nosuchdb' answered 404" in refused.stderr
    assert api.get("/namespaces/_/triggers/nodb").status_code == 404
