"""--web and --web-secure annotations, as wsk computes them."""

from __future__ import annotations

from typing import Any

import pytest

from pywhisk.cli.errors import EXIT_USAGE, WskError
from pywhisk.cli.web import MAX_JS_INT, augment


def annotations_of(action: dict[str, Any]) -> dict[str, Any]:
    return {item["key"]: item["value"] for item in action.get("annotations", [])}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("true", {"web-export": True, "raw-http": False, "final": True}),
        ("YES", {"web-export": True, "raw-http": False, "final": True}),
        ("raw", {"web-export": True, "raw-http": True, "final": True}),
        ("false", {"web-export": False, "raw-http": False, "final": False}),
        ("no", {"web-export": False, "raw-http": False, "final": False}),
    ],
)
def test_web_modes(mode: str, expected: dict[str, bool]) -> None:
    assert annotations_of(augment({"name": "a"}, None, web=mode, web_secure=None)) == expected


def test_invalid_web_mode() -> None:
    with pytest.raises(WskError) as caught:
        augment({}, None, web="maybe", web_secure=None)
    assert caught.value.message == (
        "Invalid argument 'maybe' for --web flag. Valid input consist of "
        "'yes', 'true', 'raw', 'false', or 'no'."
    )
    assert caught.value.exit_code == EXIT_USAGE


def test_web_keeps_command_line_annotations() -> None:
    action = {"annotations": [{"key": "description", "value": "d"}]}
    result = annotations_of(augment(action, None, web="true", web_secure=None))
    assert result["description"] == "d"
    assert result["web-export"] is True


def test_web_on_update_carries_existing_annotations_and_secret() -> None:
    existing = {
        "annotations": [
            {"key": "description", "value": "old"},
            {"key": "require-whisk-auth", "value": "s3cret"},
        ]
    }
    result = annotations_of(augment({}, existing, web="raw", web_secure=None))
    assert result["description"] == "old"
    assert result["require-whisk-auth"] == "s3cret"
    assert result["raw-http"] is True


def test_web_secure_needs_a_web_action() -> None:
    with pytest.raises(WskError, match="--web-secure option is only valid when the --web"):
        augment({}, None, web=None, web_secure="true")
    with pytest.raises(WskError, match="--web-secure"):
        existing = {"annotations": [{"key": "web-export", "value": True}]}
        augment({}, existing, web="false", web_secure="true")


def test_web_secure_values() -> None:
    secret = annotations_of(augment({}, None, web="true", web_secure="abc"))["require-whisk-auth"]
    assert secret == "abc"
    generated = annotations_of(augment({}, None, web="true", web_secure="true"))
    number = generated["require-whisk-auth"]
    assert isinstance(number, int) and 0 <= number <= MAX_JS_INT


def test_web_secure_true_keeps_an_existing_numeric_secret() -> None:
    existing = {
        "annotations": [
            {"key": "web-export", "value": True},
            {"key": "require-whisk-auth", "value": 1234},
        ]
    }
    result = augment({}, existing, web=None, web_secure="true")
    assert annotations_of(result)["require-whisk-auth"] == 1234


def test_web_secure_false_deletes_the_secret() -> None:
    existing = {
        "annotations": [
            {"key": "web-export", "value": True},
            {"key": "require-whisk-auth", "value": "s"},
        ]
    }
    result = augment({}, existing, web=None, web_secure="false")
    assert "require-whisk-auth" not in annotations_of(result)
    assert result["delAnnotations"] == ["require-whisk-auth"]
