"""The discovery family's URL handling and `static://` (the Consul adapter is checked against a
stand-in agent in tests/integration/test_discovery_consul.py)."""

from __future__ import annotations

import pytest

from pywhisk.common.discovery.base import discovery_from_url
from pywhisk.common.discovery.static import StaticDiscovery
from pywhisk.common.plugins import UnknownScheme


async def test_static_without_invokers_restricts_nothing() -> None:
    discovery = discovery_from_url("static://")
    assert isinstance(discovery, StaticDiscovery)
    await discovery.register(0, 2048)
    await discovery.heartbeat(0)
    await discovery.deregister(0)
    assert await discovery.healthy() is None


async def test_static_lists_the_given_invokers() -> None:
    assert await discovery_from_url("static://?invokers=0,1").healthy() == {0: None, 1: None}
    assert await discovery_from_url("static://?invokers=2&memory=512").healthy() == {2: 512}
    assert await discovery_from_url("static://?invokers=").healthy() == {}
    with pytest.raises(ValueError):
        discovery_from_url("static://?invokers=a")


def test_unknown_scheme_names_the_known_ones() -> None:
    with pytest.raises(UnknownScheme, match=r"consul://, static://"):
        discovery_from_url("etcd://x")
