"""Activation claims: who may start an activation, so that none ever starts twice.

In a cluster an activation message can reach more than one invoker: the controller sends
what a silent invoker had not started to a healthy one, and the silent one may only have
been paused (SIGSTOP, a long GC, a cut network) and go on consuming its topic afterwards;
Kafka also hands a restarted consumer what its group had not committed. So an invoker
starts an activation only once it holds its claim, one small document per activation id
in the store, written with the store's compare-and-set:

- an invoker *starts* a claim (`start`): it wins if no claim exists, or if the claim was
  handed to it and is not started yet; a started claim is never won again, whoever asks
  (a redelivered message, the same invoker restarted);
- a controller *hands over* a claim (`assign`) to another invoker, or to `FENCE` (nobody:
  the controller answered the activation itself), unless it is started already: then the
  activation was running where it was, and the controller answers it as lost.

The decisions are the pure functions below; each backend only reads, decides and writes
with its own atomicity (SQLite: one immediate transaction; CouchDB: revisions, again on
conflict). A claim call carries a token: a retry of a call whose answer was lost finds its
own token on the started claim and knows it won.

Claims are never removed here: one small document per activation, like its record.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

FENCE = ""  # the owner of a claim nobody may start


def claim_owner(invoker: int) -> str:
    """How invoker `invoker` is named in claims (by itself, and by controllers)."""
    return f"invoker{invoker}"


@dataclass(frozen=True, slots=True)
class Claim:
    owner: str  # `invoker{N}`, or FENCE
    started: bool
    token: str = ""  # the starting call's, so a retry of it knows it won


# (won, the claim to write or None to leave the stored one be)
Decision = tuple[bool, Claim | None]
Decide = Callable[[str, Claim | None], Decision]


def start_decision(current: Claim | None, owner: str, token: str) -> Decision:
    """May `owner` start the activation now (and what to write)?"""
    if current is None:
        return True, Claim(owner, True, token)
    if current.started:
        return bool(token) and current.token == token, None
    if current.owner == owner and owner != FENCE:
        return True, Claim(owner, True, token)
    return False, None


def assign_decision(current: Claim | None, owner: str) -> Decision:
    """May the activation be handed to `owner` (FENCE: to nobody)? Not once started."""
    if current is None or not current.started:
        if current is not None and current.owner == owner:
            return True, None
        return True, Claim(owner, False)
    return False, None


def starting(owner: str, token: str) -> Decide:
    return lambda _id, current: start_decision(current, owner, token)


def assigning(owners: Mapping[str, str]) -> Decide:
    return lambda activation_id, current: assign_decision(current, owners[activation_id])


class ClaimStore(ABC):
    """Claims by activation id (store families: SQLite, CouchDB)."""

    async def start(self, activation_ids: Sequence[str], owner: str, token: str) -> set[str]:
        """The ids `owner` may run now: each is started at most once, ever. `token`
        identifies this call; a retry of it after a lost answer passes the same one."""
        return await self.settle(list(dict.fromkeys(activation_ids)), starting(owner, token))

    async def assign(self, owners: Mapping[str, str]) -> set[str]:
        """Hand each id to its owner unless it is started; the ids handed over."""
        return await self.settle(list(owners), assigning(owners))

    @abstractmethod
    async def settle(self, activation_ids: list[str], decide: Decide) -> set[str]:
        """Apply `decide` to each id's current claim atomically per id; the ids it won."""

    @abstractmethod
    async def get(self, activation_id: str) -> Claim | None: ...
