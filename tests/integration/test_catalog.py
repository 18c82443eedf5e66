"""The built-in `/whisk.system/utils` package: its actions do what their documentation
says, and installing the catalog is idempotent and refreshes what changed."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

from pywhisk.common.config import Settings
from pywhisk.common.runtimes import default_manifest
from pywhisk.common.store.sqlite import SqliteStore
from pywhisk.controller.core.catalog import utils
from pywhisk.controller.core.catalog.install import install
from pywhisk.controller.core.catalog.model import CatalogAction, CatalogPackage


def run(action: CatalogAction, args: dict[str, Any]) -> Any:
    main = runpy.run_path(str(action.source))["main"]
    return main(dict(args))


def by_name(name: str) -> CatalogAction:
    return next(a for a in utils.PACKAGE.actions if a.name == name)


@pytest.mark.parametrize(
    "action",
    [a for a in utils.PACKAGE.actions if a.name not in ("date", "hosturl")],
    ids=lambda a: a.name,
)
def test_documented_samples_hold(action: CatalogAction, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("__OW_NAMESPACE", "guest")
    assert run(action, action.sample_input or {}) == action.sample_output


def test_actions_on_other_input(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(by_name("sort"), {"lines": ["b", "a", "C"]}) == {
        "lines": ["C", "a", "b"],
        "length": 3,
    }
    assert run(by_name("split"), {"payload": "x\r\ny\nz"})["lines"] == ["x", "y", "z"]
    assert "error" in run(by_name("split"), {})
    assert run(by_name("head"), {"lines": [1, 2, 3]}) == {"lines": [1], "num": 1}
    assert run(by_name("cat"), {"lines": ["a", 1, True]})["payload"] == "a\n1\ntrue"
    assert "error" in run(by_name("smash"), {"a": 1})
    assert run(by_name("date"), {})["date"].endswith("Z")
    monkeypatch.setenv("__OW_API_HOST", "http://h:1")
    monkeypatch.setenv("__OW_NAMESPACE", "ns")
    hosturl = by_name("hosturl")
    assert run(hosturl, {"web": True, "path": "utils/echo", "ext": ".json"}) == {
        "url": "http://h:1/api/v1/web/ns/utils/echo.json"
    }
    assert run(hosturl, {"web": True, "path": "hello"}) == {
        "url": "http://h:1/api/v1/web/ns/default/hello"
    }
    assert run(hosturl, {"trigger": True, "path": "t"}) == {
        "url": "http://h:1/api/v1/namespaces/ns/triggers/t"
    }
    assert "error" in run(hosturl, {"web": True, "ext": ".exe", "path": "a"})
    assert "error" in run(hosturl, {"web": True, "trigger": True})


async def test_install_is_idempotent_and_refreshes_changed_code(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    await store.open()
    try:
        ranges = Settings(data_dir=tmp_path).limit_ranges
        source = tmp_path / "hello.py"
        source.write_text("def main(args):\n    return {'v': 1}\n")
        catalog = (CatalogPackage("tools", "tests", (CatalogAction("hello", source, "hi"),)),)
        first = await install(store, default_manifest(), ranges, "ns", catalog)
        assert first == ["ns/tools", "ns/tools/hello"]
        assert await install(store, default_manifest(), ranges, "ns", catalog) == []

        package = await store.entities.get("ns/tools")
        assert package is not None and package[0]["publish"] is True
        source.write_text("def main(args):\n    return {'v': 2}\n")
        assert await install(store, default_manifest(), ranges, "ns", catalog) == ["ns/tools/hello"]
        found = await store.entities.get("ns/tools/hello")
        assert found is not None
        action = found[0]
        assert ("'v': 2" in action["exec"]["code"], action["version"]) == (True, "0.0.2")
        assert action["exec"]["kind"].startswith("python:")
        assert {"key": "description", "value": "hi"} in action["annotations"]

        # an action the package no longer has goes
        smaller = (CatalogPackage("tools", "tests"),)
        assert await install(store, default_manifest(), ranges, "ns", smaller) == ["ns/tools/hello"]
        assert await store.entities.get("ns/tools/hello") is None

        assert await install(store, default_manifest(), ranges) != []  # the real catalog
        assert await store.entities.count("whisk.system", "action", package="utils") == len(
            utils.PACKAGE.actions
        )
    finally:
        await store.close()
