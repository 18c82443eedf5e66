"""Which hosts a tenant's database-changes feed may make the controller connect to.

The changes feed connects from inside the platform to a host the tenant names. Unchecked,
any tenant could have it read any CouchDB the controller reaches (the platform's own store
included) and map the internal network through the errors it reports. So a feed's host must
resolve only to public addresses, and not to the platform's own services (the store, queue
and discovery hosts of its settings, by name or address), unless the operator allows it:
`PYWHISK_FEED_ALLOWED_HOSTS`, a comma-separated list of host names, addresses and networks
(`127.0.0.1,couch.internal,10.1.0.0/16`), or `*` for any host.

Every address a name resolves to is checked (a name with one public and one private address
is refused), and the controller then connects to the checked address itself, with the name
kept in the Host header and TLS's SNI, so that a second resolution (DNS rebinding) cannot
swap in another one. A refusal says the same whatever the reason (private, the platform's,
no such name): nothing about the internal network comes back to the tenant.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pywhisk.controller.core.feeds.alarm_spec import FeedRefused

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def refusal(host: str) -> FeedRefused:
    return FeedRefused(
        400,
        f"couchdb trigger feed: host '{host}' cannot be used: it must resolve to public "
        "addresses only, other than the platform's own services",
    )


def _plain(address: Address) -> Address:
    """An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 one it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def service_hosts(urls: Iterable[str]) -> frozenset[str]:
    """Host names of backend URLs (`couchdb://u:p@db:5984/x`, `kafka://k1:9092,k2:9092`)."""
    hosts: set[str] = set()
    for url in urls:
        netloc = urlsplit(url).netloc.rpartition("@")[2]
        for part in netloc.split(","):
            if part.startswith("["):
                host = part[1 : part.find("]")]
            else:
                host = part.rsplit(":", 1)[0] if part.count(":") == 1 else part
            host = host.lower()
            if host:
                hosts.add(host)
    return frozenset(hosts)


@dataclass(frozen=True)
class HostPolicy:
    allow_any: bool = False
    allowed_names: frozenset[str] = frozenset()
    allowed_networks: tuple[Network, ...] = ()
    platform_hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, allowed: str, service_urls: Iterable[str] = ()) -> HostPolicy:
        names: set[str] = set()
        networks: list[Network] = []
        for entry in (e.strip().lower() for e in allowed.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry)
        return cls(
            "*" in names, frozenset(names - {"*"}), tuple(networks), service_hosts(service_urls)
        )

    def allowed(self, address: Address) -> bool:
        return any(address in network for network in self.allowed_networks)

    def permits(self, host: str, addresses: list[Address], platform: set[Address]) -> bool:
        """Pure: may a feed connect to `host`, which resolved to `addresses`? `platform`:
        the addresses the platform's service hosts resolve to."""
        if self.allow_any or host.lower() in self.allowed_names:
            return bool(addresses)
        if not addresses or host.lower() in self.platform_hosts:
            return False
        for address in map(_plain, addresses):
            if self.allowed(address):
                continue
            if not address.is_global or address in platform:
                return False
        return True


async def _resolve(host: str, port: int) -> list[Address]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


async def checked_address(policy: HostPolicy, host: str, port: int) -> str:
    """The address to connect to for `host`, once every address it has is checked; raises
    the feed's refusal otherwise."""
    addresses = await _resolve(host.strip("[]"), port)
    platform: set[Address] = set()
    if not policy.allow_any:
        for name in policy.platform_hosts:
            platform.update(map(_plain, await _resolve(name, port)))
    if not policy.permits(host.strip("[]"), addresses, platform):
        raise refusal(host)
    return str(addresses[0])
