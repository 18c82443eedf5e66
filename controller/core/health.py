"""Per-invoker health as a pure state machine (docs/openwhisk-compatibility.md §8.3, OW `InvokerSupervision`).

Each controller keeps one `InvokerHealth` per invoker it has heard of, fed by the invoker's
pings on `health` (once a second), by the outcome of every activation it sent there, and
by a clock tick. Only `HEALTHY` is usable.

- A new invoker starts `UNHEALTHY` and turns `HEALTHY` at its first ping (OW waits for a
  test action to succeed first; we have no test actions, see below).
- No ping for more than 10 s → `OFFLINE`; a ping brings it back (`UNHEALTHY`, then
  `HEALTHY` if its recent results allow).
- Of the last 10 results, more than 3 system errors → `UNHEALTHY`, more than 3 forced-ack
  timeouts → `UNRESPONSIVE`; otherwise `HEALTHY`.
- OW then sends `invokerHealthTestAction{N}` to probe the invoker back to health. Instead,
  while pings keep arriving, after `probe_after` seconds in UNHEALTHY/UNRESPONSIVE the
  results are forgotten and the invoker is `HEALTHY` again: real work is the probe, and a
  bad invoker falls back within a few activations.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

from pywhisk.common.messages import OFFLINE_AFTER

BUFFER_SIZE = 10  # OW InvokerActor.bufferSize
ERROR_TOLERANCE = 3  # OW InvokerActor.bufferErrorTolerance
HEALTHY_TIMEOUT = OFFLINE_AFTER  # s without a ping before Offline (OW healthyTimeout)
PROBE_AFTER = 10.0  # s in Unhealthy/Unresponsive (pinging) before results are forgotten


class Status(enum.Enum):
    OFFLINE = "offline"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNRESPONSIVE = "unresponsive"


class Result(enum.Enum):
    """How an activation sent to the invoker ended (OW InvocationFinishedResult)."""

    SUCCESS = "success"
    SYSTEM_ERROR = "system_error"
    TIMEOUT = "timeout"  # no completion before the forced-ack timeout


@dataclass
class InvokerHealth:
    status: Status = Status.UNHEALTHY
    since: float = 0.0  # when `status` was entered
    last_ping: float | None = None
    user_memory: int = 0
    enabled: bool = True
    results: deque[Result] = field(default_factory=lambda: deque(maxlen=BUFFER_SIZE))
    healthy_timeout: float = HEALTHY_TIMEOUT
    probe_after: float = PROBE_AFTER

    @property
    def usable(self) -> bool:
        return self.status is Status.HEALTHY

    def _go(self, status: Status, now: float) -> None:
        if status is not self.status:
            self.status = status
            self.since = now

    def _judged(self) -> Status:
        if sum(r is Result.SYSTEM_ERROR for r in self.results) > ERROR_TOLERANCE:
            return Status.UNHEALTHY
        if sum(r is Result.TIMEOUT for r in self.results) > ERROR_TOLERANCE:
            return Status.UNRESPONSIVE
        return Status.HEALTHY

    def ping(self, now: float, user_memory: int, enabled: bool = True) -> None:
        self.last_ping = now
        self.user_memory = user_memory
        self.enabled = enabled
        if not enabled:  # draining: alive, but takes no new work
            self._go(Status.OFFLINE, now)
            return
        if self.status is Status.OFFLINE:
            self._go(Status.UNHEALTHY, now)
        if self.status is Status.HEALTHY:
            return
        judged = self._judged()
        if judged is Status.HEALTHY:
            self._go(Status.HEALTHY, now)
        elif now - self.since >= self.probe_after:
            self.results.clear()
            self._go(Status.HEALTHY, now)
        else:
            self._go(judged, now)

    def result(self, result: Result, now: float) -> None:
        self.results.append(result)
        if self.status is Status.OFFLINE:
            return  # a late completion does not bring an invoker back; a ping does
        if self.status is Status.HEALTHY and result is Result.SUCCESS:
            return
        self._go(self._judged(), now)

    def tick(self, now: float) -> None:
        if self.last_ping is not None and now - self.last_ping > self.healthy_timeout:
            self._go(Status.OFFLINE, now)
