"""Webhook secrets (a pywhisk extension; OpenWhisk has no webhooks): an outside service that
cannot send Basic credentials fires a trigger by POSTing to a URL that holds a secret.

The secret is 32 random bytes (256 bits), URL-safe base64; only its SHA-256 is stored, so
a copy of the store does not fire anything, and a plain hash suffices where the secret is
random and long (no dictionary to try). Checking compares digests in constant time, and
an unknown namespace or trigger is checked against a stand-in digest, so the answer takes
the same time whatever was wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pywhisk.common.entities.trigger import Trigger, WebhookKey

_STAND_IN = hashlib.sha256(b"no webhook here").hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def key_for(secret: str, now: int) -> WebhookKey:
    return WebhookKey(sha256=_digest(secret), created=now)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def opens(trigger: Trigger | None, secret: str) -> bool:
    """Whether `secret` is `trigger`'s current webhook secret."""
    key = trigger.webhook if trigger is not None else None
    expected = key.sha256 if key is not None else _STAND_IN
    matches = hmac.compare_digest(_digest(secret), expected)
    return matches and key is not None


def webhook_path(namespace: str, trigger: str, secret: str) -> str:
    return f"/api/v1/webhooks/{namespace}/{trigger}/{secret}"
