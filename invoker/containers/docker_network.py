"""The network Docker action containers join, and the secret their runtimes ask for.

Two layers keep one action away from another's runtime (its `/run` answers with results and
`/init` turns a stem cell into anything), since any container on a bridge can otherwise
connect to any other's port 8080:

- **A network of our own, without inter-container traffic.** By default the factory puts
  containers on `pywhisk-actions`, a bridge created (when missing) with
  `com.docker.network.bridge.enable_icc=false`: the engine drops traffic between two
  containers on it, while the host (the invoker talking to each container's address, the
  API on the bridge's gateway address) is still reached. A network named in the URL
  (`?network=`) is used as it is: compose's `pywhisk` must let invokers and nginx, which are
  containers too, reach action containers and be reached by them, so icc stays on there.
- **A per-container secret.** Each container gets a random token in its environment
  (`PYWHISK_RUNTIME_TOKEN`, removed before the launcher starts) and its runtime answers 403
  to any request without it in `X-Runtime-Token`; the invoker sends it on every request.
  This is what guards compose's network, and a second lock on ours. It costs one header
  (~60 bytes) and one constant-time comparison per activation. Blackbox images ignore it:
  on a network with icc on, their containers are reachable by other actions.
"""

from __future__ import annotations

import logging
import secrets
import socket
from typing import Any

log = logging.getLogger("pywhisk.invoker")

DEFAULT_NETWORK = "pywhisk-actions"
TOKEN_ENV = "PYWHISK_RUNTIME_TOKEN"
TOKEN_HEADER = "X-Runtime-Token"
ICC_OPTION = "com.docker.network.bridge.enable_icc"
LABEL_NETWORK = "pywhisk.network"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def ensure_network(client: Any, name: str) -> str | None:
    """Make sure network `name` exists (created without icc when missing; blocking SDK
    calls) and return its IPv4 gateway, if it has one."""
    from docker import errors as docker_errors

    api = client.api
    try:
        info = api.inspect_network(name)
    except docker_errors.NotFound:
        try:
            api.create_network(
                name,
                driver="bridge",
                options={ICC_OPTION: "false"},
                labels={LABEL_NETWORK: "actions"},
                check_duplicate=True,
            )
            log.info("created Docker network %s (no traffic between containers)", name)
        except docker_errors.APIError as exc:
            if exc.status_code != 409:  # 409: another invoker created it meanwhile
                raise
        info = api.inspect_network(name)
    if (info.get("Options") or {}).get(ICC_OPTION) != "false":
        log.info(
            "Docker network %s lets containers reach each other: the runtime token alone "
            "keeps actions out of each other's runtimes",
            name,
        )
    return gateway_of(info)


def gateway_of(info: dict[str, Any]) -> str | None:
    """The first IPv4 gateway of a network's inspect document."""
    for config in (info.get("IPAM") or {}).get("Config") or []:
        gateway = config.get("Gateway") or ""
        if gateway and ":" not in gateway:
            return str(gateway.split("/")[0])
    return None


def reachable(ip: str, port: int) -> bool:
    """Whether a container's own address can be reached from here: refused (nobody listens
    yet) says yes as clearly as an accepted connection; no route or silence says no."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        try:
            probe.connect((ip, port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return True
