"""Reading a server's /metrics as Prometheus would: prometheus-client's own parser."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from pywhisk.common.entities import Identity
from pywhisk.common.store.base import store_from_url


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(parsed: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 if none)."""
    return sum(
        v for n, ls, v in parsed if n == name and all(ls.get(k) == x for k, x in labels.items())
    )


def scrape(url: str, **kwargs: object) -> list[tuple[str, dict[str, str], float]]:
    answer = httpx.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    return samples(answer.text)


def operator(store_url: str) -> Identity:
    """The whisk.system namespace's identity, read from the store."""

    async def go() -> Identity:
        store = store_from_url(store_url)
        await store.open()
        try:
            found = await store.subjects.by_namespace("whisk.system")
            assert found is not None
            return found
        finally:
            await store.close()

    return asyncio.run(go())
