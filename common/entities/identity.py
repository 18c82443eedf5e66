"""Who is calling: a namespace with its credentials and limits (OPENWHISK.md §1.1, §1.8, §2.7)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class NamespaceLimits(BaseModel):
    """Per-namespace overrides; None means the system default (OW UserLimits)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    invocationsPerMinute: int | None = None
    concurrentInvocations: int | None = None
    firesPerMinute: int | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Identity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    namespace: str
    subject: str
    uuid: str
    key: str
    limits: NamespaceLimits = NamespaceLimits()

    @property
    def auth(self) -> str:
        return f"{self.uuid}:{self.key}"
