"""A tenant's changes feed cannot point the controller at internal hosts: the real `wsk`
against a standalone server with no allowed hosts, and a listener on loopback standing in
for an internal CouchDB that must never see a connection."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

Wsk = Callable[..., subprocess.CompletedProcess[str]]


class Listener:
    """A TCP listener on loopback that counts the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


@pytest.fixture
def internal() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.sock.close()


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "::1", "::ffff:127.0.0.1", "127.1", "0.0.0.0"]
)
def test_a_feed_on_an_internal_host_is_refused_and_never_connected(
    wsk: Wsk, api: httpx.Client, internal: Listener, host: str
) -> None:
    done = wsk(
        *("trigger", "create", "t", "--feed", "/whisk.system/couchdb/changes"),
        *("-p", "dbname", "whisk_guest", "-p", "host", host, "-p", "port", str(internal.port)),
        check=False,
    )
    assert done.returncode != 0
    assert (
        f"couchdb trigger feed: host '{host}' cannot be used: it must resolve to public "
        "addresses only, other than the platform's own services"
    ) in done.stderr
    assert internal.accepted == 0
    assert api.get("/namespaces/_/triggers/t").status_code == 404  # wsk removed it again


def test_the_feed_route_refuses_the_same_over_the_api(
    api: httpx.Client, internal: Listener
) -> None:
    """The feed action's own route, called directly, as a tenant could."""
    api.put("/namespaces/_/triggers/direct", json={}).raise_for_status()
    for host in ("127.0.0.1", "169.254.169.254", "10.0.0.1", "nosuch.invalid"):
        answer = api.post(
            "/namespaces/_/feeds/couchdb/direct",
            json={
                "lifecycleEvent": "CREATE",
                "dbname": "db",
                "host": host,
                "port": internal.port,
            },
        )
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert body["error"].startswith(f"couchdb trigger feed: host '{host}' cannot be used")
        assert "code" in body
    assert internal.accepted == 0
