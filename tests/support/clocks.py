"""Clocks the tests control, for code that takes a `clock` (a callable returning seconds)."""

from __future__ import annotations


class ManualClock:
    """Stands still until the test sets `now` (the balancer's ping ages, the tracker's
    timers)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class TickingClock:
    """One second later at every reading, so that each event the code stamps is ordered
    after the one before (the pool's last-use times)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now
