"""The API gateway in the cluster preset: two `pywhisk controller`s and an invoker as real
processes on pouchdb-server and tansu. An API made or changed through one controller is
served, or stops being served, by the other: the second controller's cached copy of the
namespace's APIs is dropped by the change's invalidation message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cluster import Cluster
from tests.support.couchdb import PouchDBServer, couchdb_server
from tests.support.kafka import TansuBroker, tansu
from tests.support.polling import wait_until
from tests.support.server import create_namespace

__all__ = ["couchdb_server", "tansu"]

HELLO = "def main(args):\n    return {'path': args.get('__ow_path', ''), 'id': args.get('id')}\n"
MGMT = "/api/v1/web/whisk.system/apimgmt"


@pytest.fixture
def cluster(
    tmp_path: Path, tansu: TansuBroker, couchdb_server: PouchDBServer
) -> Iterator[tuple[Cluster, str]]:
    prefix = "apigw_"
    cluster = Cluster(tmp_path, couchdb_server.store_url(prefix), tansu.url)
    try:
        cluster.start_controller(0, of=2)
        second = cluster.start_controller(1, of=2)
        cluster.start_invoker(0)
        cluster.wait_for_controller()
        cluster.wait_for_invokers({"invoker0": "up"}, timeout=30)
        yield cluster, second
    finally:
        cluster.stop()
        couchdb_server.drop_databases(prefix)


def route(api: httpx.Client, path: str) -> str:
    made = api.post(
        f"{MGMT}/createApi.http",
        params={"responsetype": "json"},
        json={
            "apidoc": {
                "namespace": "_",
                "gatewayBasePath": "/c",
                "gatewayPath": path,
                "gatewayMethod": "GET",
                "action": {
                    "name": "hello",
                    "namespace": "_",
                    "backendMethod": "GET",
                    "backendUrl": f"{api.base_url}/api/v1/web/_/default/hello.http",
                    "authkey": "x",
                },
            }
        },
    )
    assert made.status_code == 200, made.text
    return str(made.json()["gwApiUrl"])


def status_within(url: str, wanted: int, seconds: float = 20) -> None:
    """Until `url` answers with the status `wanted`."""
    wait_until(
        lambda: httpx.get(url, timeout=60).status_code,
        f"{url} to answer {wanted}",
        timeout=seconds,
        interval=0.2,
        until=lambda status: status == wanted,
    )


def test_an_api_changed_on_one_controller_is_served_so_by_the_other(
    cluster: tuple[Cluster, str],
) -> None:
    one, second = cluster
    owner = create_namespace(one.store_url, "apiowner", invocationsPerMinute=100_000)
    uuid, _, key = owner.auth.partition(":")
    a = httpx.Client(base_url=one.url, auth=(uuid, key), timeout=60)
    b = httpx.Client(base_url=second, auth=(uuid, key), timeout=60)
    with a, b:
        put = a.put(
            "/api/v1/namespaces/_/actions/hello",
            json={
                "exec": {"kind": "python:3", "code": HELLO},
                "annotations": [{"key": "web-export", "value": True}],
            },
        )
        assert put.status_code == 200, put.text
        on_a = route(a, "/kept")
        route(a, "/dropped")
        on_b = on_a.replace(one.url, second)
        # the second controller serves both (and now holds the APIs in its cache)
        assert httpx.get(f"{on_b}/kept", timeout=60).status_code == 200
        assert httpx.get(f"{on_b}/dropped", timeout=60).status_code == 200
        gone = a.delete(f"{MGMT}/deleteApi.http", params={"basepath": "/c", "relpath": "/dropped"})
        assert gone.status_code == 200, gone.text
        status_within(f"{on_b}/dropped", 404)
        assert httpx.get(f"{on_b}/kept", timeout=60).json() == {"path": "", "id": None}
        # and a route made on the second is served by the first
        route(b, "/{id}")
        status_within(f"{on_a}/7", 200)
        assert httpx.get(f"{on_a}/7", timeout=60).json() == {"path": "", "id": "7"}
