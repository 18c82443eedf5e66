from __future__ import annotations

import pytest

from pywhisk.common.names import InvalidName, QualifiedName, is_valid_name


@pytest.mark.parametrize("name", ["a", "hello", "my action", "a@b.c&d-e", "x" * 256])
def test_valid_names(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize("name", ["", " a", "a ", "a/b", "x" * 257, "a$", "-a"])
def test_invalid_names(name: str) -> None:
    assert not is_valid_name(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", QualifiedName("guest", "hello")),
        ("pkg/hello", QualifiedName("guest", "hello", "pkg")),
        ("/_/hello", QualifiedName("guest", "hello")),
        ("/other/hello", QualifiedName("other", "hello")),
        ("/whisk.system/utils/echo", QualifiedName("whisk.system", "echo", "utils")),
    ],
)
def test_parse(text: str, expected: QualifiedName) -> None:
    assert QualifiedName.parse(text, "guest") == expected


@pytest.mark.parametrize("text", ["", "/", "/ns", "a/b/c", "/a/b/c/d", "a//b"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InvalidName):
        QualifiedName.parse(text, "guest")


def test_paths() -> None:
    fqn = QualifiedName("ns", "act", "pkg")
    assert (fqn.path, fqn.doc_id, str(fqn), fqn.relative) == (
        "ns/pkg",
        "ns/pkg/act",
        "/ns/pkg/act",
        "pkg/act",
    )
    assert fqn.to_json() == {"path": "ns/pkg", "name": "act"}
