"""`consul://` against a stand-in Consul agent.

No Consul server can run here, so `ConsulDiscovery` is checked against a tiny HTTP server in
this test that speaks just the Consul agent/health endpoints the adapter calls (service
register, check pass, service deregister, health of a service), recording each request so
the test can check exactly what would reach a real Consul. That is the one stand-in: what a
real agent does with those requests (TTL expiry, check ids) is Consul's documented
behaviour, not checked here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pywhisk.common.discovery.base import discovery_from_url
from pywhisk.common.discovery.consul import ConsulDiscovery


class _Agent:
    """What the stand-in agent has seen and holds."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.services: dict[str, dict[str, Any]] = {}
        self.passing: set[str] = set()


def _handler(agent: _Agent) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, body: Any, index: bool = False) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if index:
                self.send_header("X-Consul-Index", "7")
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> tuple[str, dict[str, list[str]], Any]:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = parse_qs(parts.query, keep_blank_values=True)
            agent.requests.append((self.command, parts.path, query, body))
            return parts.path, query, body

        def do_PUT(self) -> None:
            path, _query, body = self._record()
            if path == "/v1/agent/service/register":
                agent.services[body["id"]] = body
            elif path.startswith("/v1/agent/check/pass/service:"):
                agent.passing.add(path.rsplit("service:", 1)[1])
            elif path.startswith("/v1/agent/service/deregister/"):
                sid = path.rsplit("/", 1)[1]
                agent.services.pop(sid, None)
                agent.passing.discard(sid)
            else:
                self.send_error(404)
                return
            self._reply(True)

        def do_GET(self) -> None:
            path, _query, _body = self._record()
            if path != "/v1/health/service/pywhisk-invoker":
                self.send_error(404)
                return
            nodes = [
                {
                    "Node": {"Node": "n1"},
                    "Service": {"ID": sid, "Service": s["name"], "Meta": s.get("meta", {})},
                    "Checks": [],
                }
                for sid, s in agent.services.items()
                if sid in agent.passing
            ]
            # An unrelated instance without our meta is skipped.
            nodes.append({"Service": {"ID": "other", "Meta": {}}})
            self._reply(nodes, index=True)

    return Handler


@pytest.fixture
def agent() -> Iterator[tuple[_Agent, int]]:
    state = _Agent()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


async def test_consul_register_heartbeat_list_deregister(agent: tuple[_Agent, int]) -> None:
    state, port = agent
    discovery = discovery_from_url(f"consul://127.0.0.1:{port}")
    assert isinstance(discovery, ConsulDiscovery)
    await discovery.open()
    try:
        await discovery.register(1, 2048, ttl=10)
        method, path, query, body = state.requests[0]
        assert (method, path) == ("PUT", "/v1/agent/service/register")
        assert body == {
            "name": "pywhisk-invoker",
            "id": "invoker1",
            "meta": {"invoker": "1", "user_memory": "2048"},
            "checks": [{"ttl": "10s", "DeregisterCriticalServiceAfter": "1m"}],
        }
        # Registering marks the check passing at once.
        assert state.requests[1][:2] == ("PUT", "/v1/agent/check/pass/service:invoker1")

        await discovery.register(0, 1024)
        assert await discovery.healthy() == {0: 1024, 1: 2048}
        method, path, query, _ = state.requests[-1]
        assert (method, path) == ("GET", "/v1/health/service/pywhisk-invoker")
        assert query["passing"] == ["1"]

        await discovery.heartbeat(0)
        assert state.requests[-1][:2] == ("PUT", "/v1/agent/check/pass/service:invoker0")

        await discovery.deregister(1)
        assert state.requests[-1][:2] == ("PUT", "/v1/agent/service/deregister/invoker1")
        assert await discovery.healthy() == {0: 1024}
    finally:
        await discovery.close()


async def test_consul_unreachable_is_a_discovery_error() -> None:
    from pywhisk.common.discovery.base import DiscoveryError

    discovery = ConsulDiscovery("consul://127.0.0.1:1")
    await discovery.open()
    with pytest.raises(DiscoveryError, match=r"127\.0\.0\.1:1"):
        await discovery.healthy()
    await discovery.close()
