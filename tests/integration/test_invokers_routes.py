"""The controller's invoker-health admin routes (OW `/invokers`, `/invokers/healthy/count`,
`/invokers/ready`), over the ASGI app with a ShardingBalancer fed pings by hand."""

from __future__ import annotations

from pathlib import Path

import httpx

from pywhisk.common.config import Settings
from pywhisk.common.messages import PingMessage
from pywhisk.common.queue.memory import MemoryQueue
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.api.app import create_app
from pywhisk.controller.core.balancer import ShardingBalancer
from pywhisk.controller.core.services import Services
from tests.support.clocks import ManualClock


async def test_invoker_health_routes(tmp_path: Path) -> None:
    queue = MemoryQueue()
    clock = ManualClock()
    balancer = ShardingBalancer(queue, 0, clock=clock)
    services = Services(
        Settings(data_dir=tmp_path),
        SqliteStore(f"sqlite:///{tmp_path / 'db'}"),
        queue,
        use_balancer=balancer,
    )
    app = create_app(services, manage_services=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://c") as c:
        assert (await c.get("/invokers")).json() == {}
        r = await c.get("/invokers/ready")
        assert (r.status_code, r.json()) == (500, {"unhealthy": "0/0"})

        balancer.on_ping(PingMessage(invoker=0, user_memory=1024))
        balancer.on_ping(PingMessage(invoker=1, user_memory=1024))
        r = await c.get("/invokers/ready")
        assert (r.status_code, r.json()) == (200, {"healthy": "2/2"})

        clock.now = 11.0
        balancer.on_ping(PingMessage(invoker=1, user_memory=1024))
        balancer.tick()
        assert (await c.get("/invokers")).json() == {"invoker0": "down", "invoker1": "up"}
        assert (await c.get("/invokers/healthy/count")).json() == 1
        r = await c.get("/invokers/ready")
        assert (r.status_code, r.json()) == (500, {"unhealthy": "1/2"})


async def test_standalone_has_no_supervised_invokers(tmp_path: Path) -> None:
    services = Services(
        Settings(data_dir=tmp_path), SqliteStore(f"sqlite:///{tmp_path / 'db'}"), MemoryQueue()
    )
    app = create_app(services, manage_services=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://c") as c:
        assert (await c.get("/invokers")).json() == {}
        assert (await c.get("/invokers/healthy/count")).json() == 0
