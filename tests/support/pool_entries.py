"""A stand-in for the container proxies a ContainerPool holds, for the pool's own tests: the
pool reads an entry's key, memory and usability, and tells it to evict, adopt or pause."""

from __future__ import annotations

import itertools

from pywhisk.invoker.scheduling import ActionKey


class Entry:
    """Stands in for a container proxy: key, memory, usable, evict, adopt and pause."""

    _ids = itertools.count()

    def __init__(self, key: ActionKey, memory: int) -> None:
        self.key = key
        self.memory = memory
        self.id = next(self._ids)
        self.evicted = False
        self.dead = False

    @property
    def usable(self) -> bool:
        return not (self.evicted or self.dead)

    def evict(self) -> None:
        assert not self.evicted, "evicted twice"
        self.evicted = True

    def adopt(self, key: ActionKey, memory: int) -> None:
        self.key = key
        self.memory = memory

    def pause(self) -> None:
        pass  # a pool without a pause grace never calls it; a pausing one: subclass

    def __repr__(self) -> str:
        return f"Entry({self.key.action}@{self.key.revision}#{self.id})"
