"""API documents in the entity store, run on every store backend (mixed into each backend's
store contract class): what the API gateway relies on to keep a namespace's APIs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pywhisk.common.entities import Identity
from pywhisk.common.store.base import Store
from pywhisk.controller.api.apigw import model, tenants
from tests.support.store_docs import entity

OWNER = Identity(namespace="ns", subject="ns", uuid="11111111-aaaa", key="k")


def with_api(base: str) -> Any:
    return lambda apis: {**apis, base: model.base_swagger(base, None)}


class ApiDocsBehavior:
    async def test_apis_written_read_back_and_removed(self, store: Store) -> None:
        written, replaced = await tenants.modify(store, OWNER, with_api("/a"))
        assert replaced is None and set(written) == {"/a"}
        assert (await tenants.read(store, OWNER))["/a"]["basePath"] == "/a"
        _, replaced = await tenants.modify(store, OWNER, with_api("/b"))
        assert replaced is not None
        assert set(await tenants.read(store, OWNER)) == {"/a", "/b"}
        # removing the last API removes the document
        await tenants.modify(store, OWNER, lambda apis: {})
        assert await store.entities.get(tenants.doc_id(OWNER.uuid)) is None
        assert await tenants.read(store, OWNER) == {}

    async def test_concurrent_routes_all_land(self, store: Store) -> None:
        """Routes created at once (each its own read, change, write): none is lost."""
        bases = [f"/p{i}" for i in range(6)]
        await asyncio.gather(*(tenants.modify(store, OWNER, with_api(b)) for b in bases))
        assert set(await tenants.read(store, OWNER)) == set(bases)

    async def test_a_refused_change_writes_nothing(self, store: Store) -> None:
        await tenants.modify(store, OWNER, with_api("/a"))

        def refuse(apis: tenants.Apis) -> tenants.Apis:
            raise model.ApiDocError("no")

        with pytest.raises(model.ApiDocError):
            await tenants.modify(store, OWNER, refuse)
        assert set(await tenants.read(store, OWNER)) == {"/a"}

    async def test_apis_are_their_namespaces_and_no_listing_shows_them(self, store: Store) -> None:
        await tenants.modify(store, OWNER, with_api("/a"))
        stranger = Identity(namespace="other", subject="o", uuid="22222222-bbbb", key="k")
        assert await tenants.read(store, stranger) == {}
        # a namespace that reuses the uuid does not inherit the APIs
        heir = Identity(namespace="heir", subject="h", uuid=OWNER.uuid, key="k2")
        assert await tenants.read(store, heir) == {}
        written, _ = await tenants.modify(store, heir, with_api("/h"))
        assert set(written) == {"/h"}
        await store.entities.put("ns/act", entity("ns", "act", "action"), None)
        for namespace in ("ns", "whisk.system", tenants.HOLDER):
            for kind in ("action", "package", "trigger", "rule"):
                listed = await store.entities.list(namespace, kind)
                assert all(d["entityType"] == kind for d in listed)
