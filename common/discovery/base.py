"""The discovery family: which invokers exist and are alive, beside the health pings.

Invokers register themselves with a TTL check and heartbeat it; controllers read the set
whose checks pass. Implementations: `StaticDiscovery` (`static://`, a fixed list or no
restriction: standalone and tests), `ConsulDiscovery` (`consul://host:8500`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from pywhisk.common import plugins

DISCOVERIES = {
    "static": "pywhisk.common.discovery.static:StaticDiscovery",
    "consul": "pywhisk.common.discovery.consul:ConsulDiscovery",
}

SERVICE = "pywhisk-invoker"
TTL = 10.0  # s a registration stays passing without a heartbeat


class DiscoveryError(RuntimeError):
    """The discovery backend could not be reached or refused a request."""


class Discovery(ABC):
    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    @abstractmethod
    async def register(self, invoker_id: int, user_memory: int, ttl: float = TTL) -> None:
        """Announce this invoker; it stays listed while heartbeats arrive within `ttl`."""

    @abstractmethod
    async def heartbeat(self, invoker_id: int) -> None: ...

    @abstractmethod
    async def deregister(self, invoker_id: int) -> None: ...

    @abstractmethod
    async def healthy(self) -> Mapping[int, int | None] | None:
        """Live invoker ids with their user memory in MB (None: not known here, take the
        pinged one); None as a whole: this backend does not restrict the set."""


def discovery_from_url(url: str) -> Discovery:
    cls = plugins.load("discovery", url, DISCOVERIES)
    return cls(url)  # type: ignore[no-any-return]
