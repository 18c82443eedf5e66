"""Usage: what each action of a namespace ran, in the units a bill counts.

An activation is billed as Lambda bills a function: its memory limit times its duration,
the duration in whole milliseconds, rounded up: the invoker records `end - start` as the time
taken rounded up to the millisecond (`invoker.client.span_end`: 0.3 ms is 1, 2.1 ms is 3),
so a record's `duration` is the billed duration as it is. Summed as GB-seconds
(MB/1024 × ms/1000). Only records of code that ran count: a sequence's
record sums its components' durations, which count on their own, and a trigger's record
has no duration. Cold starts are records with `initTime`; errors, any status but success.

Stores sum integers (MB·ms) and this module divides once at the end, so the figure is
exactly what the records add up to, whichever store computed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pywhisk.common.store.records import Doc, activation_filter_name

MB_MS_PER_GB_SECOND = 1024 * 1000
DEFAULT_MEMORY = 256  # MB, OpenWhisk's default limit, for a record that names none


@dataclass(frozen=True, slots=True)
class Billed:
    """One record's part of the bill."""

    name: str  # [pkg/]action, as activation lists filter by it
    mb_ms: int
    cold: bool
    error: bool


@dataclass(slots=True)
class ActionUsage:
    name: str
    invocations: int = 0
    mb_ms: int = 0
    cold_starts: int = 0
    errors: int = 0

    def add(self, other: ActionUsage) -> None:
        self.invocations += other.invocations
        self.mb_ms += other.mb_ms
        self.cold_starts += other.cold_starts
        self.errors += other.errors

    def to_json(self, price: float = 0.0) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "invocations": self.invocations,
            "gb_seconds": gb_seconds(self.mb_ms),
            "cold_starts": self.cold_starts,
            "errors": self.errors,
        }
        if price:
            out["cost"] = gb_seconds(self.mb_ms) * price
        return out


# What a store's usage() returns (an alias: in the stores' classes `list` is a method).
Usage = list[ActionUsage]


def gb_seconds(mb_ms: int) -> float:
    return mb_ms / MB_MS_PER_GB_SECOND


def billed(doc: Doc) -> Billed | None:
    """A stored record's figures, or None when nothing of it is billed."""
    duration = doc.get("duration")
    if not isinstance(duration, int) or "end" not in doc:
        return None
    annotations = {
        a.get("key"): a.get("value") for a in doc.get("annotations", ()) if isinstance(a, dict)
    }
    if annotations.get("kind") == "sequence":
        return None
    limits = annotations.get("limits")
    memory = limits.get("memory") if isinstance(limits, dict) else None
    if not isinstance(memory, int):
        memory = DEFAULT_MEMORY
    status = doc.get("response", {}).get("statusCode", 0)
    return Billed(
        name=activation_filter_name(doc),
        mb_ms=memory * max(duration, 0),
        cold="initTime" in annotations,
        error=status != 0,
    )


def summarize(docs: list[Doc]) -> list[ActionUsage]:
    """The usage of `docs`, per action, by name (the reference the stores must agree with)."""
    by: dict[str, ActionUsage] = {}
    for doc in docs:
        b = billed(doc)
        if b is None:
            continue
        u = by.setdefault(b.name, ActionUsage(b.name))
        u.add(ActionUsage(b.name, 1, b.mb_ms, int(b.cold), int(b.error)))
    return sorted(by.values(), key=lambda u: u.name)


def total(actions: list[ActionUsage]) -> ActionUsage:
    out = ActionUsage("")
    for u in actions:
        out.add(u)
    return out
