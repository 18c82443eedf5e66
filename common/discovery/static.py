"""Discovery without a server (`static://`): the invokers are the ones the URL names.

`static://` restricts nothing (standalone: whoever pings is there); `static://?invokers=0,1`
allows only invokers 0 and 1; `&memory=2048` gives their user memory when known.
Registration is a no-op: nothing to tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from pywhisk.common.discovery.base import TTL, Discovery


class StaticDiscovery(Discovery):
    def __init__(self, url: str = "static://") -> None:
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
        ids = [part for value in query.get("invokers", []) for part in value.split(",")]
        try:
            self.invokers: tuple[int, ...] | None = (
                tuple(int(i) for i in ids if i.strip()) if "invokers" in query else None
            )
            self.memory = int(query["memory"][0]) if "memory" in query else None
        except ValueError:
            raise ValueError(f"invalid static discovery URL {url!r}") from None

    async def register(self, invoker_id: int, user_memory: int, ttl: float = TTL) -> None:
        return None

    async def heartbeat(self, invoker_id: int) -> None:
        return None

    async def deregister(self, invoker_id: int) -> None:
        return None

    async def healthy(self) -> Mapping[int, int | None] | None:
        if self.invokers is None:
            return None
        return dict.fromkeys(self.invokers, self.memory)
