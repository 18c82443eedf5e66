"""Which idle container is least likely to be called again: per-action idle-time histograms.

OpenWhisk keeps an idle container a fixed 10 minutes and, when memory runs short, evicts the
least recently used. Shahrad et al. ("Serverless in the Wild", USENIX ATC '20) found that a
function's idle times (from the end of one invocation to the start of the next) are far from
alike across functions, and that a histogram of each function's own idle times predicts its
next call much better than one window for all. Here each action (invoking namespace + action)
keeps such a histogram, and an idle container is worth what its action's histogram says of a
call coming within `horizon` seconds, given it has been idle `t` seconds already:

    P(next idle time <= t + horizon | idle time > t)

An action with few observations leans on a prior that decays with the time idle, so a new
action is ranked as LRU ranks it, and an action's own history takes over as it accrues. Of
several idle containers of one action, only the first is likely to be needed by the next
call: the k-th (most recently used first) is worth 1/k of it.

Bins are logarithmic (0.05 s doubling up to ~15 hours): the paper's 1-minute bins over 4 hours
are too coarse for the seconds-apart calls an invoker sees under load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

FIRST_EDGE = 0.05  # seconds: the upper edge of the first bin
BINS = 21  # the last bin takes everything from 0.05 × 2^19 s (~7.3 h) on
PRIOR_WEIGHT = 2.0  # pseudo-observations of the prior
DEFAULT_HORIZON = 10.0  # seconds


def _bin(seconds: float) -> int:
    if seconds <= FIRST_EDGE:
        return 0
    return min(int(math.log2(seconds / FIRST_EDGE)) + 1, BINS - 1)


@dataclass(slots=True)
class _Action:
    counts: list[int] = field(default_factory=lambda: [0] * BINS)
    total: int = 0
    busy: int = 0  # activations of the action running now
    last_end: float | None = None  # when the last of them ended


class IdleTimes:
    """Idle times per action, and the worth of keeping an idle container of it."""

    def __init__(self, horizon: float = DEFAULT_HORIZON) -> None:
        self.horizon = horizon
        self._actions: dict[tuple[str, str], _Action] = {}

    def started(self, action: tuple[str, str], now: float) -> None:
        """An activation of `action` starts: its idle time, if nothing of it was running,
        goes into the histogram."""
        state = self._actions.setdefault(action, _Action())
        if state.busy == 0 and state.last_end is not None:
            state.counts[_bin(now - state.last_end)] += 1
            state.total += 1
        state.busy += 1

    def ended(self, action: tuple[str, str], now: float) -> None:
        state = self._actions.get(action)
        if state is None:
            return
        state.busy = max(state.busy - 1, 0)
        state.last_end = now

    def forget(self, action: tuple[str, str]) -> None:
        self._actions.pop(action, None)

    def observations(self, action: tuple[str, str]) -> int:
        state = self._actions.get(action)
        return 0 if state is None else state.total

    def worth(self, action: tuple[str, str], idle: float, rank: int = 1) -> float:
        """How likely a call of `action` is within the horizon, having been idle `idle`
        seconds; `rank`: this is the rank-th idle container of the action (1: its first)."""
        prior = self.horizon / (self.horizon + max(idle, 0.0))
        state = self._actions.get(action)
        if state is None or state.total == 0:
            return prior / rank
        low, high = _bin(idle), _bin(idle + self.horizon)
        counts = state.counts
        beyond = sum(counts[low:])
        within = sum(counts[low : high + 1])
        chance = (within + PRIOR_WEIGHT * prior) / (beyond + PRIOR_WEIGHT)
        return chance / rank
