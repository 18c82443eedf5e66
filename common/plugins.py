"""Backends chosen by URL scheme (kombu style): `sqlite:///…`, `memory://`, `process://`, …

Each family maps schemes to `module:Class` strings so a heavy client (aiokafka, docker,
couchdb3) is imported only when its scheme is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit


class UnknownScheme(ValueError):
    pass


def scheme_of(url: str) -> str:
    return urlsplit(url).scheme


def load(family: str, url: str, registry: dict[str, str]) -> Any:
    """The implementation class registered for `url`'s scheme, imported on demand."""
    scheme = scheme_of(url)
    target = registry.get(scheme)
    if target is None:
        known = ", ".join(f"{s}://" for s in sorted(registry))
        raise UnknownScheme(f"unknown {family} URL scheme in {url!r}: known schemes are {known}")
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)
