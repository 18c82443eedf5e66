"""First-start set-up: the default namespaces and the wsk properties file.

Keys are generated on first start and kept in the store; none ships in the source.
"""

from __future__ import annotations

import os
from pathlib import Path

from pywhisk.common.entities import Identity
from pywhisk.common.ids import new_auth
from pywhisk.common.store.base import Store

GUEST = "guest"
SYSTEM = "whisk.system"


async def ensure_namespace(store: Store, namespace: str) -> Identity:
    identity = await store.subjects.by_namespace(namespace)
    if identity is None:
        uuid, key = new_auth()
        identity = Identity(namespace=namespace, subject=namespace, uuid=uuid, key=key)
        await store.subjects.put(identity)
    return identity


def wskprops_path() -> Path:
    configured = os.environ.get("WSK_CONFIG_FILE")
    return Path(configured) if configured else Path.home() / ".wskprops"


def read_props(path: Path) -> dict[str, str]:
    props: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.lstrip().startswith("#"):
                props[key.strip()] = value.strip()
    return props


def write_wskprops_if_unset(path: Path, apihost: str, identity: Identity) -> bool:
    """Point `wsk` at this server unless the file already holds credentials."""
    props = read_props(path)
    if props.get("AUTH"):
        return False
    props["APIHOST"] = apihost
    props["AUTH"] = identity.auth
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{k}={v}\n" for k, v in props.items())
    # The key is a credential: keep the file private to the user.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return True
