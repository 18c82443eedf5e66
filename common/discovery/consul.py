"""Invoker discovery through Consul (`consul://host:8500`, optional `?token=…`), on
`py-consul` (the `consul` extra). Kept thin on purpose, and run off the event loop (the
client blocks): each invoker registers a service `pywhisk-invoker` with id
`invoker{N}`, meta `{invoker, user_memory}` and a TTL check it marks passing on every
heartbeat; controllers list the instances whose checks pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from pywhisk.common.discovery.base import SERVICE, TTL, Discovery, DiscoveryError

T = TypeVar("T")


def service_id(invoker_id: int) -> str:
    return f"invoker{invoker_id}"


class ConsulDiscovery(Discovery):
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 8500
        self.scheme = query.get("scheme", ["http"])[0]
        self.token = query.get("token", [None])[0]
        self._client: Any = None

    async def open(self) -> None:
        try:
            import consul
        except ImportError:  # pragma: no cover - depends on the install
            raise DiscoveryError(
                "consul:// discovery needs py-consul: pip install 'pywhisk[consul]'"
            ) from None
        self._client = consul.Consul(
            host=self.host, port=self.port, token=self.token, scheme=self.scheme
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            http = getattr(client, "http", None)
            if http is not None and hasattr(http, "close"):
                await asyncio.to_thread(http.close)

    async def _call(self, work: Callable[[Any], T]) -> T:
        if self._client is None:
            await self.open()
        client = self._client
        try:
            return await asyncio.to_thread(work, client)
        except Exception as exc:
            raise DiscoveryError(f"consul at {self.host}:{self.port}: {exc}") from exc

    async def register(self, invoker_id: int, user_memory: int, ttl: float = TTL) -> None:
        import consul

        check = consul.Check.ttl(f"{ttl:g}s")
        # A dead invoker's registration is dropped after a minute critical (Consul's floor).
        check["DeregisterCriticalServiceAfter"] = "1m"
        await self._call(
            lambda c: c.agent.service.register(
                SERVICE,
                service_id=service_id(invoker_id),
                meta={"invoker": str(invoker_id), "user_memory": str(user_memory)},
                check=check,
            )
        )
        await self.heartbeat(invoker_id)  # passing now, not after the first TTL

    async def heartbeat(self, invoker_id: int) -> None:
        await self._call(lambda c: c.agent.check.ttl_pass(f"service:{service_id(invoker_id)}"))

    async def deregister(self, invoker_id: int) -> None:
        await self._call(lambda c: c.agent.service.deregister(service_id(invoker_id)))

    async def healthy(self) -> Mapping[int, int | None] | None:
        _index, nodes = await self._call(lambda c: c.health.service(SERVICE, passing=True))
        found: dict[int, int | None] = {}
        for node in nodes:
            meta = (node.get("Service") or {}).get("Meta") or {}
            try:
                invoker = int(meta["invoker"])
            except (KeyError, ValueError):
                continue
            memory = meta.get("user_memory")
            found[invoker] = int(memory) if memory and memory.isdigit() else None
        return found
