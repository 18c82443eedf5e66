"""Who is calling: a namespace with its credentials and limits (docs/openwhisk-compatibility.md §1.1, §1.8, §2.7)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger("pywhisk")

# Sane ceilings for an override: far above what one installation serves (a standalone
# server answers a few thousand invokes a second), low enough that a typo's extra digits
# are refused. Zero or less would refuse every request of the namespace: never meant.
MAX_PER_MINUTE = 1_000_000
MAX_CONCURRENT = 100_000

PerMinute = Annotated[int, Field(strict=True, ge=1, le=MAX_PER_MINUTE)]
Concurrent = Annotated[int, Field(strict=True, ge=1, le=MAX_CONCURRENT)]


class NamespaceLimits(BaseModel):
    """Per-namespace overrides; None means the system default (OW UserLimits). Values are
    validated here, so no writer (admin command, API, store) can keep a negative limit."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    invocationsPerMinute: PerMinute | None = None
    concurrentInvocations: Concurrent | None = None
    firesPerMinute: PerMinute | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)

    @classmethod
    def stored(cls, doc: dict[str, Any]) -> NamespaceLimits:
        """Limits as a store holds them. An override that no longer validates (written before
        values were checked, e.g. -5) is dropped, so the default applies, rather than
        making the namespace's every request fail on reading its identity."""
        try:
            return cls.model_validate(doc)
        except ValidationError:
            kept: dict[str, Any] = {}
            for field in cls.model_fields:
                try:
                    kept.update(cls.model_validate({field: doc.get(field)}).to_json())
                except ValidationError:
                    log.warning("ignoring the stored limit %s=%r", field, doc.get(field))
            return cls.model_validate(kept)


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
