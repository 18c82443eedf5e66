"""Qualified entity names as wsk reads them."""

from __future__ import annotations

import re

import pytest

from pywhisk.cli.errors import EXIT_GENERAL, WskError
from pywhisk.cli.names import QualifiedName, parse_name, parse_name_or_fail, qualify


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hello", QualifiedName("_", "", "hello", "hello")),
        ("pkg/hello", QualifiedName("_", "pkg", "hello", "pkg/hello")),
        ("/guest/hello", QualifiedName("guest", "", "hello", "hello")),
        ("/guest/pkg/hello", QualifiedName("guest", "pkg", "hello", "pkg/hello")),
        # three segments without a leading slash are namespace/package/name
        ("guest/pkg/hello", QualifiedName("guest", "pkg", "hello", "pkg/hello")),
        # a bare namespace, as `wsk action list /guest` uses
        ("/guest", QualifiedName("guest", "", "guest", "")),
    ],
)
def test_parse_name(name: str, expected: QualifiedName) -> None:
    assert parse_name(name) == expected


def test_configured_namespace_applies_to_unqualified_names() -> None:
    assert parse_name("hello", "guest").namespace == "guest"
    assert parse_name("/other/hello", "guest").namespace == "other"


def test_full_name() -> None:
    assert parse_name("hello").full_name == "/_/hello"
    assert parse_name("/guest/pkg/hello").full_name == "/guest/pkg/hello"


@pytest.mark.parametrize("name", ["", ".", "/", "//x", "/a/b/c/d", "/ns/./x"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(WskError, match=re.escape("A valid qualified name must be specified.")):
        parse_name(name)


def test_invalid_name_error_for_commands() -> None:
    with pytest.raises(WskError) as caught:
        parse_name_or_fail("/")
    assert caught.value.message == (
        "'/' is not a valid qualified name: A valid qualified name must be specified."
    )
    assert caught.value.exit_code == EXIT_GENERAL
    assert caught.value.display_usage


@pytest.mark.parametrize(
    ("name", "namespace", "expected"),
    [
        ("a", "_", "/_/a"),
        ("pkg/a", "_", "/_/pkg/a"),
        ("a", "guest", "/guest/a"),
        ("/ns/pkg/a", "other", "/ns/pkg/a"),
        ("ns/pkg/a", "_", "/ns/pkg/a"),
    ],
)
def test_qualify(name: str, namespace: str, expected: str) -> None:
    assert qualify(name, namespace) == expected
