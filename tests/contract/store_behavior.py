"""The store contract, written once (like OW ArtifactStoreBehavior) and run per backend.

A backend's test module subclasses `StoreBehavior` and provides a `store` fixture that
yields an opened, empty store.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pywhisk.common.entities import Identity, NamespaceLimits
from pywhisk.common.store.base import Conflict, Doc, Store
from pywhisk.common.store.claims import FENCE, Claim
from pywhisk.common.store.usage import summarize
from tests.support.store_docs import activation, entity


class StoreBehavior:
    # -- entities ---------------------------------------------------------------------------
    async def test_create_get_and_revision(self, store: Store) -> None:
        rev = await store.entities.put("ns/a", entity("ns", "a", code="x"), None)
        found = await store.entities.get("ns/a")
        assert found is not None
        doc, got_rev = found
        assert doc["code"] == "x" and got_rev == rev

    async def test_create_twice_conflicts(self, store: Store) -> None:
        await store.entities.put("ns/a", entity("ns", "a"), None)
        with pytest.raises(Conflict):
            await store.entities.put("ns/a", entity("ns", "a"), None)

    async def test_update_needs_current_revision(self, store: Store) -> None:
        rev1 = await store.entities.put("ns/a", entity("ns", "a", v=1), None)
        rev2 = await store.entities.put("ns/a", entity("ns", "a", v=2), rev1)
        assert rev2 != rev1
        with pytest.raises(Conflict):
            await store.entities.put("ns/a", entity("ns", "a", v=3), rev1)
        found = await store.entities.get("ns/a")
        assert found is not None and found[0]["v"] == 2

    async def test_concurrent_updates_one_wins(self, store: Store) -> None:
        rev = await store.entities.put("ns/a", entity("ns", "a"), None)
        results = await asyncio.gather(
            *(store.entities.put("ns/a", entity("ns", "a", v=i), rev) for i in range(5)),
            return_exceptions=True,
        )
        assert sum(1 for r in results if isinstance(r, str)) == 1
        assert sum(1 for r in results if isinstance(r, Conflict)) == 4

    async def test_delete(self, store: Store) -> None:
        rev = await store.entities.put("ns/a", entity("ns", "a"), None)
        with pytest.raises(Conflict):
            await store.entities.delete("ns/a", "999")
        await store.entities.delete("ns/a", rev)
        assert await store.entities.get("ns/a") is None
        with pytest.raises(Conflict):
            await store.entities.delete("ns/a", rev)

    async def test_ids_with_spaces_and_packages(self, store: Store) -> None:
        await store.entities.put("ns/pkg/my act@1", entity("ns/pkg", "my act@1"), None)
        found = await store.entities.get("ns/pkg/my act@1")
        assert found is not None and found[0]["name"] == "my act@1"

    async def test_list_newest_first_with_packages_and_paging(self, store: Store) -> None:
        await store.entities.put("ns/a", entity("ns", "a", updated=1), None)
        await store.entities.put("ns/p/b", entity("ns/p", "b", updated=3), None)
        await store.entities.put("ns/c", entity("ns", "c", updated=2), None)
        await store.entities.put("ns/t", entity("ns", "t", kind="trigger", updated=4), None)
        await store.entities.put("other/d", entity("other", "d", updated=5), None)
        names = [d["name"] for d in await store.entities.list("ns", "action")]
        assert names == ["b", "c", "a"]
        assert [d["name"] for d in await store.entities.list("ns", "action", skip=1, limit=1)] == [
            "c"
        ]
        assert [d["name"] for d in await store.entities.list("ns", "action", package="p")] == ["b"]
        assert await store.entities.count("ns", "action") == 3
        assert await store.entities.count("ns", "action", package="p") == 1
        assert await store.entities.count("ns", "trigger") == 1

    async def test_list_public_only(self, store: Store) -> None:
        await store.entities.put("ns/p1", entity("ns", "p1", kind="package", publish=True), None)
        await store.entities.put("ns/p2", entity("ns", "p2", kind="package", publish=False), None)
        listed = await store.entities.list("ns", "package", public_only=True)
        assert [d["name"] for d in listed] == ["p1"]
        assert await store.entities.count("ns", "package", public_only=True) == 1
        assert await store.entities.count("ns", "package") == 2

    # -- activations ------------------------------------------------------------------------
    async def test_activation_round_trip_is_readable_at_once(self, store: Store) -> None:
        doc = activation("ns", "a" * 32, 1000, "ns/hello")
        await store.activations.put(doc)
        assert await store.activations.get("ns", "a" * 32) == doc
        assert await store.activations.get("other", "a" * 32) is None

    async def test_activation_filters(self, store: Store) -> None:
        for i, path in enumerate(
            ["ns/hello", "ns/pkg/hello", "ns/hello", "whisk.system/utils/echo"]
        ):
            await store.activations.put(activation("ns", f"{i:032x}", 1000 + i, path))
        await store.activations.put(activation("other", "f" * 32, 5000, "other/hello"))
        all_ids = [d["activationId"] for d in await store.activations.list("ns")]
        assert all_ids == [f"{i:032x}" for i in (3, 2, 1, 0)]
        assert len(await store.activations.list("ns", name="hello")) == 2
        assert len(await store.activations.list("ns", name="pkg/hello")) == 1
        assert len(await store.activations.list("ns", name="utils/echo")) == 1
        assert [d["start"] for d in await store.activations.list("ns", since=1001, upto=1002)] == [
            1002,
            1001,
        ]
        assert await store.activations.count("ns") == 4
        assert await store.activations.count("ns", name="hello", since=1001) == 1
        assert [d["start"] for d in await store.activations.list("ns", skip=1, limit=2)] == [
            1002,
            1001,
        ]

    async def test_settle_returns_once_records_are_written(
        self, store: Store, observer: Store
    ) -> None:
        """The invoker tells controllers which records are safe by this (a killed invoker's
        unwritten ones are rewritten from completions): after `settle`, another client of
        the same store reads every record put before it."""
        ids = [f"{i:032x}" for i in range(40)]
        for aid in ids:
            await store.activations.put(activation("ns", aid, 1000))
        await asyncio.wait_for(store.activations.settle(), 10)
        found = await asyncio.gather(*(observer.activations.get("ns", aid) for aid in ids))
        assert all(doc is not None for doc in found)
        await asyncio.wait_for(store.activations.settle(), 1)  # nothing new: at once

    async def test_activations_through_a_binding_are_found_by_its_name(self, store: Store) -> None:
        bound = activation("ns", "b" * 32, 1000, "lib/utils/echo")
        bound["annotations"].append({"key": "binding", "value": "ns/mine"})
        await store.activations.put(bound)
        await store.activations.put(activation("ns", "c" * 32, 1001, "lib/utils/echo"))
        assert [
            d["activationId"] for d in await store.activations.list("ns", name="mine/echo")
        ] == ["b" * 32]
        assert await store.activations.count("ns", name="utils/echo") == 1

    async def test_many_activations_at_once(self, store: Store) -> None:
        await asyncio.gather(
            *(store.activations.put(activation("ns", f"{i:032x}", i)) for i in range(300))
        )
        assert await store.activations.count("ns") == 300

    # -- claims -----------------------------------------------------------------------------
    async def test_an_activation_is_started_once_whoever_asks_again(self, store: Store) -> None:
        a, b = "a" * 32, "b" * 32
        assert await store.claims.start([a, b, a], "invoker0", "t1") == {a, b}
        assert await store.claims.get(a) == Claim("invoker0", True, "t1")
        assert await store.claims.start([a], "invoker1", "t2") == set()
        assert await store.claims.start([a], "invoker0", "t3") == set()  # redelivered
        # A retry of the call whose answer was lost (same token) learns that it won.
        assert await store.claims.start([a, b], "invoker0", "t1") == {a, b}
        assert await store.claims.get("c" * 32) is None

    async def test_a_handed_over_activation_is_started_by_its_new_owner_only(
        self, store: Store
    ) -> None:
        started, queued, fenced = "a" * 32, "b" * 32, "c" * 32
        await store.claims.start([started], "invoker0", "t1")
        handed = await store.claims.assign({started: "invoker1", queued: "invoker1", fenced: FENCE})
        assert handed == {queued, fenced}  # the started one stays where it ran
        assert await store.claims.get(queued) == Claim("invoker1", False)
        # The invoker it was first sent to (paused, restarted) may not start it any more.
        assert await store.claims.start([queued, fenced], "invoker0", "t2") == set()
        assert await store.claims.start([fenced], FENCE, "t3") == set()
        assert await store.claims.start([queued, fenced], "invoker1", "t4") == {queued}
        assert await store.claims.start([queued], "invoker1", "t5") == set()
        # Handed on again before it starts (its new owner died too), then started there.
        await store.claims.assign({"d" * 32: "invoker1"})
        assert await store.claims.assign({"d" * 32: "invoker2"}) == {"d" * 32}
        assert await store.claims.start(["d" * 32], "invoker2", "t6") == {"d" * 32}
        assert await store.claims.assign({"d" * 32: FENCE}) == set()

    async def test_racing_claims_from_two_clients_start_each_activation_once(
        self, store: Store, observer: Store
    ) -> None:
        ids = [f"{i:032x}" for i in range(30)]
        calls = [
            client.claims.start(ids, f"invoker{n}", f"t{n}")
            for n, client in enumerate([store, observer, store, observer])
        ]
        calls.append(observer.claims.assign({i: "invoker9" for i in ids[:10]}))
        won = await asyncio.gather(*calls)
        starters = won[:4]
        for i in ids:
            assert sum(i in w for w in starters) <= 1, i
        handed = won[4]
        # Every id is started exactly once, unless the hand-over came first: then nobody
        # of the four started it, and only its new owner can.
        assert {i for w in starters for i in w} | handed == set(ids)
        for i in handed:
            assert not any(i in w for w in starters)
            assert await store.claims.start([i], "invoker9", "t9") == {i}

    async def test_usage_agrees_with_the_records(self, store: Store) -> None:
        def billed(aid: str, start: int, path: str, memory: int, duration: int, **kw: Any) -> Doc:
            doc = activation("ns", aid, start, path, duration=duration, end=start + duration)
            doc["annotations"] += [
                {"key": "kind", "value": "python:3.11"},
                {"key": "limits", "value": {"memory": memory, "timeout": 60000, "logs": 10}},
                *kw.pop("annotations", []),
            ]
            return {**doc, **kw}

        error = {"status": "application error", "statusCode": 1, "success": False, "result": {}}
        docs = [
            billed("u1", 1000, "ns/a", 256, 7, annotations=[{"key": "initTime", "value": 30}]),
            billed("u2", 2000, "ns/a", 256, 1),
            billed("u3", 3000, "ns/pkg/b", 128, 999, response=error),
            billed("u4", 4000, "ns/a", 512, 0),
            billed("u5", 9000, "ns/a", 256, 5),  # after the range below
            # Not billed: a sequence (its components are), a trigger (never ends).
            billed(
                "u6", 2500, "ns/seq", 256, 8, annotations=[{"key": "kind", "value": "sequence"}]
            ),
            {k: v for k, v in activation("ns", "u7", 2600, "ns/t").items() if k != "end"},
            billed("u8", 2000, "other/a", 256, 50) | {"namespace": "other"},
        ]
        for doc in docs:
            await store.activations.put(doc)
        # What the records say, summed here from every record in the range.
        in_range = [d for d in docs if d["namespace"] == "ns" and 1000 <= d["start"] <= 4000]
        expected = [u.to_json() for u in summarize(in_range)]
        got = await store.activations.usage("ns", since=1000, upto=4000)
        assert [u.to_json() for u in got] == expected
        assert expected == [
            {"name": "a", "invocations": 3, "gb_seconds": 256 * 8 / 1024 / 1000,
             "cold_starts": 1, "errors": 0},
            {"name": "pkg/b", "invocations": 1, "gb_seconds": 128 * 999 / 1024 / 1000,
             "cold_starts": 0, "errors": 1},
        ]  # fmt: skip
        everything = await store.activations.usage("ns")
        assert [(u.name, u.invocations) for u in everything] == [("a", 4), ("pkg/b", 1)]
        assert await store.activations.usage("ns", since=5000, upto=8000) == []
        assert await store.activations.usage("nobody") == []

    # -- subjects ---------------------------------------------------------------------------
    async def test_subjects(self, store: Store) -> None:
        ident = Identity(namespace="ns", subject="s", uuid="u1", key="k" * 64)
        await store.subjects.put(ident)
        assert await store.subjects.by_auth("u1", "k" * 64) == ident
        assert await store.subjects.by_auth("u1", "wrong") is None
        assert await store.subjects.by_namespace("ns") == ident
        limited = ident.model_copy(update={"limits": NamespaceLimits(invocationsPerMinute=5)})
        await store.subjects.put(limited)
        found = await store.subjects.by_namespace("ns")
        assert found is not None and found.limits.invocationsPerMinute == 5
        assert [i.namespace for i in await store.subjects.all()] == ["ns"]
        assert await store.subjects.delete("ns") is True
        assert await store.subjects.delete("ns") is False
        assert await store.subjects.by_auth("u1", "k" * 64) is None
