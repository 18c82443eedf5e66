"""Who may read the metrics: the operator, never a tenant.

Figures name every namespace and action, so they answer only the `whisk.system`
namespace's key (HTTP Basic, as the API takes it) or a bearer token set by the operator
(`PYWHISK_METRICS_TOKEN`) for a Prometheus that should not hold a namespace key. Shared by
the controller's `/metrics` and the invoker's metrics port.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from pywhisk.common.store.base import Store

OPERATOR_NAMESPACE = "whisk.system"


def basic_credentials(header: str) -> tuple[str, str] | None:
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    uuid, sep, key = decoded.partition(":")
    return (uuid, key) if sep else None


async def is_operator(header: str | None, token: str, store: Store) -> bool:
    if not header:
        return False
    if header[:7].lower() == "bearer ":
        # An unset token opens nothing; compare_digest keeps timing from telling a prefix.
        return bool(token) and hmac.compare_digest(header[7:].strip().encode(), token.encode())
    credentials = basic_credentials(header)
    if credentials is None:
        return False
    identity = await store.subjects.by_auth(*credentials)
    return identity is not None and identity.namespace == OPERATOR_NAMESPACE
