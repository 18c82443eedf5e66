"""Per-action limits and the system ranges they must fall in (docs/openwhisk-compatibility.md §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class ActionLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    timeout: int = 60_000  # ms
    memory: int = 256  # MB
    logs: int = 10  # MB
    concurrency: int = 1

    def to_json(self) -> dict[str, int]:
        return self.model_dump()


class LimitsPut(BaseModel):
    """Limits as sent on PUT: every field optional, merged per field on update."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    timeout: int | None = None
    memory: int | None = None
    logs: int | None = None
    concurrency: int | None = None


@dataclass(frozen=True, slots=True)
class LimitRanges:
    """System-wide min/max, configurable (users keep asking to raise them, §9 #3)."""

    min_timeout: int = 100
    max_timeout: int = 300_000
    min_memory: int = 128
    max_memory: int = 512
    min_logs: int = 0
    max_logs: int = 10
    min_concurrency: int = 1
    max_concurrency: int = 1

    def violations(self, limits: ActionLimits) -> str | None:
        """The first OW-worded 400 message for an out-of-range limit, or None."""
        t, m, lg, c = limits.timeout, limits.memory, limits.logs, limits.concurrency
        if t < self.min_timeout:
            return f"duration {t} milliseconds below allowed threshold of {self.min_timeout} milliseconds"
        if t > self.max_timeout:
            return f"duration {t} milliseconds exceeds allowed threshold of {self.max_timeout} milliseconds"
        if m < self.min_memory:
            return f"memory size {m} MB below allowed threshold of {self.min_memory} MB"
        if m > self.max_memory:
            return f"memory size {m} MB exceeds allowed threshold of {self.max_memory} MB"
        if lg < self.min_logs:
            return f"log size {lg} MB below allowed threshold of {self.min_logs} MB"
        if lg > self.max_logs:
            return f"log size {lg} MB exceeds allowed threshold of {self.max_logs} MB"
        if c < self.min_concurrency:
            return f"concurrency {c} below allowed threshold of {self.min_concurrency}"
        if c > self.max_concurrency:
            return f"concurrency {c} exceeds allowed threshold of {self.max_concurrency}"
        return None
