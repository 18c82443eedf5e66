"""Which hosts a changes feed may reach: the pure rule (resolved addresses given)."""

from __future__ import annotations

import ipaddress

import pytest

from pywhisk.controller.core.feeds.feed_hosts import HostPolicy, service_hosts


def addrs(*texts: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.ip_address(t) for t in texts]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.17.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_internal_addresses_are_refused_by_default(address: str) -> None:
    assert not HostPolicy().permits("db.example", addrs(address), set())


def test_public_addresses_pass_unless_one_of_them_is_internal() -> None:
    policy = HostPolicy()
    assert policy.permits("db.example", addrs("93.184.216.34", "2606:2800:220:1::1"), set())
    assert not policy.permits("db.example", addrs("93.184.216.34", "10.0.0.5"), set())
    assert not policy.permits("nosuch.example", [], set())


def test_the_platforms_own_hosts_are_refused_by_name_and_address() -> None:
    policy = HostPolicy.parse(
        "", ["couchdb://u:p@couch.example:5984/whisk_", "kafka://k1:9092,k2:9092"]
    )
    assert policy.platform_hosts == {"couch.example", "k1", "k2"}
    assert not policy.permits("couch.example", addrs("93.184.216.34"), set())
    platform = set(addrs("93.184.216.34"))
    assert not policy.permits("alias.example", addrs("93.184.216.34"), platform)


def test_the_operator_allows_names_networks_or_anything() -> None:
    policy = HostPolicy.parse("127.0.0.1, couch.internal ,10.1.0.0/16")
    assert policy.permits("127.0.0.1", addrs("127.0.0.1"), set())
    assert policy.permits("couch.internal", addrs("192.168.7.7"), set())
    assert policy.permits("a", addrs("10.1.200.1"), set())
    assert not policy.permits("a", addrs("10.2.0.1"), set())
    assert not policy.permits("localhost", addrs("127.0.0.2"), set())
    anything = HostPolicy.parse("*")
    assert anything.permits("x", addrs("10.0.0.1"), set())
    assert not anything.permits("x", [], set())


def test_service_hosts_of_backend_urls() -> None:
    assert service_hosts(["sqlite:///tmp/x.db", "memory://", "static://"]) == frozenset()
    assert service_hosts(["consul://[fd00::5]:8500", "couchdb://db/x"]) == {"fd00::5", "db"}
