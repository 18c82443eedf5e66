"""Identifiers: activation ids (32 lowercase hex, OW ent/ActivationId.scala) and transaction ids."""

from __future__ import annotations

import random
import re
import secrets
import string
import uuid

_ACTIVATION_ID = re.compile(r"\A[0-9a-f]{32}\Z")
_KEY_ALPHABET = string.ascii_letters + string.digits


def new_activation_id() -> str:
    # Not a secret (records are only readable with the namespace's key), so the Mersenne
    # twister will do: os.urandom costs a syscall per call on the hot path.
    return f"{random.getrandbits(128):032x}"


def new_transaction_id() -> str:
    return f"{random.getrandbits(128):032x}"


def activation_id_error(candidate: str) -> str | None:
    """The 400 message OpenWhisk gives for a malformed activation id, or None if it is fine."""
    if len(candidate) != 32:
        return f"Activation id length is {len(candidate)} but must be 32."
    if not _ACTIVATION_ID.match(candidate):
        return "The activation id is not valid."
    return None


def new_auth() -> tuple[str, str]:
    """A fresh `uuid:key` pair: key is 64 alphanumerics (OW ent/Secret.scala)."""
    key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(64))
    return str(uuid.uuid4()), key
