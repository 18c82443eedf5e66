"""The pool of user ids sandboxed process containers run as: one per live container.

Each invoker takes its own slice of ids (`base + invoker id × size`), so the containers of
two invokers on one host never share a uid either. Ids that name a user of this host are
skipped. An id is given back when its container is destroyed, after every one of its
processes is gone (the container's cgroup and PID namespace are empty), so a reused id
finds nothing left of its previous owner: the work dir is removed, /tmp was private.
"""

from __future__ import annotations

import pwd
import threading

DEFAULT_BASE = 1_500_000  # above the usual subuid ranges' first users (100000 + 65536 × n)
DEFAULT_SIZE = 1024


class UidsExhausted(Exception):
    """Every id of the pool is in use."""


class UidPool:
    def __init__(self, invoker_id: int, base: int = DEFAULT_BASE, size: int = DEFAULT_SIZE):
        self.first = base + invoker_id * size
        self.size = size
        taken = {user.pw_uid for user in pwd.getpwall()}
        self._free = [u for u in range(self.first, self.first + size) if u not in taken]
        self._free.reverse()  # pop() hands out the lowest first: easier to read in ps
        self._used: set[int] = set()
        self._lock = threading.Lock()  # spare sandboxes take ids on the spawn threads

    def take(self) -> int:
        with self._lock:
            if not self._free:
                raise UidsExhausted(
                    f"all {self.size} container user ids from {self.first} are in use"
                )
            uid = self._free.pop()
            self._used.add(uid)
            return uid

    def give_back(self, uid: int) -> None:
        with self._lock:
            if uid in self._used:
                self._used.discard(uid)
                self._free.append(uid)

    def __contains__(self, uid: int) -> bool:
        return self.first <= uid < self.first + self.size
