"""Claim decisions (pure), the take-over split, and the invoker's claim batching over a
fake claim store: every edge of "who may start an activation"."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from pywhisk.common.store.base import StoreError
from pywhisk.common.store.claims import (
    FENCE,
    Claim,
    ClaimStore,
    Decide,
    assign_decision,
    start_decision,
)
from pywhisk.controller.core.reroute import owners, takeover
from pywhisk.invoker import claims as claims_module
from pywhisk.invoker.claims import ClaimBatcher, ClaimFailed


def test_starting_wins_only_a_free_or_handed_claim_once() -> None:
    mine = Claim("invoker0", True, "t1")
    assert start_decision(None, "invoker0", "t1") == (True, mine)
    assert start_decision(mine, "invoker0", "t1") == (True, None)  # a retry of the call
    assert start_decision(mine, "invoker0", "t2") == (False, None)  # a redelivery
    assert start_decision(mine, "invoker1", "t3") == (False, None)
    handed = Claim("invoker1", False)
    assert start_decision(handed, "invoker1", "t4") == (True, Claim("invoker1", True, "t4"))
    assert start_decision(handed, "invoker0", "t5") == (False, None)
    assert start_decision(Claim(FENCE, False), "invoker0", "t6") == (False, None)
    assert start_decision(Claim(FENCE, False), FENCE, "t7") == (False, None)
    assert start_decision(Claim("invoker0", True, ""), "invoker0", "") == (False, None)


def test_handing_over_never_takes_a_started_claim() -> None:
    assert assign_decision(None, "invoker1") == (True, Claim("invoker1", False))
    assert assign_decision(Claim("invoker0", False), "invoker1") == (
        True,
        Claim("invoker1", False),
    )
    assert assign_decision(Claim("invoker1", False), "invoker1") == (True, None)
    assert assign_decision(Claim("invoker0", False), FENCE) == (True, Claim(FENCE, False))
    assert assign_decision(Claim("invoker0", True, "t"), "invoker1") == (False, None)
    assert assign_decision(Claim("invoker0", True, "t"), FENCE) == (False, None)


def test_takeover_splits_by_the_claims_answer() -> None:
    targets = {"a": 1, "b": 2, "c": None, "d": 1}
    assert owners(targets) == {"a": "invoker1", "b": "invoker2", "c": FENCE, "d": "invoker1"}
    done = takeover(targets, handed={"a", "c"})
    assert done.moved == {"a": 1}
    assert done.stranded == ["c"]
    assert sorted(done.started) == ["b", "d"]
    assert takeover({}, set()).moved == {}


class FakeClaims(ClaimStore):
    """In memory, with a call log and failures on demand."""

    def __init__(self, failures: int = 0) -> None:
        self.claims: dict[str, Claim] = {}
        self.calls: list[tuple[list[str], str]] = []
        self.failures = failures

    async def start(self, activation_ids: Sequence[str], owner: str, token: str) -> set[str]:
        self.calls.append((list(activation_ids), token))
        await asyncio.sleep(0)
        if self.failures:
            self.failures -= 1
            raise StoreError("unreachable")
        return await super().start(activation_ids, owner, token)

    async def settle(self, activation_ids: list[str], decide: Decide) -> set[str]:
        won = set()
        for aid in activation_ids:
            ok, write = decide(aid, self.claims.get(aid))
            if ok:
                won.add(aid)
            if write is not None:
                self.claims[aid] = write
        return won

    async def get(self, activation_id: str) -> Claim | None:
        return self.claims.get(activation_id)


async def test_claims_arriving_together_go_in_one_request() -> None:
    store = FakeClaims()
    await store.assign({"x": "invoker1"})  # handed to someone else
    batcher = ClaimBatcher(store, "invoker0")
    results = await asyncio.gather(*(batcher.start(aid) for aid in ["a", "b", "a", "x"]))
    assert results == [True, True, False, False]  # the second "a" is the same message again
    assert len(store.calls) == 1 and sorted(store.calls[0][0]) == ["a", "b", "x"]
    assert await batcher.start("a") is False  # started already
    assert await batcher.start("c") is True
    assert len(store.calls) == 3


async def test_a_failed_claim_is_retried_with_the_same_token_then_given_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(claims_module, "BACKOFF", 0.001)
    store = FakeClaims(failures=2)
    batcher = ClaimBatcher(store, "invoker0")
    assert await batcher.start("a") is True
    assert len(store.calls) == 3 and len({token for _, token in store.calls}) == 1

    store.failures = claims_module.ATTEMPTS
    with pytest.raises(ClaimFailed):
        await batcher.start("b")
    assert await store.get("b") is None  # never claimed: nobody runs it twice
