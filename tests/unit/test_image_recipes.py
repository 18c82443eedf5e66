"""What a runtime image's content tag depends on (no Docker needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pywhisk.common.runtimes import default_manifest
from pywhisk.deploy import images
from pywhisk.deploy.images import ImageError, ensure_images, recipe_for


def _recipe(kind: str = "python:3.11", base_id: str = "sha256:base"):
    runtime = default_manifest().resolve(kind)
    assert runtime is not None
    return recipe_for(runtime, "pywhisk/base:bookworm", base_id)


def test_the_content_tag_is_stable_and_names_the_repository():
    first, second = _recipe(), _recipe()
    assert first.content_tag == second.content_tag
    assert first.content_tag.startswith("src-") and len(first.content_tag) == 20
    assert first.repository == "pywhisk/action-python-v3.11"


def test_the_content_tag_follows_language_and_base():
    tags = {_recipe(kind).content_tag for kind in ("python:3.11", "php:8.2", "nodejs:20")}
    assert len(tags) == 3
    assert _recipe(base_id="sha256:other").content_tag != _recipe().content_tag


def test_only_nodejs_needs_a_node_version():
    assert _recipe("nodejs:20").node_version == images.NODE_VERSIONS["nodejs:20"]
    assert _recipe("php").node_version is None


def test_the_content_tag_follows_the_runtime_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    sources = tmp_path / "action_runtime"
    shutil.copytree(images.RUNTIME_SOURCES, sources, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(images, "RUNTIME_SOURCES", sources)
    before = _recipe().content_tag
    (sources / "__pycache__").mkdir(exist_ok=True)
    (sources / "__pycache__" / "proxy.cpython-311.pyc").write_bytes(b"compiled")
    assert _recipe().content_tag == before  # bytecode is not a source
    with (sources / "proxy.py").open("a") as source:
        source.write("\n# changed\n")
    assert _recipe().content_tag != before


def test_an_unknown_kind_is_refused_before_docker_is_asked():
    with pytest.raises(ImageError, match=r"unknown kind .cobol:85.; known: python:3\.11"):
        ensure_images(["cobol:85"], progress=lambda line: None)
