"""How the container pool budgets memory, picks what to evict and paces cold starts.

Two ways of budgeting the invoker's user memory (`--user-memory`, 2048 MB by default):

- `reserved` (OpenWhisk's, and Docker mode's): every container holds its action's whole memory
  limit from the budget while it lives, busy or idle. 2 GB holds eight 256 MB containers, even
  when each uses 20 MB.
- `measured` (process mode's default): a container counts for what it really uses (its
  cgroup's memory use without the page cache the kernel can drop, or its processes' resident
  memory when unsandboxed), sampled every `sample_interval`; a container not yet sampled counts
  for the most its action's containers were seen to use (before any, `first_estimate`). The
  action's memory limit stays the cgroup's cap, so an action can never use more than it asked
  for. The host is guarded too: a new container is started only if the host's MemAvailable,
  less `host_reserve`, leaves room for it. When a sample finds the pool over its budget (a
  container grew, or the host has less memory free), idle containers are evicted until it
  fits again, before the kernel's OOM killer has to choose.

Evictions (`evict`): `histogram` ranks idle containers by their action's idle-time histogram
(invoker/idle_times.py), `lru` by last use (OpenWhisk's). `cold_starts` paces starts (0: not at
all, as OpenWhisk): at most that many activations start a container at once, and callers of an
action already running wait for its containers instead of starting one when the queue behind
them would be served sooner so (queued × usual run time ÷ running ≤ usual start time, both
learned per action; `ContainerPool._worth_waiting`). A start costs CPU (a sandbox, an
interpreter's imports, an /init): on a few cores a hundred at once all finish late and take
the CPU the running activations need. Waiting callers stay in the pool's FIFO buffer.

Chosen with the containers URL: `process://?budget=measured&evict=histogram&cold_starts=4
&host_reserve=512`; `?pool=former` is the policy of before (reserved, LRU, no cap).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_HOST_RESERVE_MB = 512
FIRST_ESTIMATE_MB = 64  # a container of an action never measured yet, until it is


def default_cold_starts() -> int:
    return 2 * (os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class PoolPolicy:
    budget: str = "reserved"  # "reserved" | "measured"
    evict: str = "lru"  # "lru" | "histogram"
    cold_starts: int = 0  # cold activations in flight at once; 0: no cap
    host_reserve: int = DEFAULT_HOST_RESERVE_MB  # MB of MemAvailable never planned for
    first_estimate: int = FIRST_ESTIMATE_MB
    sample_interval: float = 1.0  # seconds

    @property
    def measured(self) -> bool:
        return self.budget == "measured"


FORMER = PoolPolicy()  # OpenWhisk's: reservations, LRU, no cap


def policy_from_options(options: dict[str, str], measured: bool) -> PoolPolicy:
    """The policy a containers URL's query asks for; `measured`: whether this kind of
    container can be measured (and so defaults to `budget=measured`)."""
    if options.get("pool") == "former":
        return FORMER
    budget = options.get("budget", "measured" if measured else "reserved")
    if budget not in ("measured", "reserved"):
        raise ValueError(f"budget={budget!r}: measured or reserved")
    if budget == "measured" and not measured:
        raise ValueError("budget=measured needs containers whose memory use can be read")
    evict = options.get("evict", "histogram")
    if evict not in ("histogram", "lru"):
        raise ValueError(f"evict={evict!r}: histogram or lru")
    default_cap = default_cold_starts() if measured else 0
    return PoolPolicy(
        budget=budget,
        evict=evict,
        cold_starts=int(options.get("cold_starts", default_cap)),
        host_reserve=int(options.get("host_reserve", DEFAULT_HOST_RESERVE_MB)),
    )


def host_available_mb() -> int | None:
    """MemAvailable of /proc/meminfo, in MB (None where there is none)."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None
