"""examples/crud-api: five web actions in one package over one SQLite file (real HTTP)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.examples import host_files_server, run_deploy, shared_dir
from tests.support.server import StandaloneServer

__all__ = ["host_files_server", "shared_dir"]  # the fixtures, used below

Wsk = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def server(host_files_server: StandaloneServer) -> StandaloneServer:
    """The example keeps its state in the host's files: a server without the sandbox."""
    return host_files_server


def deploy(wskprops: Path, db: Path) -> None:
    output = run_deploy(wskprops, "crud-api", str(db))
    assert output.count("ok: updated action todo/") == 5


def test_crud_api(
    wsk: Wsk, wskprops: Path, shared_dir: Path, server: StandaloneServer, namespace: Identity
) -> None:
    db = shared_dir / "todo.sqlite"
    deploy(wskprops, db)
    base = wsk("action", "get", "todo/list", "--url").stdout.splitlines()[-1].rsplit("/", 1)[0]
    assert base == f"{server.url}/api/v1/web/{namespace.namespace}/todo"

    with httpx.Client(base_url=base + "/", timeout=60) as api:
        assert (api.get("list").status_code, api.get("list").json()) == (200, [])

        milk = api.post("create", json={"title": "Buy milk"})
        assert (milk.status_code, milk.json()) == (
            201,
            {"id": 1, "title": "Buy milk", "done": False},
        )
        assert milk.headers["location"] == "read/1"
        assert api.get(milk.headers["location"]).json()["title"] == "Buy milk"
        api.post("create", json={"title": "Call Rob"})

        done = api.put("update/1", json={"done": True})
        assert (done.status_code, done.json()) == (
            200,
            {"id": 1, "title": "Buy milk", "done": True},
        )
        assert [t["id"] for t in api.get("list", params={"done": "true"}).json()] == [1]
        assert [t["id"] for t in api.get("list", params={"done": "false"}).json()] == [2]

        # the state is in the file, not in the containers: a new deployment retires every
        # warm container, and the items are still there
        deploy(wskprops, db)
        assert [t["title"] for t in api.get("list").json()] == ["Buy milk", "Call Rob"]

        deleted = api.delete("delete/1")
        assert (deleted.status_code, deleted.content) == (204, b"")
        missing = api.get("read/1")
        assert (missing.status_code, missing.json()) == (404, {"error": "no to-do item 1"})
        assert api.delete("delete/1").status_code == 404

        for bad in (
            api.post("create", json={"title": "  "}),
            api.post("create", json={"title": "x" * 201}),
            api.put("update/2", json={"done": "yes"}),
            api.get("read/two"),
            api.get("list", params={"done": "maybe"}),
        ):
            assert bad.status_code == 400 and "error" in bad.json()
        wrong_method = api.get("delete/2")
        assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "DELETE")
        # the database path is the package's final parameter: callers cannot point elsewhere
        elsewhere = api.post("create", json={"title": "x", "db": "/tmp/other.sqlite"})
        assert elsewhere.status_code == 400
        assert elsewhere.json()["error"] == (
            "Request defines parameters that are not allowed (e.g., reserved properties)."
        )
    assert [t["title"] for t in httpx.get(f"{base}/list").json()] == ["Call Rob"]
