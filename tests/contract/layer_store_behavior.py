"""Layers in the entity store, run on every store backend (mixed into each backend's store
contract class): what `wsk layer` and the invoker rely on."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest

from pywhisk.common.entities.action import Action
from pywhisk.common.entities.layer import LAYER, InvalidLayer, make_layer
from pywhisk.common.store.base import Conflict, Store
from pywhisk.invoker.layers import resolve_layers


def zipped(name: str, text: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()


def action(namespace: str, layers: list[str]) -> Action:
    return Action.model_validate(
        {
            "namespace": namespace,
            "name": "fn",
            "exec": {
                "kind": "provided",
                "code": zipped("bootstrap", "#!/bin/sh\n"),
                "binary": True,
            },
            "annotations": [{"key": "layers", "value": layers}],
        }
    )


class LayerStoreBehavior:
    async def test_layers_written_listed_shared_and_removed(self, store: Store) -> None:
        entities = store.entities
        big = zipped("bin/tool", "x" * 3_000_000)  # a realistic layer: megabytes of base64
        php = make_layer("ln", "php", {"code": big}, None, 1000)
        rev = await entities.put("ln/php", php, None)
        with pytest.raises(Conflict):
            await entities.put("ln/php", php, None)
        tools = make_layer("ln", "tools", {"code": zipped("t", "t"), "publish": True}, None, 2000)
        await entities.put("ln/tools", tools, None)

        got = await entities.get("ln/php")
        assert got is not None and got[0]["code"] == big and got[0]["digest"] == php["digest"]
        assert [d["name"] for d in await entities.list("ln", LAYER)] == ["tools", "php"]
        assert [d["name"] for d in await entities.list("ln", LAYER, public_only=True)] == ["tools"]
        assert await entities.count("ln", LAYER) == 2
        assert await entities.list("ln", "action") == []  # its own collection

        newer = make_layer("ln", "php", {"code": zipped("v", "2")}, got[0], 3000)
        assert newer["version"] == "0.0.2" and newer["digest"] != php["digest"]
        await entities.put("ln/php", newer, rev)
        with pytest.raises(Conflict):  # a stale revision loses
            await entities.put("ln/php", php, rev)

        # What the invoker reads for an action naming them (in order; another namespace's
        # shared layer too, never its private one).
        other = make_layer("other", "private", {"code": zipped("p", "p")}, None, 4000)
        await entities.put("other/private", other, None)
        shared = make_layer(
            "other", "shared", {"code": zipped("s", "s"), "publish": True}, None, 5000
        )
        await entities.put("other/shared", shared, None)
        found = await resolve_layers(entities, action("ln", ["php", "/other/shared", "tools"]))
        assert [layer["name"] for layer in found["layers"]] == [
            "ln/php",
            "other/shared",
            "ln/tools",
        ]
        assert found["layers"][0]["digest"] == newer["digest"]
        refused = await resolve_layers(entities, action("ln", ["/other/private"]))
        assert refused == {
            "layersError": "The layer '/other/private' does not exist or is not shared."
        }

        current = await entities.get("ln/php")
        assert current is not None
        await entities.delete("ln/php", current[1])
        assert await entities.get("ln/php") is None
        assert (await resolve_layers(entities, action("ln", ["php"])))["layersError"]

    async def test_layer_bodies_refused(self, store: Store) -> None:
        with pytest.raises(InvalidLayer, match="base64"):
            make_layer("ns", "x", {"code": "%%%"}, None, 0)
        with pytest.raises(InvalidLayer, match="not a zip"):
            make_layer("ns", "x", {"code": base64.b64encode(b"hello").decode()}, None, 0)
        with pytest.raises(InvalidLayer, match="publish"):
            make_layer("ns", "x", {"code": zipped("a", "a"), "publish": "yes"}, None, 0)
        assert await store.entities.list("ns", LAYER) == []
